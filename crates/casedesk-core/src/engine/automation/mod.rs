//! Business rules at work (the rules themselves are data: see `crate::rules`).
//!
//! - [`classify`]: on case creation, through any path, rules may change the type,
//!   intent, priority and owner before the case is written.
//! - [`on_task_created`]: before a task is routed, rules add its routing requirements.
//! - `timed`: timed rules, scheduled per subject and fired once by the timer service.
//! - `trial`: a dry run of a rule against an existing case, changing nothing.
//!
//! A rule that acts leaves `rule_applied` in the case history, naming the rule and what
//! it did; a rule that fails is skipped, leaves `rule_failed`, and never blocks the case.

mod books;
mod facts;
mod timed;
mod trial;

pub use books::Rulebook;
pub(crate) use books::{type_book, workspace_book};
pub(crate) use facts::{customer_map, facts, Surroundings};
pub(crate) use timed::{fire, sweep};
pub use timed::{schedule, SWEEP_KEY};
pub use trial::{RuleTrial, TrialSubject};

use super::Ctx;
use crate::casetype::CaseTypeDef;
use crate::error::{Error, Result};
use crate::model::*;
use crate::rules::{expr, Action, RuleEffect, Trigger};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use uuid::Uuid;

pub const WORKSPACE_RULES_KEY: &str = "rules:workspace";

/// What one rule did, to be written into the history once the subject exists.
#[derive(Debug, Clone)]
pub(crate) enum Fired {
    Applied { key: String, label: String, trigger: Trigger, effects: Vec<RuleEffect>, after: Vec<Action> },
    Failed { key: String, trigger: Trigger, error: String },
}

fn effect(action: &Action, detail: impl Into<String>) -> RuleEffect {
    RuleEffect { action: action.name().to_string(), detail: detail.into() }
}

/// Rule-level failures are messages; the rule is skipped.
type Outcome<T> = std::result::Result<T, String>;

/// The text an action names: as written, or computed.
fn text(book: &Rulebook, rule: usize, action: usize, facts: &mut expr::Facts) -> Outcome<String> {
    match book.text(rule, action) {
        Some(Ok(ast)) => expr::eval_text(ast, facts),
        Some(Err(e)) => Err(e.clone()),
        None => match &book.rules[rule].rule.actions[action] {
            Action::SetOwner(t) | Action::RequireLanguage(t) | Action::RouteTo(t) | Action::PreferAgent(t) => match t {
                crate::rules::Text::Literal(s) => Ok(s.clone()),
                crate::rules::Text::Expr { .. } => Err("the expression was not compiled".into()),
            },
            _ => Err("this action has no text".into()),
        },
    }
}

fn raised(priority: Priority, levels: u8) -> Priority {
    priority.saturating_sub(levels).max(1)
}

fn existing_user(ctx: &Ctx, id: &str) -> Outcome<String> {
    match ctx.tx.user(id) {
        Ok(Some(u)) => Ok(u.id),
        Ok(None) => Err(format!("user '{id}' does not exist")),
        Err(e) => Err(e.to_string()),
    }
}

/// A queue or workbin that exists: defined by an admin, or a user's personal workbin.
fn existing_queue(ctx: &Ctx, id: &str) -> Outcome<()> {
    let personal = id.strip_prefix("personal:").map(|user| existing_user(ctx, user).is_ok());
    match (personal, ctx.tx.queue(id)) {
        (Some(true), _) | (None, Ok(Some(_))) => Ok(()),
        (_, Err(e)) => Err(e.to_string()),
        _ => Err(format!("'{id}' is not a defined queue or workbin")),
    }
}

/// The case as it will be created: rules may change its type, intent, priority and
/// owner. Returns the definition it ends with and what the rules did.
pub(crate) fn classify(
    ctx: &Ctx,
    draft: &mut Case,
    mut def: Arc<CaseTypeDef>,
    customer: Option<&Customer>,
    channel: Option<&str>,
) -> Result<(Arc<CaseTypeDef>, Vec<Fired>)> {
    let mut fired = vec![];
    let mut retyped = false;
    let customer = customer_map(ctx, customer)?;
    // Built once, and again only after a rule changed the draft.
    let mut known: Option<expr::Facts> = None;
    // The workspace's rules, then the type's; and if a rule changed the type, the new
    // type's (the type changes once).
    let mut book = workspace_book(ctx)?;
    let mut type_done: Option<(String, u32)> = None;
    loop {
        for (r, compiled) in book.rules.iter().enumerate() {
            if compiled.rule.on != Trigger::CaseCreated {
                continue;
            }
            let facts = match &mut known {
                Some(f) => f,
                None => known.insert(facts(ctx, draft, &def, &customer, channel, ctx.now, None)?),
            };
            let key = book.key(r);
            match book.matches(r, facts) {
                Err(error) => fired.push(Fired::Failed { key, trigger: Trigger::CaseCreated, error }),
                Ok(false) => {}
                Ok(true) => {
                    // All or nothing: the draft, its type and the one change of type.
                    let (mut trial, mut trial_def, mut trial_retyped) = (draft.clone(), def.clone(), retyped);
                    match case_actions(ctx, &book, r, facts, &mut trial, &mut trial_def, &mut trial_retyped)? {
                        Ok((effects, after)) => {
                            known = None;
                            let type_changed = trial.case_type != draft.case_type;
                            (*draft, def, retyped) = (trial, trial_def, trial_retyped);
                            let label = compiled.rule.label.clone();
                            fired.push(Fired::Applied { key, label, trigger: Trigger::CaseCreated, effects, after });
                            // A type's rules speak of its own fields: once the case is of
                            // another type, the new type's rules take over.
                            if type_changed && book.origin != "*" {
                                break;
                            }
                        }
                        Err(error) => fired.push(Fired::Failed { key, trigger: Trigger::CaseCreated, error }),
                    }
                }
            }
        }
        let current = (draft.case_type.clone(), draft.type_version);
        if type_done.as_ref() == Some(&current) {
            break;
        }
        book = type_book(ctx, &current.0, current.1)?;
        type_done = Some(current);
    }
    Ok((def, fired))
}

type Applied = (Vec<RuleEffect>, Vec<Action>);

/// A creation rule's actions on the draft case; all or none (the caller keeps the draft
/// only on success).
fn case_actions(
    ctx: &Ctx,
    book: &Rulebook,
    r: usize,
    facts: &mut expr::Facts,
    draft: &mut Case,
    def: &mut Arc<CaseTypeDef>,
    retyped: &mut bool,
) -> Result<Outcome<Applied>> {
    let mut effects = vec![];
    let mut after = vec![];
    for (a, action) in book.rules[r].rule.actions.iter().enumerate() {
        match action {
            Action::SetCaseType(t) => {
                if *retyped {
                    return Ok(Err("the case type was already changed by a rule; it changes once".into()));
                }
                let Some((version, _)) = ctx.tx.latest_case_type(t)? else {
                    return Ok(Err(format!("'{t}' is not a published case type")));
                };
                let new = ctx.case_type(t, version)?;
                let new_book = type_book(ctx, t, version)?;
                let fields = match crate::fields::check_values(&new.fields, &draft.fields)
                    .and_then(|f| check_form(&new_book.checks, &new.fields, &f, ctx.now).map(|_| f))
                {
                    Ok(f) => f,
                    Err(e) => return Ok(Err(format!("the case's fields do not fit {}: {e}", new.name))),
                };
                if draft.intent.as_ref().is_some_and(|i| !new.intents.iter().any(|n| &n.id == i)) {
                    draft.intent = None;
                }
                effects.push(effect(action, format!("{} → {}", draft.type_name, new.name)));
                // A priority left at the old type's default takes the new type's.
                if draft.priority == def.default_priority {
                    draft.priority = new.default_priority;
                }
                draft.case_type = new.id.clone();
                draft.type_version = version;
                draft.type_name = new.name.clone();
                draft.fields = fields;
                *def = new;
                *retyped = true;
            }
            Action::SetIntent(intent) => {
                if !def.intents.iter().any(|i| &i.id == intent) {
                    return Ok(Err(format!("'{intent}' is not an intent of {}", def.name)));
                }
                effects.push(effect(action, format!("{} → {intent}", draft.intent.as_deref().unwrap_or("none"))));
                draft.intent = Some(intent.clone());
            }
            Action::SetPriority(p) => {
                effects.push(effect(action, format!("{} → {p}", draft.priority)));
                draft.priority = *p;
            }
            Action::RaisePriority(n) => {
                let to = raised(draft.priority, *n);
                effects.push(effect(action, format!("{} → {to}", draft.priority)));
                draft.priority = to;
            }
            Action::SetOwner(_) => match text(book, r, a, facts).and_then(|id| existing_user(ctx, &id)) {
                Ok(owner) => {
                    effects.push(effect(action, format!("{} → {owner}", draft.owner.as_deref().unwrap_or("nobody"))));
                    draft.owner = Some(owner);
                }
                Err(e) => return Ok(Err(e)),
            },
            Action::Notify { .. } | Action::AddNote(_) => {
                effects.push(effect(action, describe_after(action)));
                after.push(action.clone());
            }
            other => return Ok(Err(format!("{} cannot act on case creation", other.name()))),
        }
    }
    Ok(Ok((effects, after)))
}

fn describe_after(action: &Action) -> String {
    match action {
        Action::Notify { recipients, channel, .. } => {
            let who: Vec<&str> = recipients
                .iter()
                .map(|r| match r {
                    crate::notify::Recipient::Customer => "the customer",
                    crate::notify::Recipient::Assignee => "the assignee",
                    crate::notify::Recipient::Owner => "the owner",
                    crate::notify::Recipient::Supervisor => "the supervisors",
                    crate::notify::Recipient::QueueMembers => "the queue's agents",
                })
                .collect();
            format!("tell {} by {}", who.join(", "), channel.as_str())
        }
        Action::AddNote(body) => format!("note: {body}"),
        other => other.name().to_string(),
    }
}

/// Where a task comes from, besides its step: an explicit queue (an escalation target)
/// or preferred agent (verification by the original advisor) outranks a rule.
pub(crate) struct TaskOrigin {
    pub explicit_queue: bool,
    pub explicit_preferred: bool,
}

/// The task as it will be created: rules add routing requirements, a queue, a preferred
/// agent, a priority. Called before the task is routed.
pub(crate) fn on_task_created(
    ctx: &Ctx,
    case: &Case,
    def: &CaseTypeDef,
    task: &mut Task,
    origin: &TaskOrigin,
) -> Result<Vec<Fired>> {
    let books = [workspace_book(ctx)?, type_book(ctx, &case.case_type, case.type_version)?];
    if !books.iter().any(|b| b.rules.iter().any(|r| r.rule.on == Trigger::TaskCreated)) {
        return Ok(vec![]);
    }
    let around = Surroundings::of(ctx, case)?;
    let mut fired = vec![];
    // Built once, and again only after a rule changed the task.
    let mut known: Option<expr::Facts> = None;
    for book in &books {
        for (r, compiled) in book.rules.iter().enumerate() {
            if compiled.rule.on != Trigger::TaskCreated {
                continue;
            }
            let facts = match &mut known {
                Some(f) => f,
                None => known.insert(around.facts(ctx, case, def, Some(task))?),
            };
            let key = book.key(r);
            match book.matches(r, facts) {
                Err(error) => fired.push(Fired::Failed { key, trigger: Trigger::TaskCreated, error }),
                Ok(false) => {}
                Ok(true) => {
                    let mut trial = task.clone();
                    match task_actions(ctx, book, r, facts, &mut trial, origin) {
                        Ok((effects, after)) => {
                            known = None;
                            *task = trial;
                            let label = compiled.rule.label.clone();
                            fired.push(Fired::Applied { key, label, trigger: Trigger::TaskCreated, effects, after });
                        }
                        Err(error) => fired.push(Fired::Failed { key, trigger: Trigger::TaskCreated, error }),
                    }
                }
            }
        }
    }
    Ok(fired)
}

fn task_actions(
    ctx: &Ctx,
    book: &Rulebook,
    r: usize,
    facts: &mut expr::Facts,
    task: &mut Task,
    origin: &TaskOrigin,
) -> Outcome<Applied> {
    let mut effects = vec![];
    let mut after = vec![];
    for (a, action) in book.rules[r].rule.actions.iter().enumerate() {
        match action {
            Action::SetPriority(p) => {
                effects.push(effect(action, format!("{} → {p}", task.priority)));
                task.priority = *p;
            }
            Action::RaisePriority(n) => {
                let to = raised(task.priority, *n);
                effects.push(effect(action, format!("{} → {to}", task.priority)));
                task.priority = to;
            }
            Action::RequireSkill { skill, min } => {
                let have = task.requirements.skills.entry(skill.clone()).or_insert(0);
                *have = (*have).max(*min);
                effects.push(effect(action, format!("{skill} at least {have}")));
            }
            Action::RequireLanguage(_) => {
                let lang = text(book, r, a, facts)?;
                effects.push(effect(action, lang.clone()));
                task.requirements.language = Some(lang);
            }
            Action::RouteTo(_) => {
                let queue = text(book, r, a, facts)?;
                if origin.explicit_queue {
                    effects.push(effect(
                        action,
                        format!("not applied: the task was sent to {}", task.queue.as_deref().unwrap_or("?")),
                    ));
                } else {
                    existing_queue(ctx, &queue)?;
                    effects.push(effect(action, format!("{} → {queue}", task.queue.as_deref().unwrap_or("none"))));
                    task.queue = Some(queue);
                }
            }
            Action::PreferAgent(_) => {
                if origin.explicit_preferred {
                    effects.push(effect(action, "not applied: the task goes back to the agent who did the step"));
                } else {
                    let agent = existing_user(ctx, &text(book, r, a, facts)?)?;
                    effects.push(effect(action, agent.clone()));
                    task.preferred_agent = Some(agent);
                }
            }
            Action::Notify { .. } | Action::AddNote(_) => {
                effects.push(effect(action, describe_after(action)));
                after.push(action.clone());
            }
            other => return Err(format!("{} cannot act on task creation", other.name())),
        }
    }
    Ok((effects, after))
}

/// Writes what the rules did into the history of `case` (and `task`), then runs what
/// they asked for afterwards (notifications, notes). A failing follow-up is logged as
/// the rule's failure and changes nothing.
pub(crate) fn record(ctx: &mut Ctx, case: &Case, task: Option<Uuid>, fired: Vec<Fired>) -> Result<()> {
    for f in fired {
        match f {
            Fired::Failed { key, trigger, error } => failed(ctx, case.id, task, &key, trigger, &error)?,
            Fired::Applied { key, label, trigger, effects, after } => {
                ctx.emit(
                    "rule_applied",
                    Some(case.id),
                    task,
                    Value::Null,
                    json!({ "rule": key, "label": label, "trigger": trigger, "effects": effects }),
                )?;
                let event = ctx.events.last().cloned().expect("just emitted");
                for action in after {
                    let outcome = ctx.attempt(|ctx| follow_up(ctx, case, &event, &key, &action));
                    if let Err(e) = outcome {
                        failed(ctx, case.id, task, &key, trigger, &format!("{}: {e}", action.name()))?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn failed(ctx: &mut Ctx, case: Uuid, task: Option<Uuid>, key: &str, trigger: Trigger, error: &str) -> Result<()> {
    ctx.emit("rule_failed", Some(case), task, Value::Null, json!({ "rule": key, "trigger": trigger, "error": error }))
}

fn follow_up(ctx: &mut Ctx, case: &Case, event: &Event, key: &str, action: &Action) -> Result<()> {
    match action {
        Action::Notify { .. } => {
            let rule = action.as_notification_rule(format!("rule:{key}"), Some(case.case_type.clone()));
            super::notifications::deliver_for_rule(ctx, event, case, &rule.expect("a notify action"))
        }
        Action::AddNote(body) => super::cases::add_note(ctx, case.id, body.clone()),
        other => Err(Error::Storage(format!("{} is not a follow-up action", other.name()))),
    }
}

/// The cross-field checks of a form: a check applies when its field has a value. A
/// check that cannot run (e.g. compares a date with nothing) is skipped with a warning.
pub(crate) fn run_checks(
    ctx: &mut Ctx,
    checks: &[books::CompiledCheck],
    fields: &[crate::fields::FieldDef],
    values: &Map<String, Value>,
) -> Result<()> {
    let skipped = check_form(checks, fields, values, ctx.now)?;
    ctx.warnings.extend(skipped);
    Ok(())
}

/// [`run_checks`] without a command: the value refused, or the checks that could not run.
fn check_form(
    checks: &[books::CompiledCheck],
    fields: &[crate::fields::FieldDef],
    values: &Map<String, Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>> {
    let mut skipped = vec![];
    if checks.is_empty() {
        return Ok(skipped);
    }
    let mut f = expr::Facts::default();
    for def in fields {
        f.set_json(&def.id, values.get(&def.id).unwrap_or(&Value::Null));
    }
    facts::set_time(&mut f, now);
    for c in checks {
        if values.get(&c.check.field).is_none_or(Value::is_null) {
            continue;
        }
        match c.ast.as_ref().map_err(Clone::clone).and_then(|ast| expr::eval_bool(ast, &mut f)) {
            Ok(true) => {}
            Ok(false) => return Err(Error::field(&c.check.field, c.check.message.clone())),
            Err(e) => skipped.push(format!("the check on '{}' could not run: {e}", c.check.field)),
        }
    }
    Ok(skipped)
}

/// The case type's link templates filled in for `case` (with the notification
/// templates' variables). A link that names an empty value, or fails to render, is
/// left out.
pub(crate) fn case_links(
    def: &CaseTypeDef,
    case: &Case,
    customer: Option<&Customer>,
    last: Option<&Event>,
) -> Vec<CaseLink> {
    let Some(event) = last else { return vec![] };
    let variables = crate::notify::template::variables(&crate::notify::template::Subject {
        event,
        case,
        def,
        task: None,
        customer,
        owner_name: None,
        assignee_name: None,
        zone: chrono_tz::Tz::UTC,
    });
    def.links
        .iter()
        .filter(|l| !crate::notify::template::names_a_blank(&l.url, &variables))
        .filter_map(|l| {
            let url = crate::notify::template::render(&l.url, &variables).ok()?;
            Some(CaseLink { label: l.label.clone(), url })
        })
        .collect()
}
