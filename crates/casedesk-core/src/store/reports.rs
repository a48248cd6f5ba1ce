//! What reports read: the events of cases, case by case.

use crate::clock::to_millis;
use crate::error::Result;
use crate::model::Event;
use crate::reports::ReportRange;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

/// Every event of the cases a range can count, grouped by case, in order: created
/// before its end and not closed for good before its start (such a case adds nothing to any figure: see `crate::reports`). Reports read
/// only what happened (`after`), so the `before` of each event is not read.
pub fn case_events_for(conn: &Connection, range: &ReportRange) -> Result<Vec<Event>> {
    let mut st = conn.prepare_cached(
        "SELECT e.seq, e.case_id, e.task_id, e.actor, e.at, e.kind, 'null', e.after
         FROM cases c JOIN events e ON e.case_id = c.id
         WHERE c.created_at < ?1 AND (c.closed_at IS NULL OR c.closed_at >= ?2)
         ORDER BY e.case_id, e.seq",
    )?;
    let rows = st.query_map([to_millis(range.to), to_millis(range.from)], super::rows::event_from_row)?;
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

/// Counts for the real-time board, read from the current state (which each command
/// writes with its events).
pub struct BoardRows {
    pub cases: Vec<(String, String, u32)>,
    pub tasks: Vec<(String, u32)>,
    pub at_risk: u32,
    pub breached: u32,
    pub queues: Vec<(String, u32, Option<i64>)>,
    pub agents: Vec<(String, String, String, u32)>,
}

pub fn board(conn: &Connection) -> Result<BoardRows> {
    // Each WHERE repeats its partial index's condition word for word (migration V7), so
    // SQLite reads the index of open work instead of the whole table.
    let mut st = conn.prepare_cached(
        "SELECT case_type, status, count(*) FROM cases WHERE status_category != 'closed'
         GROUP BY case_type, status ORDER BY case_type, status",
    )?;
    let cases = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    let open = "state NOT IN ('completed', 'escalated', 'cancelled')";
    let mut st =
        conn.prepare_cached(&format!("SELECT state, count(*) FROM tasks WHERE {open} GROUP BY state ORDER BY state"))?;
    let tasks = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let (at_risk, breached): (u32, u32) = conn.query_row(
        &format!(
            "SELECT coalesce(sum(json_extract(ola_clock, '$.at_risk_noted') = 1 AND json_extract(ola_clock, '$.breach_noted') = 0), 0),
                    coalesce(sum(json_extract(ola_clock, '$.breach_noted') = 1), 0)
             FROM tasks WHERE {open} AND ola_clock IS NOT NULL"
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Every defined queue, and any other a task waits in (an undefined one is a team workbin).
    let mut st = conn.prepare_cached(
        "WITH names(queue) AS (
             SELECT id FROM queues
             UNION SELECT DISTINCT queue FROM tasks WHERE state = 'queued' AND queue IS NOT NULL)
         SELECT n.queue,
                (SELECT count(*) FROM tasks t WHERE t.state = 'queued' AND t.queue = n.queue),
                (SELECT min(t.queued_at) FROM tasks t WHERE t.state = 'queued' AND t.queue = n.queue)
         FROM names n ORDER BY n.queue",
    )?;
    let queues = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    // Load: tasks offered to or held by the agent; both lookups are indexed by person.
    let mut st = conn.prepare_cached(&format!(
        "SELECT a.user_id, a.presence, a.routing_status,
                (SELECT count(*) FROM tasks t WHERE t.assignee = a.user_id AND t.{open})
              + (SELECT count(*) FROM tasks t WHERE t.offered_to = a.user_id AND t.assignee IS NOT a.user_id AND t.{open})
         FROM agents a ORDER BY a.user_id"
    ))?;
    let agents =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(BoardRows { cases, tasks, at_risk, breached, queues, agents })
}
