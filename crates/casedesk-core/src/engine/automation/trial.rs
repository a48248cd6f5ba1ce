//! The dry run: an admin tries a rule against an existing case before saving it. The
//! rule is checked as it would be when saved, then evaluated against the case (and each
//! open task, for task rules) in a transaction that is always rolled back.

use super::super::{Ctx, Engine};
use super::books::Rulebook;
use super::{case_actions, task_actions, timed, Surroundings, TaskOrigin};
use crate::error::Result;
use crate::model::*;
use crate::rules::{RuleEffect, Scope, Trigger};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;
use ts_rs::TS;

/// What a rule would do to a case, without doing it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleTrial {
    pub rule: String,
    pub subjects: Vec<TrialSubject>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrialSubject {
    /// "case TEC-000001" or "task Diagnose".
    pub subject: String,
    pub matched: bool,
    pub effects: Vec<RuleEffect>,
    /// Why the rule would fail (it would be skipped and logged).
    pub error: Option<String>,
    /// For timed rules: when it would look at this subject.
    pub due_at: Option<DateTime<Utc>>,
}

impl Engine {
    /// Tries `source` (one rule, as TOML) against the case `reference`; `workspace` says
    /// whether it is meant for the workspace's rules or the case's type.
    pub fn try_rule(&self, actor: &Actor, reference: &str, source: &str, workspace: bool) -> Result<RuleTrial> {
        let found = self.case_by_reference(reference)?;
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        db.trial(|tx| {
            let actor = &super::super::effective_actor(tx, actor)?;
            super::super::permissions::require(actor, super::super::permissions::Action::Configure)?;
            // Rules act as the system does (a timed rule's actions are the system's).
            let system = Actor::system();
            let mut ctx = Ctx::new(tx, &system, self);
            let case = found.ok_or_else(|| crate::error::Error::not_found("case", reference))?;
            let def = ctx.case_type(&case.case_type, case.type_version)?;
            let scope = if workspace { Scope::Workspace } else { Scope::CaseType(&def) };
            let rule = crate::casetype::load_rule("rule", source, scope)?;
            let book = Rulebook::build(if workspace { "*" } else { &def.id }, std::slice::from_ref(&rule), scope);
            let subjects = try_book(&mut ctx, &book, &case, def)?;
            Ok(RuleTrial { rule: rule.id, subjects })
        })
    }
}

fn try_book(
    ctx: &mut Ctx,
    book: &Rulebook,
    case: &Case,
    def: Arc<crate::casetype::CaseTypeDef>,
) -> Result<Vec<TrialSubject>> {
    let rule = &book.rules[0].rule;
    let around = Surroundings::of(ctx, case)?;
    let open: Vec<Task> = ctx.tx.tasks_of_case(case.id)?.into_iter().filter(|t| t.state.is_open()).collect();
    let task_rule = match rule.on {
        Trigger::TaskCreated => true,
        Trigger::Timer => rule.timer.as_ref().is_some_and(|t| t.from.is_task()),
        Trigger::CaseCreated => false,
    };
    let subjects: Vec<Option<&Task>> = if task_rule { open.iter().map(Some).collect() } else { vec![None] };
    let mut out = vec![];
    for task in subjects {
        let name = task.map_or(format!("case {}", case.reference), |t| format!("task {}", t.name));
        let mut facts = around.facts(ctx, case, &def, task)?;
        let due_at = match rule.on {
            Trigger::Timer => timed::due_for(ctx, book, case, task)?,
            _ => None,
        };
        let mut subject = TrialSubject { subject: name, matched: false, effects: vec![], error: None, due_at };
        match book.matches(0, &mut facts) {
            Err(e) => subject.error = Some(e),
            Ok(false) => {}
            Ok(true) => {
                subject.matched = true;
                let done: std::result::Result<Vec<RuleEffect>, String> = match (rule.on, task) {
                    (Trigger::CaseCreated, _) => {
                        let (mut draft, mut d) = (case.clone(), def.clone());
                        case_actions(ctx, book, 0, &mut facts, &mut draft, &mut d, &mut false)?.map(|(e, _)| e)
                    }
                    (Trigger::TaskCreated, Some(t)) => {
                        let origin = TaskOrigin { explicit_queue: false, explicit_preferred: false };
                        task_actions(ctx, book, 0, &mut facts, &mut t.clone(), &origin).map(|(e, _)| e)
                    }
                    // Timed actions really run here, each subject in a savepoint rolled
                    // back after it (and the whole transaction is rolled back too).
                    _ => {
                        let mut done = Err("not run".to_string());
                        let _ = ctx.attempt(|ctx| {
                            let fresh = ctx.case(case.id)?;
                            done = timed::try_actions(ctx, book, &fresh, &def, task.cloned(), &mut facts);
                            Err::<(), _>(crate::error::Error::Conflict("a dry run changes nothing".into()))
                        });
                        done
                    }
                };
                match done {
                    Ok(effects) => subject.effects = effects,
                    Err(e) => subject.error = Some(e),
                }
            }
        }
        out.push(subject);
    }
    Ok(out)
}
