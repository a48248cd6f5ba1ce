//! Agents' time in each presence and routing status, from their events.

use super::ReportRange;
use crate::model::Event;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentTime {
    pub user_id: String,
    /// Hours in each presence (available, break, …) inside the range.
    pub presence: BTreeMap<String, f64>,
    /// Hours in each routing status (IDLE, INTERACTING, …).
    pub routing_status: BTreeMap<String, f64>,
}

/// From every presence and routing-status event up to the range's end (in order): the
/// time each agent spent in each, inside the range and up to `now`. Time before an
/// agent's first event is not known, so not counted.
pub fn agent_time(events: &[Event], range: &ReportRange, now: DateTime<Utc>) -> Vec<AgentTime> {
    let end = range.to.min(now);
    // user → (what, state, since)
    let mut current: BTreeMap<(String, &str), (String, DateTime<Utc>)> = BTreeMap::new();
    let mut out: BTreeMap<String, AgentTime> = BTreeMap::new();
    let add = |out: &mut BTreeMap<String, AgentTime>, user: &str, what: &str, state: &str, from, to| {
        let from: DateTime<Utc> = std::cmp::max(from, range.from);
        let to: DateTime<Utc> = std::cmp::min(to, end);
        if to <= from {
            return;
        }
        let row = out.entry(user.to_string()).or_insert_with(|| AgentTime {
            user_id: user.to_string(),
            presence: BTreeMap::new(),
            routing_status: BTreeMap::new(),
        });
        let map = if what == "presence" { &mut row.presence } else { &mut row.routing_status };
        *map.entry(state.to_string()).or_default() += (to - from).num_milliseconds() as f64 / 3_600_000.0;
    };
    for e in events {
        let what = match e.kind.as_str() {
            "agent_presence_changed" => "presence",
            "agent_routing_status_changed" => "routing_status",
            _ => continue,
        };
        let (Some(user), Some(state)) =
            (e.after.get("user_id").and_then(|v| v.as_str()), e.after.get(what).and_then(|v| v.as_str()))
        else {
            continue;
        };
        if let Some((was, since)) = current.insert((user.to_string(), what), (state.to_string(), e.at)) {
            add(&mut out, user, what, &was, since, e.at);
        }
    }
    for ((user, what), (state, since)) in &current {
        add(&mut out, user, what, state, *since, end);
    }
    out.into_values().collect()
}
