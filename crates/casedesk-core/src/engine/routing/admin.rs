//! Routing configuration (admins): skills, presence labels, queues, agent profiles.

use super::super::permissions::{require, Action};
use super::super::Ctx;
use super::{PRESENCE_LABELS_KEY, SKILLS_KEY};
use crate::error::{Error, Result};
use crate::fields::is_identifier;
use crate::routing::{Agent, AgentProfile, Presence, QueueConfig};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

// ---- configuration (admin) ---------------------------------------------------------

pub(super) fn setting_list<T: serde::de::DeserializeOwned + Default>(ctx: &Ctx, key: &str) -> Result<T> {
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
