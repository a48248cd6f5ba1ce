//! Timed rules ("3 days before the task is due and still unassigned"; "10 days Waiting
//! on the customer"). After every command, the cases it touched get one timer per timed
//! rule, subject and anchor instant (`rule_timers`); the timer service fires each once.
//! A timer whose anchor has moved since (the status changed, the due time moved) is
//! dropped when it comes due, and the new anchor has its own.

use super::super::{Ctx, TimerSubject};
use super::{books::Rulebook, failed, type_book, workspace_book, Fired, Surroundings};
use crate::casetype::CaseTypeDef;
use crate::error::Result;
use crate::model::*;
use crate::rules::{Action, Anchor, RuleEffect, Trigger};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// The instant a timed rule's anchor is at for a subject, if it has one now; to the
/// millisecond, as the store keeps it. `status_since` is asked only when needed.
fn anchor_at(
    anchor: Anchor,
    field: Option<&str>,
    case: &Case,
    task: Option<&Task>,
    status_since: &mut dyn FnMut() -> Result<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>> {
    use crate::clock::{from_millis, to_millis};
    let exact = match (anchor, task) {
        (Anchor::CaseCreated, _) => Some(case.created_at),
        (Anchor::StatusEntered, _) => Some(status_since()?),
        (Anchor::CaseDue, _) => case.sla.as_ref().filter(|c| c.paused_since.is_none()).and_then(|c| c.due_at),
        (Anchor::CaseField, _) => field
            .and_then(|f| case.fields.get(f))
            .and_then(|v| v.as_str())
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
        (Anchor::TaskCreated, Some(t)) => Some(t.created_at),
        (Anchor::TaskDue, Some(t)) => t.ola_clock.as_ref().filter(|c| c.paused_since.is_none()).and_then(|c| c.due_at),
        (_, None) => None,
    };
    Ok(exact.map(|t| from_millis(to_millis(t))))
}

/// A timer a subject should have now.
struct Wanted {
    key: String,
    subject: Uuid,
    anchor: DateTime<Utc>,
    due: DateTime<Utc>,
}

/// The timers a case and its open tasks should have now.
fn wanted(ctx: &Ctx, books: &[Arc<Rulebook>], case: &Case) -> Result<Vec<Wanted>> {
    let mut out = vec![];
    if case.status_category == StatusCategory::Closed {
        return Ok(out);
    }
    let tasks: Vec<Task> = ctx.tx.tasks_of_case(case.id)?.into_iter().filter(|t| t.state.is_open()).collect();
    let mut since: Option<DateTime<Utc>> = None;
    let mut status_since =
        || -> Result<DateTime<Utc>> { Ok(*since.get_or_insert(super::facts::status_since(ctx, case)?)) };
    for book in books {
        for (r, compiled) in book.rules.iter().enumerate() {
            let Some(timer) = compiled.rule.timer.as_ref().filter(|_| compiled.rule.on == Trigger::Timer) else {
                continue;
            };
            let subjects: Vec<Option<&Task>> =
                if timer.from.is_task() { tasks.iter().map(Some).collect() } else { vec![None] };
            for task in subjects {
                if let Some(at) = anchor_at(timer.from, timer.field.as_deref(), case, task, &mut status_since)? {
                    let subject = task.map_or(case.id, |t| t.id);
                    out.push(Wanted { key: book.key(r), subject, anchor: at, due: at + timer.offset() });
                }
            }
        }
    }
    Ok(out)
}

fn books_of(ctx: &Ctx, case: &Case) -> Result<Vec<Arc<Rulebook>>> {
    let books = vec![workspace_book(ctx)?, type_book(ctx, &case.case_type, case.type_version)?];
    Ok(books.into_iter().filter(|b| b.has_timers()).collect())
}

/// Brings the timers of every case the command touched up to date.
pub fn schedule(ctx: &mut Ctx) -> Result<()> {
    let cases: BTreeSet<Uuid> = ctx.events.iter().filter_map(|e| e.case_id).collect();
    for id in cases {
        schedule_case(ctx, id)?;
    }
    Ok(())
}

/// While set, open cases still to be scheduled after the workspace's rules changed:
/// the id of the last case done (empty: none yet).
pub const SWEEP_KEY: &str = "rules:workspace:sweep";
const SWEEP_BATCH: u32 = 500;

/// The next page of the sweep: schedules up to 500 open cases, so rules added for every
/// type reach the cases nothing else touches.
pub(crate) fn sweep(ctx: &mut Ctx) -> Result<()> {
    let Some(cursor) = ctx.tx.setting(SWEEP_KEY)? else { return Ok(()) };
    let after = cursor.parse().unwrap_or(Uuid::nil());
    let page = ctx.tx.open_cases_after(after, SWEEP_BATCH)?;
    for id in &page {
        schedule_case(ctx, *id)?;
    }
    match page.last().filter(|_| page.len() as u32 == SWEEP_BATCH) {
        Some(last) => ctx.tx.put_setting(SWEEP_KEY, &last.to_string(), ctx.now, &ctx.actor.user_id),
        None => ctx.tx.delete_setting(SWEEP_KEY),
    }
}

fn schedule_case(ctx: &mut Ctx, id: Uuid) -> Result<()> {
    let Some(case) = ctx.tx.case(id)? else { return Ok(()) };
    let books = books_of(ctx, &case)?;
    let existing = ctx.tx.rule_timers_of_case(id)?;
    if books.is_empty() && existing.iter().all(|t| t.fired_at.is_some()) {
        return Ok(());
    }
    let wanted = wanted(ctx, &books, &case)?;
    let same = |w: &Wanted, t: &crate::store::automation::RuleTimer| {
        t.rule_key == w.key && t.subject_id == w.subject && t.anchor_at == w.anchor
    };
    for old in existing.iter().filter(|t| t.fired_at.is_none()) {
        if !wanted.iter().any(|w| same(w, old)) {
            ctx.tx.delete_rule_timer(old.id)?;
        }
    }
    for w in wanted {
        match existing.iter().find(|t| same(&w, t)) {
            // Fired for this anchor already, or waiting at the right instant.
            Some(t) if t.fired_at.is_some() || t.due_at == w.due => {}
            // The rule's offset changed since.
            Some(t) => {
                ctx.tx.move_rule_timer(t.id, w.due)?;
                ctx.rule_timers.push((w.due, TimerSubject::Rule(t.id)));
            }
            None => {
                if let Some(row) = ctx.tx.insert_rule_timer(&w.key, id, w.subject, w.anchor, w.due)? {
                    ctx.rule_timers.push((w.due, TimerSubject::Rule(row)));
                }
            }
        }
    }
    Ok(())
}

/// A timer came due: if its anchor still stands, the rule looks at its subject once.
pub(crate) fn fire(ctx: &mut Ctx, id: i64) -> Result<()> {
    let Some(timer) = ctx.tx.rule_timer(id)? else { return Ok(()) };
    if timer.fired_at.is_some() || timer.due_at > ctx.now {
        return Ok(());
    }
    let Some(mut case) = ctx.tx.case(timer.case_id)? else { return Ok(()) };
    let books = books_of(ctx, &case)?;
    let Some((book, r)) = books.iter().find_map(|b| b.position(&timer.rule_key).map(|r| (b.clone(), r))) else {
        ctx.tx.delete_rule_timer(id)?;
        return Ok(());
    };
    let spec = book.rules[r].rule.timer.clone().expect("timed rules have a timer");
    let task = if spec.from.is_task() { ctx.tx.task(timer.subject_id)?.filter(|t| t.state.is_open()) } else { None };
    let mut since = || super::facts::status_since(ctx, &case);
    let still = case.status_category != StatusCategory::Closed
        && (task.is_some() || !spec.from.is_task())
        && anchor_at(spec.from, spec.field.as_deref(), &case, task.as_ref(), &mut since)? == Some(timer.anchor_at);
    if !still {
        ctx.tx.delete_rule_timer(id)?;
        return Ok(());
    }
    // The rule's offset may have changed since the timer was set.
    let due = timer.anchor_at + spec.offset();
    if due > ctx.now {
        ctx.tx.move_rule_timer(id, due)?;
        ctx.rule_timers.push((due, TimerSubject::Rule(id)));
        return Ok(());
    }
    let def = ctx.case_type(&case.case_type, case.type_version)?;
    let mut facts = Surroundings::of(ctx, &case)?.facts(ctx, &case, &def, task.as_ref())?;
    let key = book.key(r);
    let task_id = task.as_ref().map(|t| t.id);
    let matched = book.matches(r, &mut facts);
    ctx.tx.fire_rule_timer(id, ctx.now, matches!(matched, Ok(true)))?;
    match matched {
        Ok(false) => Ok(()),
        Err(error) => failed(ctx, case.id, task_id, &key, Trigger::Timer, &error),
        Ok(true) => {
            let label = book.rules[r].rule.label.clone();
            let applied = ctx.attempt(|ctx| timed_actions(ctx, &book, r, &mut facts, &mut case, &def, task));
            let fired = match applied {
                Ok((effects, after)) => Fired::Applied { key, label, trigger: Trigger::Timer, effects, after },
                Err(e) => Fired::Failed { key, trigger: Trigger::Timer, error: e.to_string() },
            };
            let case = ctx.case(case.id)?;
            super::record(ctx, &case, task_id, vec![fired])
        }
    }
}

/// A timed rule's actions, run in a savepoint by the caller: all apply or none.
fn timed_actions(
    ctx: &mut Ctx,
    book: &Rulebook,
    r: usize,
    facts: &mut crate::rules::expr::Facts,
    case: &mut Case,
    def: &CaseTypeDef,
    task: Option<Task>,
) -> Result<(Vec<RuleEffect>, Vec<Action>)> {
    let mut effects = vec![];
    let mut after = vec![];
    let rule_key = book.key(r);
    let fail = |e: String| crate::error::Error::Conflict(e);
    for (a, action) in book.rules[r].rule.actions.iter().enumerate() {
        // The task as the earlier actions left it.
        let current = task.as_ref().map(|t| ctx.task(t.id)).transpose()?;
        let priority_to = match action {
            Action::SetPriority(p) => Some(*p),
            Action::RaisePriority(n) => Some(super::raised(current.as_ref().map_or(case.priority, |t| t.priority), *n)),
            _ => None,
        };
        match (action, priority_to) {
            (_, Some(to)) => match current {
                Some(mut t) => {
                    effects.push(super::effect(action, format!("task {}: {} → {to}", t.name, t.priority)));
                    if t.priority != to {
                        let before = json!({ "priority": t.priority });
                        t.priority = to;
                        t.updated_at = ctx.now;
                        ctx.tx.put_task(&t)?;
                        ctx.route_tasks.push(t.id);
                        ctx.emit(
                            "task_priority_changed",
                            Some(case.id),
                            Some(t.id),
                            before,
                            json!({ "priority": to, "rule": rule_key }),
                        )?;
                    }
                }
                None => {
                    effects.push(super::effect(action, format!("case: {} → {to}", case.priority)));
                    if case.priority != to {
                        let before = json!({ "priority": case.priority });
                        case.priority = to;
                        case.updated_at = ctx.now;
                        ctx.tx.put_case(case)?;
                        ctx.emit(
                            "case_priority_changed",
                            Some(case.id),
                            None,
                            before,
                            json!({ "priority": to, "rule": rule_key }),
                        )?;
                    }
                }
            },
            (Action::SetOwner(_), _) => {
                let owner =
                    super::text(book, r, a, facts).and_then(|id| super::existing_user(ctx, &id)).map_err(fail)?;
                effects.push(super::effect(action, format!("{} → {owner}", case.owner.as_deref().unwrap_or("nobody"))));
                let before = json!({ "owner": case.owner });
                case.owner = Some(owner.clone());
                case.updated_at = ctx.now;
                ctx.tx.put_case(case)?;
                ctx.emit(
                    "case_owner_changed",
                    Some(case.id),
                    None,
                    before,
                    json!({ "owner": owner, "rule": rule_key }),
                )?;
            }
            (Action::ChangeStatus { status, reason }, _) => {
                effects.push(super::effect(action, format!("{} → {status}", case.status)));
                super::super::cases::change_status(ctx, case.id, status, reason.clone())?;
                *case = ctx.case(case.id)?;
            }
            (Action::CloseCase { .. }, _) if case.status_category == StatusCategory::Closed => {
                effects.push(super::effect(action, format!("already closed ({})", case.status)));
            }
            (Action::CloseCase { status, reason }, _) => {
                let to = status.clone().unwrap_or_else(|| def.statuses.on_complete.clone());
                effects.push(super::effect(action, format!("{} → {to}: {reason}", case.status)));
                super::super::plan::close_case(ctx, case, &to, Some(reason.clone()))?;
            }
            (Action::Notify { .. } | Action::AddNote(_), _) => {
                effects.push(super::effect(action, super::describe_after(action)));
                after.push(action.clone());
            }
            (other, _) => return Err(fail(format!("{} cannot act in a timed rule", other.name()))),
        }
    }
    Ok((effects, after))
}

/// When a timed rule would look at `task` (or the case), for the dry run.
pub(super) fn due_for(ctx: &Ctx, book: &Rulebook, case: &Case, task: Option<&Task>) -> Result<Option<DateTime<Utc>>> {
    let Some(spec) = book.rules[0].rule.timer.as_ref() else { return Ok(None) };
    let mut since = || super::facts::status_since(ctx, case);
    Ok(anchor_at(spec.from, spec.field.as_deref(), case, task, &mut since)?.map(|at| at + spec.offset()))
}

/// A timed rule's actions in the dry run's transaction (rolled back afterwards).
pub(super) fn try_actions(
    ctx: &mut Ctx,
    book: &Rulebook,
    case: &Case,
    def: &CaseTypeDef,
    task: Option<Task>,
    facts: &mut crate::rules::expr::Facts,
) -> std::result::Result<Vec<RuleEffect>, String> {
    let mut case = case.clone();
    timed_actions(ctx, book, 0, facts, &mut case, def, task).map(|(effects, _)| effects).map_err(|e| e.to_string())
}
