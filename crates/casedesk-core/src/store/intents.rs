//! What intent suggestion reads: closed cases' words and final intents, and the events
//! that teach the model something new.

use super::sql::{params, Conn};
use crate::error::Result;
use uuid::Uuid;

/// A closed case as training material: id, case type, final intent, and its words
/// (subject and description).
pub type ClosedCase = (Uuid, String, String, String);

pub fn closed_cases_with_intent(conn: &Conn) -> Result<Vec<ClosedCase>> {
    let mut st = conn.prepare_cached(
        "SELECT id, case_type, intent, subject || '. ' || description FROM cases
         WHERE status_category = 'closed' AND intent IS NOT NULL",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub fn closed_case_with_intent(conn: &Conn, id: Uuid) -> Result<Option<ClosedCase>> {
    use super::sql::OptionalExtension;
    Ok(conn
        .prepare_cached(
            "SELECT id, case_type, intent, subject || '. ' || description FROM cases
             WHERE id = ?1 AND status_category = 'closed' AND intent IS NOT NULL",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?)
}

/// Cases closed and case types published after event `seq`, with the newest seq read.
/// A range of the event log's key: only what is new is read.
pub fn lessons_after(conn: &Conn, seq: i64) -> Result<(Vec<Uuid>, bool, i64)> {
    let mut st = conn.prepare_cached(
        "SELECT seq, kind, case_id FROM events WHERE seq > ?1 AND kind IN ('case_closed', 'case_type_published')
         ORDER BY seq",
    )?;
    let mut closed = vec![];
    let mut published = false;
    let mut rows = st.query(params![seq])?;
    while let Some(r) = rows.next()? {
        match r.get::<_, String>(1)?.as_str() {
            "case_closed" => closed.extend(r.get::<_, Option<Uuid>>(2)?),
            _ => published = true,
        }
    }
    Ok((closed, published, event_head(conn)?.max(seq)))
}

/// The newest event's seq (0 for none).
pub fn event_head(conn: &Conn) -> Result<i64> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?)
}
