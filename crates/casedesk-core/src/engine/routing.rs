//! Routing inside commands: presence and On Queue, offers (push) with accept, decline and
//! timeout, pulling from workbins, and a supervisor's reassignments. Who is chosen is
//! decided by `crate::routing` (pure rules); this module applies the choice, keeps each
//! agent's routing status current and writes an event for every change.

use super::permissions::{require, Action};
use super::Ctx;
use crate::error::{Error, Result};
use crate::fields::is_identifier;
use crate::model::{Task, TaskState};
use crate::routing::{
    best_agent, eligible, next_widening, personal_workbin, rank, Agent, AgentProfile, Presence, QueueConfig, QueueMode,
    Waiting,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use ts_rs::TS;
use uuid::Uuid;

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

// ---- configuration (admin) ---------------------------------------------------------

fn setting_list<T: serde::de::DeserializeOwned + Default>(ctx: &Ctx, key: &str) -> Result<T> {
    Ok(match ctx.tx.setting(key)? {
        Some(json) => serde_json::from_str(&json)?,
        None => T::default(),
    })
}

fn put_setting<T: Serialize>(ctx: &mut Ctx, key: &str, kind: &str, value: &T) -> Result<()> {
    let before = ctx.tx.setting(key)?.map(|b| serde_json::from_str(&b)).transpose()?.unwrap_or(Value::Null);
    let after = serde_json::to_value(value)?;
    if before == after {
        return Ok(());
    }
    ctx.tx.put_setting(key, &after.to_string(), ctx.now, &ctx.actor.user_id)?;
    ctx.emit(kind, None, None, before, after)
}

pub fn define_skills(ctx: &mut Ctx, skills: Vec<String>) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let mut seen = BTreeSet::new();
    for (i, s) in skills.iter().enumerate() {
        if !is_identifier(s) {
            return Err(Error::field(
                format!("skills[{i}]"),
                format!("'{s}' must be lower-case letters, digits and '_'"),
            ));
        }
        if !seen.insert(s) {
            return Err(Error::field(format!("skills[{i}]"), format!("'{s}' is listed twice")));
        }
    }
    put_setting(ctx, SKILLS_KEY, "skills_defined", &skills)
}

pub fn define_presence_labels(ctx: &mut Ctx, labels: BTreeMap<Presence, Vec<String>>) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    for (p, list) in &labels {
        if let Some(bad) = list.iter().find(|l| l.trim().is_empty() || l.len() > 40) {
            return Err(Error::field(format!("labels.{p:?}"), format!("label '{bad}' must be 1 to 40 characters")));
        }
    }
    put_setting(ctx, PRESENCE_LABELS_KEY, "presence_labels_defined", &labels)
}

fn check_skills<'a>(ctx: &Ctx, field: &str, skills: impl IntoIterator<Item = (&'a String, u8)>) -> Result<()> {
    let known: Vec<String> = setting_list(ctx, SKILLS_KEY)?;
    for (skill, p) in skills {
        if !known.contains(skill) {
            return Err(Error::field(format!("{field}.{skill}"), "is not a defined skill"));
        }
        if p > 5 {
            return Err(Error::field(format!("{field}.{skill}"), format!("proficiency must be 0 to 5, not {p}")));
        }
    }
    Ok(())
}

pub fn define_queue(ctx: &mut Ctx, queue: QueueConfig) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    if queue.id.trim().is_empty() || queue.id.len() > 64 || queue.id.contains(char::is_whitespace) {
        return Err(Error::field("id", "a queue id is 1 to 64 characters without spaces"));
    }
    if queue.alert_timeout_seconds == 0 {
        return Err(Error::field("alert_timeout_seconds", "must be at least 1 second"));
    }
    if queue.rings.windows(2).any(|w| w[0].after_seconds >= w[1].after_seconds) {
        return Err(Error::field("rings", "rings must be listed with growing after_seconds"));
    }
    let dropped = queue.rings.iter().flat_map(|r| r.drop_skills.iter().map(|s| (s, 0)));
    check_skills(ctx, "rings.drop_skills", dropped)?;
    let before = ctx.tx.queue(&queue.id)?;
    if before.as_ref() == Some(&queue) {
        return Ok(());
    }
    ctx.tx.put_queue(&queue, ctx.now)?;
    ctx.created_id = Some(queue.id.clone());
    ctx.emit("queue_defined", None, None, serde_json::to_value(before)?, serde_json::to_value(&queue)?)?;
    // Work may now be pushable.
    for t in ctx.tx.queued_tasks(&queue.id)? {
        ctx.route_tasks.push(t.id);
    }
    Ok(())
}

pub fn set_agent_profile(ctx: &mut Ctx, user_id: &str, profile: AgentProfile) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let user =
        ctx.tx.user(user_id)?.ok_or_else(|| Error::field("user_id", format!("user '{user_id}' does not exist")))?;
    if !user.roles.iter().any(|r| matches!(r, crate::model::Role::Agent)) {
        return Err(Error::field("user_id", format!("user '{user_id}' does not have the agent role")));
    }
    check_skills(ctx, "skills", profile.skills.iter().map(|(s, p)| (s, *p)))?;
    if profile.capacity.total == 0 {
        return Err(Error::field("capacity.total", "must be at least 1"));
    }
    for q in &profile.queues {
        if ctx.tx.queue(q)?.is_none() {
            return Err(Error::field("queues", format!("queue '{q}' is not defined")));
        }
    }
    let before = ctx.tx.agent(user_id)?;
    let mut agent = before.clone().unwrap_or_else(|| Agent {
        user_id: user_id.to_string(),
        presence: Presence::Offline,
        secondary: None,
        on_queue: false,
        not_responding: false,
        routing_status: crate::routing::RoutingStatus::OffQueue,
        profile: AgentProfile::default(),
        last_assigned_at: None,
        load: BTreeMap::new(),
        pending_offers: 0,
    });
    agent.profile = profile;
    ctx.tx.put_agent(&agent, ctx.now)?;
    ctx.tx.put_agent_queues(&agent)?;
    ctx.emit(
        "agent_profile_set",
        None,
        None,
        before.map(|b| serde_json::to_value(b.profile)).transpose()?.unwrap_or(Value::Null),
        json!({ "user_id": user_id, "profile": agent.profile }),
    )?;
    ctx.route_agents.push(user_id.to_string());
    Ok(())
}

// ---- the agent's own state -----------------------------------------------------------

fn my_agent(ctx: &Ctx) -> Result<Agent> {
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
    if !task.state.can_move_to(TaskState::Assigned) {
        return Err(Error::InvalidTransition {
            what: format!("task {}", task.id),
            from: task.state.as_str().into(),
            to: TaskState::Assigned.as_str().into(),
            detail: String::new(),
        });
    }
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

// ---- supervisor ---------------------------------------------------------------------

fn open_task(ctx: &Ctx, id: Uuid) -> Result<Task> {
    let task = ctx.task(id)?;
    if !task.state.is_open() {
        return Err(Error::InvalidTransition {
            what: format!("task {id}"),
            from: task.state.as_str().into(),
            to: "reassigned".into(),
            detail: " (it is finished)".into(),
        });
    }
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

// ---- dispatch: run after every command ------------------------------------------------

/// Brings routing up to date with what the command changed: agents whose load or
/// readiness changed get their status refreshed and, if ready, an offer; tasks that
/// became routable are offered to the best ready agent. Each step looks only at the
/// queues concerned, never at every task.
pub fn settle(ctx: &mut Ctx) -> Result<()> {
    // Each round can only create offers, which take agents out of the running, so this
    // ends; the bound guards against a mistake turning into a hang.
    for _ in 0..10_000 {
        if let Some(task_id) = ctx.route_tasks.pop() {
            offer_task(ctx, task_id)?;
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

fn offer_task(ctx: &mut Ctx, task_id: Uuid) -> Result<()> {
    let task = ctx.task(task_id)?;
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
fn best_waiting_for(ctx: &Ctx, agent: &Agent, queues: &[QueueConfig]) -> Result<Option<Task>> {
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
