//! A supervisor moves work: reassign one, many or everything of an agent; change priority.

use super::super::permissions::{require, Action};
use super::super::tasks::require_open;
use super::super::Ctx;
use super::{assign_to, RouteTarget};
use crate::error::{Error, Result};
use crate::model::{Task, TaskState};
use serde_json::json;
use uuid::Uuid;

// ---- supervisor ---------------------------------------------------------------------

fn open_task(ctx: &Ctx, id: Uuid) -> Result<Task> {
    let task = ctx.task(id)?;
    require_open(&task, "reassigned")?;
    Ok(task)
}

fn send(ctx: &mut Ctx, task: Task, to: &RouteTarget) -> Result<()> {
    match to {
        RouteTarget::Agent { user_id } => {
            let agent = ctx
                .tx
                .agent(user_id)?
                .ok_or_else(|| Error::field("to.user_id", format!("'{user_id}' is not an agent")))?;
            let already_theirs = task.assignee.as_deref() == Some(user_id.as_str());
            if !already_theirs && !agent.has_room_for(task.kind) {
                return Err(Error::Conflict(format!("{user_id} has no free capacity for a {:?} task", task.kind)));
            }
            if already_theirs {
                return Ok(());
            }
            let task = if task.state == TaskState::Offered { requeue(ctx, task, None)? } else { task };
            assign_to(ctx, task, user_id, "reassigned by a supervisor")
        }
        RouteTarget::Queue { queue } => {
            let personal = queue.strip_prefix("personal:").map(|u| ctx.tx.agent(u)).transpose()?.flatten().is_some();
            if !personal && ctx.tx.queue(queue)?.is_none() {
                return Err(Error::field("to.queue", format!("queue '{queue}' is not defined")));
            }
            requeue(ctx, task, Some(queue.clone())).map(|_| ())
        }
    }
}

/// Back into a queue (the same one, or another), unassigned and not offered.
fn requeue(ctx: &mut Ctx, mut task: Task, queue: Option<String>) -> Result<Task> {
    let before =
        json!({ "queue": task.queue, "assignee": task.assignee, "offered_to": task.offered_to, "state": task.state });
    let freed: Vec<String> = task.assignee.take().into_iter().chain(task.offered_to.take()).collect();
    if let Some(q) = queue {
        task.queue = Some(q);
        task.queued_at = Some(ctx.now);
    }
    task.state = TaskState::Queued;
    task.offer_expires_at = None;
    task.updated_at = ctx.now;
    ctx.tx.put_task(&task)?;
    ctx.emit(
        "task_requeued",
        Some(task.case_id),
        Some(task.id),
        before,
        json!({ "queue": task.queue, "state": task.state }),
    )?;
    ctx.route_agents.extend(freed);
    ctx.route_tasks.push(task.id);
    Ok(task)
}

pub fn reassign(ctx: &mut Ctx, task_ids: Vec<Uuid>, to: RouteTarget) -> Result<()> {
    require(ctx.actor, Action::AssignOthers)?;
    if task_ids.is_empty() {
        return Err(Error::field("task_ids", "name at least one task"));
    }
    for id in task_ids {
        let task = open_task(ctx, id)?;
        send(ctx, task, &to)?;
    }
    Ok(())
}

/// Everything an agent holds or is offered goes elsewhere (absences).
pub fn reassign_all_of(ctx: &mut Ctx, user_id: &str, to: RouteTarget) -> Result<()> {
    require(ctx.actor, Action::AssignOthers)?;
    ctx.tx.agent(user_id)?.ok_or_else(|| Error::field("user_id", format!("'{user_id}' is not an agent")))?;
    if matches!(&to, RouteTarget::Agent { user_id: u } if u == user_id) {
        return Err(Error::field("to", "choose someone else"));
    }
    for task in ctx.tx.tasks_of_agent(user_id)? {
        send(ctx, task, &to)?;
    }
    Ok(())
}

pub fn change_priority(ctx: &mut Ctx, task_ids: Vec<Uuid>, priority: u8) -> Result<()> {
    require(ctx.actor, Action::AssignOthers)?;
    if !(1..=5).contains(&priority) {
        return Err(Error::field("priority", "must be 1 (highest) to 5 (lowest)"));
    }
    for id in task_ids {
        let mut task = open_task(ctx, id)?;
        if task.priority == priority {
            continue;
        }
        let before = json!({ "priority": task.priority });
        task.priority = priority;
        task.updated_at = ctx.now;
        ctx.tx.put_task(&task)?;
        ctx.emit("task_priority_changed", Some(task.case_id), Some(task.id), before, json!({ "priority": priority }))?;
        ctx.route_tasks.push(task.id);
    }
    Ok(())
}
