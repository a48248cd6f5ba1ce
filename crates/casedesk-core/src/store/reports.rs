//! What reports read: the projection of case lives (caught up from the event log),
//! agents' events, and the board's counts.

use super::sql::{Conn, OptionalExtension};
use crate::clock::to_millis;
use crate::error::{Error, Result};
use crate::model::Event;
use crate::reports::timeline::{self, CaseLife, Names};
use crate::reports::ReportRange;
use chrono::{DateTime, Utc};

/// The names lives refer to.
pub fn names(conn: &Conn) -> Result<Names> {
    let mut st = conn.prepare_cached("SELECT name FROM report_names ORDER BY id")?;
    let names = st.query_map([], |r| r.get(0))?.collect::<super::sql::Result<_>>()?;
    Ok(Names::from_list(names))
}

/// Moves `report_lives` forward over the next `window` events after its cursor: every
/// case with an event among them is folded again from all its events up to the
/// window's end (read in one ordered pass, one case at a time), and the cursor moves to
/// that end. Returns the names, how many lives were written, and whether the projection
/// has caught up with the log. Run in a write transaction: the lives, names and cursor
/// move together.
pub fn catch_up_lives(conn: &Conn, window: i64) -> Result<(Names, usize, bool)> {
    let mut names = names(conn)?;
    let known = names.len();
    let cursor: i64 = conn.query_row("SELECT seq FROM report_lives_cursor", [], |r| r.get(0))?;
    let newest: Option<i64> =
        conn.query_row("SELECT max(seq) FROM events WHERE seq > ?1", [cursor], |r| r.get(0)).optional()?.flatten();
    let Some(newest) = newest else { return Ok((names, 0, true)) };
    let last = newest.min(cursor.saturating_add(window));
    // Reports read only what happened (`after`): the `before` of each event is not read.
    let mut events = conn.prepare_cached(
        "SELECT seq, case_id, task_id, actor, at, kind, 'null', after FROM events
         WHERE case_id IN (SELECT DISTINCT case_id FROM events WHERE seq > ?1 AND seq <= ?2 AND case_id IS NOT NULL)
           AND seq <= ?2
         ORDER BY case_id, seq",
    )?;
    let mut write = conn.prepare_cached(
        "INSERT INTO report_lives (case_id, created_at, closed_at, life) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (case_id) DO UPDATE SET created_at = ?2, closed_at = ?3, life = ?4",
    )?;
    let mut written = 0;
    let mut store = |case: &[Event], names: &mut Names| -> Result<()> {
        let Some(life) = timeline::case_life(case, names) else { return Ok(()) };
        let bytes = postcard::to_allocvec(&life).map_err(|e| Error::Storage(format!("encoding a case life: {e}")))?;
        write.execute(super::sql::params![life.id, life.created_at, life.closed_at, bytes])?;
        written += 1;
        Ok(())
    };
    let mut case: Vec<Event> = vec![];
    let mut rows = events.query([cursor, last])?;
    while let Some(row) = rows.next()? {
        let event = super::rows::event_from_row(&row)?;
        if case.last().is_some_and(|e| e.case_id != event.case_id) {
            store(&case, &mut names)?;
            case.clear();
        }
        case.push(event);
    }
    if !case.is_empty() {
        store(&case, &mut names)?;
    }
    let mut add_name = conn.prepare_cached("INSERT INTO report_names (id, name) VALUES (?1, ?2)")?;
    for (i, name) in names.since(known).iter().enumerate() {
        add_name.execute(super::sql::params![(known + i) as i64, name])?;
    }
    conn.execute("UPDATE report_lives_cursor SET seq = ?1", [last])?;
    Ok((names, written, last == newest))
}

/// Stored lives, encoded, in one buffer: where each ends.
#[derive(Default)]
pub struct LifeBatch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Lives a batch carries, so decoding can run beside the reading.
const BATCH: usize = 1024;

impl LifeBatch {
    pub fn lives(&self) -> impl Iterator<Item = Result<CaseLife>> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(self.ends.iter().copied()).map(|(from, to)| {
            postcard::from_bytes(&self.bytes[from..to]).map_err(|e| Error::Storage(format!("reading a case life: {e}")))
        })
    }
}

/// Hands `f` the stored life of every case a range can count, in case order and in
/// batches: created before its end and not closed for good before its start (such a case
/// adds nothing to any figure: see `crate::reports`). Stops early if `f` says so.
pub fn life_batches(conn: &Conn, range: &ReportRange, mut f: impl FnMut(LifeBatch) -> bool) -> Result<()> {
    let mut st = conn.prepare_cached(
        "SELECT life FROM report_lives WHERE created_at < ?1 AND (closed_at IS NULL OR closed_at >= ?2)
         ORDER BY case_id",
    )?;
    let mut rows = st.query([to_millis(range.to), to_millis(range.from)])?;
    let mut batch = LifeBatch::default();
    while let Some(row) = rows.next()? {
        batch.bytes.extend_from_slice(row.get_ref(0)?.as_blob()?);
        batch.ends.push(batch.bytes.len());
        if batch.ends.len() == BATCH && !f(std::mem::take(&mut batch)) {
            return Ok(());
        }
    }
    if !batch.ends.is_empty() {
        f(batch);
    }
    Ok(())
}

/// Agents' presence and routing-status events before `to`, in order.
pub fn agent_events_before(conn: &Conn, to: DateTime<Utc>) -> Result<Vec<Event>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, case_id, task_id, actor, at, kind, before, after FROM events
         WHERE case_id IS NULL AND kind IN ('agent_presence_changed', 'agent_routing_status_changed') AND at < ?1
         ORDER BY seq",
    )?;
    let rows = st.query_map([to_millis(to)], super::rows::event_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
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

pub fn board(conn: &Conn) -> Result<BoardRows> {
    // Each WHERE repeats its partial index's condition word for word (migration V7), so
    // SQLite reads the index of open work instead of the whole table.
    let mut st = conn.prepare_cached(
        "SELECT case_type, status, count(*) FROM cases WHERE status_category != 'closed'
         GROUP BY case_type, status ORDER BY case_type, status",
    )?;
    let cases = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<super::sql::Result<_>>()?;
    let open = "state NOT IN ('completed', 'escalated', 'cancelled')";
    let mut st =
        conn.prepare_cached(&format!("SELECT state, count(*) FROM tasks WHERE {open} GROUP BY state ORDER BY state"))?;
    let tasks = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<super::sql::Result<_>>()?;
    let counts = conn.pick(
        "coalesce(sum(json_extract(ola_clock, '$.at_risk_noted') = 1 AND json_extract(ola_clock, '$.breach_noted') = 0), 0),
         coalesce(sum(json_extract(ola_clock, '$.breach_noted') = 1), 0)",
        "count(*) FILTER (WHERE (ola_clock::jsonb ->> 'at_risk_noted')::boolean
                            AND NOT (ola_clock::jsonb ->> 'breach_noted')::boolean),
         count(*) FILTER (WHERE (ola_clock::jsonb ->> 'breach_noted')::boolean)",
    );
    let (at_risk, breached): (u32, u32) =
        conn.query_row(&format!("SELECT {counts} FROM tasks WHERE {open} AND ola_clock IS NOT NULL"), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
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
    let queues = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<super::sql::Result<_>>()?;
    // Load: tasks offered to or held by the agent; both lookups are indexed by person.
    let mut st = conn.prepare_cached(&format!(
        "SELECT a.user_id, a.presence, a.routing_status,
                (SELECT count(*) FROM tasks t WHERE t.assignee = a.user_id AND t.{open})
              + (SELECT count(*) FROM tasks t WHERE t.offered_to = a.user_id AND t.assignee IS DISTINCT FROM a.user_id AND t.{open})
         FROM agents a ORDER BY a.user_id"
    ))?;
    let agents =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<super::sql::Result<_>>()?;
    Ok(BoardRows { cases, tasks, at_risk, breached, queues, agents })
}
