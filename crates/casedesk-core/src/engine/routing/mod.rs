//! Routing inside commands: presence and On Queue, offers (push) with accept, decline and
//! timeout, pulling from workbins, and a supervisor's reassignments. Who is chosen is
//! decided by `crate::routing` (pure rules); this module applies the choice, keeps each
//! agent's routing status current and writes an event for every change.

use super::Ctx;
use crate::error::{Error, Result};
use crate::model::{Task, TaskState};
use crate::routing::{eligible, personal_workbin, QueueConfig, QueueMode, Waiting};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

pub const SKILLS_KEY: &str = "skills";
pub const PRESENCE_LABELS_KEY: &str = "presence_labels";

/// Where a supervisor sends work.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum RouteTarget {
    Agent { user_id: String },
    Queue { queue: String },
}

mod admin;
mod agent;
mod dispatch;
mod supervisor;

use agent::my_agent;
use dispatch::best_waiting_for;

pub use admin::{define_presence_labels, define_queue, define_skills, set_agent_profile};
pub use agent::{accept_offer, decline_offer, set_on_queue, set_presence, tick};
pub use dispatch::{place, settle};
pub use supervisor::{change_priority, reassign, reassign_all_of};

// ---- assignment -------------------------------------------------------------------------

fn queue_config(ctx: &Ctx, id: &str) -> Result<QueueConfig> {
    Ok(ctx.tx.queue(id)?.unwrap_or_else(|| QueueConfig::pull(id)))
}

fn waiting(task: &Task) -> Waiting<'_> {
    Waiting {
        id: task.id,
        kind: task.kind,
        priority: task.priority,
        queue: task.queue.as_deref().unwrap_or_default(),
        queued_at: task.queued_at.unwrap_or(task.created_at),
        requirements: &task.requirements,
        preferred_agent: task.preferred_agent.as_deref(),
    }
}

/// Gives `task` to `user_id` (accepted offer, pull, supervisor), keeping the agent's
/// last-assigned time for fairness.
pub fn assign_to(ctx: &mut Ctx, mut task: Task, user_id: &str, how: &str) -> Result<()> {
    super::tasks::move_state(&task, TaskState::Assigned)?;
    let before = json!({ "assignee": task.assignee, "state": task.state, "offered_to": task.offered_to });
    let previous = task.assignee.replace(user_id.to_string());
    task.state = TaskState::Assigned;
    task.offered_to = None;
    task.offer_expires_at = None;
    task.updated_at = ctx.now;
    ctx.tx.put_task(&task)?;
    ctx.emit(
        "task_assigned",
        Some(task.case_id),
        Some(task.id),
        before,
        json!({ "assignee": user_id, "state": task.state, "how": how }),
    )?;
    if let Some(mut agent) = ctx.tx.agent(user_id)? {
        agent.last_assigned_at = Some(ctx.now);
        ctx.tx.put_agent(&agent, ctx.now)?;
    }
    ctx.route_agents.push(user_id.to_string());
    ctx.route_agents.extend(previous);
    Ok(())
}

/// The next-best task for the acting agent from their pull queues (or one named queue).
pub fn pull_next(ctx: &mut Ctx, queue: Option<String>) -> Result<()> {
    let agent = my_agent(ctx)?;
    let queues: Vec<QueueConfig> = match &queue {
        Some(q) if !agent.profile.works_in(&agent.user_id, q) => {
            return Err(Error::field("queue", format!("{} is not a member of queue '{q}'", agent.user_id)))
        }
        Some(q) => vec![queue_config(ctx, q)?],
        None => agent
            .profile
            .queues
            .iter()
            .cloned()
            .chain([personal_workbin(&agent.user_id)])
            .map(|q| queue_config(ctx, &q))
            .collect::<Result<_>>()?,
    };
    let pull: Vec<QueueConfig> = queues.into_iter().filter(|q| q.mode == QueueMode::Pull).collect();
    let Some(task) = best_waiting_for(ctx, &agent, &pull)? else {
        return Err(Error::Conflict(format!("there is no task {} can take in their workbins now", agent.user_id)));
    };
    ctx.created_id = Some(task.id.to_string());
    let me = agent.user_id.clone();
    assign_to(ctx, task, &me, "pulled")
}

/// An agent takes a task they chose from a workbin (where cherry picking is allowed).
pub fn take(ctx: &mut Ctx, task: Task) -> Result<()> {
    let agent = my_agent(ctx)?;
    let queue = queue_config(ctx, task.queue.as_deref().unwrap_or_default())?;
    if queue.mode != QueueMode::Pull {
        return Err(Error::Forbidden {
            actor: agent.user_id.clone(),
            action: "take this task".into(),
            rule: format!("queue {} pushes its work; tasks there are offered, not taken", queue.id),
        });
    }
    if queue.no_cherry_picking {
        return Err(Error::Forbidden {
            actor: agent.user_id.clone(),
            action: "choose a task".into(),
            rule: format!("workbin {} gives only the next-best task (no cherry picking)", queue.id),
        });
    }
    if eligible(&agent, &waiting(&task), &queue, ctx.now).is_none() {
        let rule = if !agent.profile.works_in(&agent.user_id, &queue.id) {
            format!("{} is not a member of queue {}", agent.user_id, queue.id)
        } else if !agent.has_room_for(task.kind) {
            format!("{} has no free capacity for a {:?} task", agent.user_id, task.kind)
        } else {
            format!("{} lacks the skills or language the task needs", agent.user_id)
        };
        return Err(Error::Forbidden { actor: agent.user_id.clone(), action: "take this task".into(), rule });
    }
    let me = agent.user_id.clone();
    assign_to(ctx, task, &me, "taken")
}
