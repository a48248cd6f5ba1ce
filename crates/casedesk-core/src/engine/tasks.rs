//! Working a task: assignment, start, completion with an outcome.

use super::permissions::{require, require_assignee, Action};
use super::{plan, routing, Ctx};
use crate::casetype::Then;
use crate::error::{Error, Result};
use crate::fields::check_values;
use crate::model::*;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Refuses a change to a finished task, naming what was attempted.
pub(crate) fn require_open(task: &Task, attempted: &str) -> Result<()> {
    if task.state.is_open() {
        return Ok(());
    }
    Err(Error::InvalidTransition {
        what: format!("task {}", task.id),
        from: task.state.as_str().into(),
        to: attempted.into(),
        detail: " (it is finished)".into(),
    })
}

/// Checks a task-state move against `TaskState::can_move_to`.
pub(crate) fn move_state(task: &Task, to: TaskState) -> Result<()> {
    if task.state.can_move_to(to) {
        Ok(())
    } else {
        Err(Error::InvalidTransition {
            what: format!("task {}", task.id),
            from: task.state.as_str().into(),
            to: to.as_str().into(),
            detail: String::new(),
        })
    }
}

/// An agent taking unassigned work for themselves is a pull from a workbin; anything
/// else is a supervisor's reassignment. Both follow the routing rules.
pub fn assign(ctx: &mut Ctx, task_id: Uuid, assignee: &str) -> Result<()> {
    let task = ctx.task(task_id)?;
    if assignee == ctx.actor.user_id && task.assignee.is_none() && !ctx.actor.has(Role::Supervisor) {
        require(ctx.actor, Action::WorkCases)?;
        return routing::take(ctx, task);
    }
    routing::reassign(ctx, vec![task_id], routing::RouteTarget::Agent { user_id: assignee.to_string() })
}

pub fn start(ctx: &mut Ctx, task_id: Uuid) -> Result<()> {
    let mut task = ctx.task(task_id)?;
    require_assignee(ctx.actor, &task)?;
    move_state(&task, TaskState::InProgress)?;
    let before = json!({ "state": task.state });
    task.state = TaskState::InProgress;
    task.updated_at = ctx.now;
    ctx.tx.put_task(&task)?;
    ctx.emit("task_started", Some(task.case_id), Some(task.id), before, json!({ "state": task.state }))
}

pub fn complete(
    ctx: &mut Ctx,
    task_id: Uuid,
    code: &str,
    form_values: Map<String, Value>,
    reason: Option<String>,
) -> Result<()> {
    let mut task = ctx.task(task_id)?;
    require_assignee(ctx.actor, &task)?;
    let mut case = ctx.case(task.case_id)?;
    let def = ctx.case_type(&case.case_type, case.type_version)?;
    let step = def
        .step(&task.step)
        .ok_or_else(|| Error::Storage(format!("task {} names unknown step {}", task.id, task.step)))?;
    let Some(outcome) = step.outcomes.iter().find(|o| o.code == code) else {
        let codes: Vec<_> = step.outcomes.iter().map(|o| o.code.as_str()).collect();
        return Err(Error::field(
            "outcome",
            format!("'{code}' is not an outcome of step '{}'; choose one of: {}", step.id, codes.join(", ")),
        ));
    };
    let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    let rejection = task.kind == TaskKind::Approval && outcome.code == "reject";
    if (outcome.reason_required || rejection) && reason.is_none() {
        return Err(Error::field("reason", format!("outcome '{}' needs a reason", outcome.code)));
    }
    // A form must be complete to move the work on; other outcomes keep what was typed.
    let moves_on = matches!(outcome.then, Then::Next | Then::Goto);
    let values = if task.kind == TaskKind::Form && (moves_on || !form_values.is_empty()) {
        if moves_on {
            check_values(&step.fields, &form_values)?
        } else {
            check_given(&step.fields, &form_values)?
        }
    } else if !form_values.is_empty() {
        return Err(Error::field("form_values", format!("step '{}' has no form", step.id)));
    } else {
        Map::new()
    };
    if !values.is_empty() {
        let book = super::automation::type_book(ctx, &case.case_type, case.type_version)?;
        if let Some(checks) = book.step_checks.get(&step.id) {
            super::automation::run_checks(ctx, checks, &step.fields, &values)?;
        }
    }
    let to = if outcome.then == Then::Escalate { TaskState::Escalated } else { TaskState::Completed };
    move_state(&task, to)?;
    let before = json!({ "state": task.state });
    task.state = to;
    task.outcome = Some(outcome.code.clone());
    task.form_values = values;
    task.reason = reason;
    task.updated_at = ctx.now;
    task.completed_at = Some(ctx.now);
    ctx.tx.put_task(&task)?;
    ctx.route_agents.extend(task.assignee.clone());
    let after =
        json!({ "state": task.state, "outcome": task.outcome, "form_values": task.form_values, "reason": task.reason });
    ctx.emit(
        if to == TaskState::Escalated { "task_escalated" } else { "task_completed" },
        Some(case.id),
        Some(task.id),
        before,
        after,
    )?;
    plan::follow(ctx, &mut case, &def, &task, outcome)?;
    case.updated_at = ctx.now;
    ctx.tx.put_case(&case)
}

/// Checks the values that were given, without insisting on required ones.
fn check_given(defs: &[crate::fields::FieldDef], values: &Map<String, Value>) -> Result<Map<String, Value>> {
    let relaxed: Vec<_> = defs
        .iter()
        .cloned()
        .map(|mut d| {
            d.required = false;
            d
        })
        .collect();
    check_values(&relaxed, values)
}
