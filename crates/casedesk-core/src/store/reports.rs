//! What reports read: the events of cases, case by case.

use crate::clock::to_millis;
use crate::error::Result;
use crate::model::Event;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

/// Every event of the cases created before `to`, grouped by case, in order.
pub fn case_events_created_before(conn: &Connection, to: DateTime<Utc>) -> Result<Vec<Event>> {
    let mut st = conn.prepare_cached(
        "SELECT e.seq, e.case_id, e.task_id, e.actor, e.at, e.kind, e.before, e.after
         FROM cases c JOIN events e ON e.case_id = c.id
         WHERE c.created_at < ?1 ORDER BY e.case_id, e.seq",
    )?;
    let rows = st.query_map([to_millis(to)], super::rows::event_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Agents' presence and routing-status events before `to`, in order.
pub fn agent_events_before(conn: &Connection, to: DateTime<Utc>) -> Result<Vec<Event>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, case_id, task_id, actor, at, kind, before, after FROM events
         WHERE case_id IS NULL AND kind IN ('agent_presence_changed', 'agent_routing_status_changed') AND at < ?1
         ORDER BY seq",
    )?;
    let rows = st.query_map([to_millis(to)], super::rows::event_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
