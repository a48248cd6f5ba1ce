//! The agent's own routing: presence, On Queue, answering offers, pulling work.

use super::super::permissions::{require, Action};
use super::super::Ctx;
use super::admin::setting_list;
use super::{assign_to, queue_config, PRESENCE_LABELS_KEY};
use crate::error::{Error, Result};
use crate::model::{Task, TaskState};
use crate::routing::{Agent, Presence};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

// ---- the agent's own state -----------------------------------------------------------

pub(super) fn my_agent(ctx: &Ctx) -> Result<Agent> {
    ctx.tx.agent(&ctx.actor.user_id)?.ok_or_else(|| Error::Forbidden {
        actor: ctx.actor.user_id.clone(),
        action: "take part in routing".into(),
        rule: "the user has no agent profile".into(),
    })
}

pub fn set_presence(ctx: &mut Ctx, presence: Presence, secondary: Option<String>) -> Result<()> {
    let mut agent = my_agent(ctx)?;
    if let Some(label) = &secondary {
        let labels: BTreeMap<Presence, Vec<String>> = setting_list(ctx, PRESENCE_LABELS_KEY)?;
        if !labels.get(&presence).is_some_and(|l| l.contains(label)) {
            return Err(Error::field("secondary", format!("'{label}' is not a label under {presence:?}")));
        }
    }
    let before = json!({ "presence": agent.presence, "secondary": agent.secondary });
    agent.presence = presence;
    agent.secondary = secondary;
    if presence == Presence::Available {
        agent.not_responding = false;
    }
    ctx.tx.put_agent(&agent, ctx.now)?;
    let after = json!({ "user_id": agent.user_id, "presence": agent.presence, "secondary": agent.secondary });
    ctx.emit("agent_presence_changed", None, None, before, after)?;
    ctx.route_agents.push(agent.user_id);
    Ok(())
}

pub fn set_on_queue(ctx: &mut Ctx, on_queue: bool) -> Result<()> {
    let mut agent = my_agent(ctx)?;
    let before = json!({ "on_queue": agent.on_queue });
    agent.on_queue = on_queue;
    if on_queue {
        agent.not_responding = false;
    }
    ctx.tx.put_agent(&agent, ctx.now)?;
    ctx.emit("agent_on_queue_changed", None, None, before, json!({ "user_id": agent.user_id, "on_queue": on_queue }))?;
    ctx.route_agents.push(agent.user_id);
    Ok(())
}

// ---- offers ---------------------------------------------------------------------------

fn offered_to_me(ctx: &Ctx, task_id: Uuid) -> Result<Task> {
    let task = ctx.task(task_id)?;
    if task.state != TaskState::Offered || task.offered_to.as_deref() != Some(ctx.actor.user_id.as_str()) {
        return Err(Error::Conflict(format!("task {task_id} is not offered to {}", ctx.actor.user_id)));
    }
    Ok(task)
}

pub fn accept_offer(ctx: &mut Ctx, task_id: Uuid) -> Result<()> {
    let task = offered_to_me(ctx, task_id)?;
    let me = ctx.actor.user_id.clone();
    assign_to(ctx, task, &me, "offer accepted")
}

pub fn decline_offer(ctx: &mut Ctx, task_id: Uuid) -> Result<()> {
    let task = offered_to_me(ctx, task_id)?;
    no_answer(ctx, task, "task_offer_declined")
}

/// Time-driven routing: missed offers, and tasks whose requirements relaxed with time.
pub fn tick(ctx: &mut Ctx) -> Result<()> {
    require(ctx.actor, Action::AssignOthers)?;
    for task in ctx.tx.expired_offers(ctx.now)? {
        no_answer(ctx, task, "task_offer_missed")?;
    }
    for id in ctx.tx.tasks_due_for_rerouting(ctx.now)? {
        ctx.route_tasks.push(id);
    }
    Ok(())
}

/// A declined or missed offer: the task goes back to its queue (keeping its waiting
/// time) and the agent is NOT_RESPONDING (and Off Queue, if the queue says so).
fn no_answer(ctx: &mut Ctx, mut task: Task, kind: &str) -> Result<()> {
    let agent_id = task.offered_to.take().expect("an offered task names its agent");
    let queue = queue_config(ctx, task.queue.as_deref().unwrap_or_default())?;
    let before = json!({ "state": task.state, "offered_to": agent_id });
    task.state = TaskState::Queued;
    task.offer_expires_at = None;
    task.updated_at = ctx.now;
    ctx.tx.put_task(&task)?;
    ctx.emit(kind, Some(task.case_id), Some(task.id), before, json!({ "state": task.state, "offered_to": null }))?;
    if let Some(mut agent) = ctx.tx.agent(&agent_id)? {
        let before = json!({ "not_responding": agent.not_responding, "on_queue": agent.on_queue });
        agent.not_responding = true;
        if queue.off_queue_when_not_responding {
            agent.on_queue = false;
        }
        ctx.tx.put_agent(&agent, ctx.now)?;
        let after = json!({ "user_id": agent_id, "not_responding": true, "on_queue": agent.on_queue });
        ctx.emit("agent_not_responding", None, None, before, after)?;
        ctx.route_agents.push(agent_id);
    }
    ctx.route_tasks.push(task.id);
    Ok(())
}
