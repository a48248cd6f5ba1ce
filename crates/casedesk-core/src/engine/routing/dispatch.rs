//! Routing after every command: offers to ready agents, the queue index kept current.

use super::super::Ctx;
use super::{queue_config, waiting};
use crate::error::{Error, Result};
use crate::model::{Task, TaskState};
use crate::routing::{best_agent, eligible, next_widening, rank, Agent, QueueConfig, QueueMode};
use serde_json::json;
use uuid::Uuid;

// ---- dispatch: run after every command ------------------------------------------------

/// Brings routing up to date with what the command changed: agents whose load or
/// readiness changed get their status refreshed and, if ready, an offer; tasks that
/// became routable are offered to the best ready agent. Each step looks only at the
/// queues concerned, never at every task. Tasks that became routable together are
/// offered most urgent first, in their queue's order, so that the agent who fits
/// several of them gets the one that should not wait.
pub fn settle(ctx: &mut Ctx) -> Result<()> {
    // Each round can only create offers, which take agents out of the running, so this
    // ends; the bound guards against a mistake turning into a hang.
    for _ in 0..10_000 {
        if !ctx.route_tasks.is_empty() {
            let ids = std::mem::take(&mut ctx.route_tasks);
            for task in most_urgent_first(ctx, ids)? {
                offer_task(ctx, task)?;
            }
        } else if let Some(user_id) = ctx.route_agents.pop() {
            refresh_status(ctx, &user_id)?;
            offer_to_agent(ctx, &user_id)?;
        } else {
            return Ok(());
        }
    }
    Err(Error::Storage("routing did not settle".into()))
}

fn refresh_status(ctx: &mut Ctx, user_id: &str) -> Result<()> {
    let Some(mut agent) = ctx.tx.agent(user_id)? else { return Ok(()) };
    let status = agent.derived_status();
    if status == agent.routing_status {
        return Ok(());
    }
    let before = json!({ "routing_status": agent.routing_status });
    agent.routing_status = status;
    ctx.tx.put_agent(&agent, ctx.now)?;
    ctx.emit(
        "agent_routing_status_changed",
        None,
        None,
        before,
        json!({ "user_id": user_id, "routing_status": status }),
    )
}

fn offer(ctx: &mut Ctx, mut task: Task, agent: &str, queue: &QueueConfig) -> Result<()> {
    let before = json!({ "state": task.state });
    task.state = TaskState::Offered;
    task.offered_to = Some(agent.to_string());
    task.offer_expires_at = Some(ctx.now + chrono::Duration::seconds(i64::from(queue.alert_timeout_seconds)));
    task.updated_at = ctx.now;
    ctx.tx.put_task(&task)?;
    let after = json!({ "state": task.state, "offered_to": agent, "offer_expires_at": task.offer_expires_at });
    ctx.emit("task_offered", Some(task.case_id), Some(task.id), before, after)?;
    refresh_status(ctx, agent)
}

/// The waiting tasks among `ids`, each once, in routing order: higher rank first, then id
/// (as `ranked_tasks` reads a queue).
fn most_urgent_first(ctx: &Ctx, mut ids: Vec<Uuid>) -> Result<Vec<Task>> {
    ids.sort_unstable();
    ids.dedup();
    let mut tasks = Vec::with_capacity(ids.len());
    for id in ids {
        let task = ctx.task(id)?;
        if task.state == TaskState::Queued {
            tasks.push(task);
        }
    }
    tasks.sort_by_key(|t| (std::cmp::Reverse(t.route_rank), t.id));
    Ok(tasks)
}

fn offer_task(ctx: &mut Ctx, task: Task) -> Result<()> {
    let Some(queue_id) = task.queue.clone() else { return Ok(()) };
    if task.state != TaskState::Queued {
        return Ok(());
    }
    let queue = queue_config(ctx, &queue_id)?;
    let task = with_current_rank(ctx, task, &queue)?;
    if queue.mode != QueueMode::Push {
        return Ok(());
    }
    let agents = ctx.tx.ready_agents_in_queue(&queue_id)?;
    let chosen = best_agent(agents.iter(), &waiting(&task), &queue, ctx.now).map(|a| a.user_id.clone());
    match chosen {
        Some(agent) => offer(ctx, task, &agent, &queue),
        None => Ok(()),
    }
}

fn offer_to_agent(ctx: &mut Ctx, user_id: &str) -> Result<()> {
    let Some(agent) = ctx.tx.agent(user_id)? else { return Ok(()) };
    if !agent.can_be_offered() {
        return Ok(());
    }
    let mut queues = vec![];
    for q in &agent.profile.queues {
        let cfg = queue_config(ctx, q)?;
        if cfg.mode == QueueMode::Push {
            queues.push(cfg);
        }
    }
    let Some(task) = best_waiting_for(ctx, &agent, &queues)? else { return Ok(()) };
    let queue = queues.iter().find(|q| Some(q.id.as_str()) == task.queue.as_deref()).cloned().expect("from these");
    offer(ctx, task, user_id, &queue)
}

/// A new task's place in its queue (`routing::rank`) and the next instant its eligibility
/// widens, set before its first write so routing need not rewrite it.
pub fn place(ctx: &Ctx, task: &mut Task) -> Result<()> {
    let queue = queue_config(ctx, task.queue.as_deref().unwrap_or_default())?;
    task.route_rank = Some(rank(task.priority, task.queued_at.unwrap_or(task.created_at), &queue));
    task.reroute_at = next_widening(&waiting(task), &queue, ctx.now);
    Ok(())
}

/// Keeps the task's place in its queue's index (`routing::rank`) and the next instant
/// its eligibility widens (`routing::next_widening`) current. Both are derived from the
/// task and its queue, so they have no event.
fn with_current_rank(ctx: &mut Ctx, mut task: Task, queue: &QueueConfig) -> Result<Task> {
    let rank = rank(task.priority, task.queued_at.unwrap_or(task.created_at), queue);
    let reroute_at = next_widening(&waiting(&task), queue, ctx.now);
    if task.route_rank != Some(rank) || task.reroute_at != reroute_at {
        task.route_rank = Some(rank);
        task.reroute_at = reroute_at;
        ctx.tx.put_task(&task)?;
    }
    Ok(task)
}

/// The most urgent task `agent` may take in `queues`: each queue's waiting tasks are
/// read in rank order, a batch at a time, and a queue's scan stops at its first task
/// the agent may take (or once nothing further can beat the best found). The same
/// choice as `routing::best_task`, without reading whole queues.
pub(super) fn best_waiting_for(ctx: &Ctx, agent: &Agent, queues: &[QueueConfig]) -> Result<Option<Task>> {
    let mut best: Option<(i64, std::cmp::Reverse<Uuid>, Task)> = None;
    for q in queues {
        let mut after = None;
        // The first task usually fits: read a few, then more as the scan goes deeper.
        let mut size = 4;
        'scan: loop {
            let batch = ctx.tx.ranked_tasks(&q.id, after, size)?;
            for t in &batch {
                let key = (t.route_rank.unwrap_or(i64::MIN), std::cmp::Reverse(t.id));
                if best.as_ref().is_some_and(|(r, id, _)| key < (*r, *id)) {
                    break 'scan;
                }
                if eligible(agent, &waiting(t), q, ctx.now).is_some() {
                    best = Some((key.0, key.1, t.clone()));
                    break 'scan;
                }
            }
            match batch.last() {
                Some(last) if batch.len() == size as usize => {
                    after = Some((last.route_rank.unwrap_or(i64::MIN), last.id));
                    size = (size * 4).min(256);
                }
                _ => break,
            }
        }
    }
    Ok(best.map(|(_, _, t)| t))
}
