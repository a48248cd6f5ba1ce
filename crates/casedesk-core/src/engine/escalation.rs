//! Escalation: automatic when a task's OLA is breached, manual with a reason, along the
//! step's chain (level 1 → 2 → …; the end is reported, never looped). A task the agent
//! has open on screen escalates when they close it unfinished, not while they work.
//! Also records when clocks reach at-risk and breach, once each.

use super::permissions::{require, require_assignee, Action};
use super::timers::TimerSubject;
use super::{plan, Ctx};
use crate::error::{Error, Result};
use crate::model::{SlaClock, StatusCategory, Task, TaskState};
use serde_json::json;
use uuid::Uuid;

/// Moves `task` one level up its step's chain: the task ends as escalated, and a new task
/// for the same step waits at the next target with a raised priority. At the chain's end
/// nothing moves and the end is reported (once).
pub fn escalate(ctx: &mut Ctx, mut task: Task, how: &str, reason: Option<String>) -> Result<bool> {
    let mut case = ctx.case(task.case_id)?;
    let def = ctx.case_type(&case.case_type, case.type_version)?;
    let step = def.step(&task.step).ok_or_else(|| Error::Storage(format!("task {} names unknown step", task.id)))?;
    let level = task.escalation_level + 1;
    let Some(target) = step.escalation_target(level).cloned() else {
        if ctx.tx.record_breach(task.id, "ola", "chain_end", ctx.now, ctx.now)? {
            ctx.emit(
                "escalation_chain_end",
                Some(task.case_id),
                Some(task.id),
                json!({ "level": task.escalation_level }),
                json!({ "how": how, "reason": reason }),
            )?;
        }
        return Ok(false);
    };
    super::tasks::move_state(&task, TaskState::Escalated)?;
    let before = json!({ "state": task.state, "level": task.escalation_level, "queue": task.queue });
    let from_assignee = task.assignee.clone();
    ctx.route_agents.extend(task.assignee.clone().into_iter().chain(task.offered_to.take()));
    task.state = TaskState::Escalated;
    task.outcome = Some("escalated".into());
    task.reason = reason.clone();
    task.offer_expires_at = None;
    task.on_screen_by = None;
    task.updated_at = ctx.now;
    task.completed_at = Some(ctx.now);
    ctx.tx.put_task(&task)?;
    let at = def.locate_step(&task.step).expect("the step exists");
    let placement = plan::Placement {
        queue: Some(target.clone()),
        escalation_level: level,
        // One level more urgent than the task it replaces.
        priority: Some(task.priority.saturating_sub(1).max(1)),
        ..plan::Placement::default()
    };
    let next = plan::create_task(ctx, &mut case, &def, at, placement)?;
    ctx.emit(
        "task_escalated",
        Some(task.case_id),
        Some(task.id),
        before,
        json!({
            "how": how,
            "reason": reason,
            "level": level,
            "to": target,
            "new_task": next.id,
            "priority": next.priority,
            "from_assignee": from_assignee
        }),
    )?;
    ctx.tx.put_case(&case)?;
    Ok(true)
}

/// An agent (or their supervisor) escalates a task by hand.
pub fn escalate_by_hand(ctx: &mut Ctx, task_id: Uuid, reason: String) -> Result<()> {
    let task = ctx.task(task_id)?;
    if !ctx.actor.has(crate::model::Role::Supervisor) {
        require_assignee(ctx.actor, &task)?;
    }
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        return Err(Error::field("reason", "an escalation needs a reason"));
    }
    super::tasks::require_open(&task, TaskState::Escalated.as_str())?;
    if !escalate(ctx, task, "manual", Some(reason))? {
        return Err(Error::Conflict("the escalation chain of this step has no further level".into()));
    }
    Ok(())
}

pub fn open_on_screen(ctx: &mut Ctx, task_id: Uuid) -> Result<()> {
    let mut task = ctx.task(task_id)?;
    require_assignee(ctx.actor, &task)?;
    if task.on_screen_by.as_deref() == Some(ctx.actor.user_id.as_str()) {
        return Ok(());
    }
    task.on_screen_by = Some(ctx.actor.user_id.clone());
    ctx.tx.put_task(&task)?;
    ctx.emit(
        "task_opened_on_screen",
        Some(task.case_id),
        Some(task.id),
        json!(null),
        json!({ "by": ctx.actor.user_id }),
    )
}

/// Closing the task's screen: a breach that came while it was open escalates it now.
pub fn close_on_screen(ctx: &mut Ctx, task_id: Uuid) -> Result<()> {
    let mut task = ctx.task(task_id)?;
    if task.on_screen_by.as_deref() != Some(ctx.actor.user_id.as_str()) {
        return Ok(());
    }
    task.on_screen_by = None;
    ctx.tx.put_task(&task)?;
    ctx.emit(
        "task_closed_on_screen",
        Some(task.case_id),
        Some(task.id),
        json!(null),
        json!({ "by": ctx.actor.user_id }),
    )?;
    let breached = task.ola_clock.as_ref().is_some_and(|c| c.breach_noted);
    if breached && task.state.is_open() {
        escalate(ctx, task, "automatic", Some("OLA breached while the task was on screen".into()))?;
    }
    Ok(())
}

/// What the timer found due: for each clock, record at-risk and breach once; a breached
/// task escalates (unless it is on screen).
pub fn tick(ctx: &mut Ctx, subjects: Vec<TimerSubject>) -> Result<()> {
    require(ctx.actor, Action::AssignOthers)?;
    for subject in subjects {
        match subject {
            TimerSubject::Task(id) => {
                let Some(mut task) = ctx.tx.task(id)? else { continue };
                let Some(mut clock) = task.ola_clock.clone().filter(|_| task.state.is_open()) else { continue };
                let breached = note(ctx, &mut clock, id, Some(task.case_id), Some(id), "ola", "task")?;
                task.ola_clock = Some(clock.clone());
                ctx.tx.put_task(&task)?;
                ctx.timers.push((clock, subject));
                if breached && task.on_screen_by.is_none() {
                    escalate(ctx, task, "automatic", Some("OLA breached".into()))?;
                }
            }
            TimerSubject::Case(id) => {
                let Some(mut case) = ctx.tx.case(id)? else { continue };
                let Some(mut clock) = case.sla.clone().filter(|_| case.status_category != StatusCategory::Closed)
                else {
                    continue;
                };
                note(ctx, &mut clock, id, Some(id), None, "sla", "case")?;
                case.sla = Some(clock.clone());
                ctx.tx.put_case(&case)?;
                ctx.timers.push((clock, subject));
            }
            TimerSubject::Rule(id) => super::automation::fire(ctx, id)?,
        }
    }
    Ok(())
}

/// Records the instants `clock` has reached by now; true if it was breached just now.
fn note(
    ctx: &mut Ctx,
    clock: &mut SlaClock,
    subject: Uuid,
    case_id: Option<Uuid>,
    task_id: Option<Uuid>,
    kind: &str,
    who: &str,
) -> Result<bool> {
    if clock.paused_since.is_some() {
        return Ok(false);
    }
    if let (false, Some(at)) = (clock.at_risk_noted, clock.at_risk_at) {
        if at <= ctx.now {
            clock.at_risk_noted = true;
            if ctx.tx.record_breach(subject, kind, "at_risk", at, ctx.now)? {
                ctx.emit(
                    &format!("{who}_at_risk"),
                    case_id,
                    task_id,
                    json!(null),
                    json!({ "clock": kind, "at_risk_at": at }),
                )?;
            }
        }
    }
    if let (false, Some(due)) = (clock.breach_noted, clock.due_at) {
        if due <= ctx.now {
            clock.breach_noted = true;
            if ctx.tx.record_breach(subject, kind, "breached", due, ctx.now)? {
                ctx.emit(
                    &format!("{who}_breached"),
                    case_id,
                    task_id,
                    json!(null),
                    json!({ "clock": kind, "due_at": due }),
                )?;
                return Ok(true);
            }
        }
    }
    Ok(false)
}
