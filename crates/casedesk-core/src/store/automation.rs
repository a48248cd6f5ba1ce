//! Storage of timed business rules: the instants each rule looks at each subject.

use super::sql::{params, Conn, OptionalExtension};
use super::tx::Tx;
use crate::clock::{from_millis, to_millis};
use crate::error::Result;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One instant a timed rule looks at a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTimer {
    pub id: i64,
    pub rule_key: String,
    pub case_id: Uuid,
    pub subject_id: Uuid,
    pub anchor_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
}

fn from_row(r: &super::sql::Row) -> super::sql::Result<RuleTimer> {
    Ok(RuleTimer {
        id: r.get(0)?,
        rule_key: r.get(1)?,
        case_id: r.get(2)?,
        subject_id: r.get(3)?,
        anchor_at: from_millis(r.get(4)?),
        due_at: from_millis(r.get(5)?),
        fired_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
    })
}

const COLUMNS: &str = "id, rule_key, case_id, subject_id, anchor_at, due_at, fired_at";

/// Every timer not yet fired (for the timer queue when the engine opens).
pub fn pending(conn: &Conn) -> Result<Vec<(i64, DateTime<Utc>)>> {
    let mut st = conn.prepare("SELECT id, due_at FROM rule_timers WHERE fired_at IS NULL")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, from_millis(r.get(1)?))))?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// The timers of a case, fired or not.
pub fn of_case(conn: &Conn, case_id: Uuid) -> Result<Vec<RuleTimer>> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM rule_timers WHERE case_id = ?1 ORDER BY id"))?;
    let rows = st.query_map([case_id], from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

impl Tx<'_> {
    pub fn rule_timer(&self, id: i64) -> Result<Option<RuleTimer>> {
        Ok(self
            .prepare_cached(&format!("SELECT {COLUMNS} FROM rule_timers WHERE id = ?1"))?
            .query_row([id], from_row)
            .optional()?)
    }

    pub fn rule_timers_of_case(&self, case_id: Uuid) -> Result<Vec<RuleTimer>> {
        of_case(self, case_id)
    }

    /// Adds a timer unless the same rule, subject and anchor has one; returns the new
    /// row's id and due instant.
    pub fn insert_rule_timer(
        &self,
        rule_key: &str,
        case_id: Uuid,
        subject_id: Uuid,
        anchor_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached(
                "INSERT INTO rule_timers (rule_key, case_id, subject_id, anchor_at, due_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (rule_key, subject_id, anchor_at) DO NOTHING RETURNING id",
            )?
            .query_row(params![rule_key, case_id, subject_id, to_millis(anchor_at), to_millis(due_at)], |r| r.get(0))
            .optional()?)
    }

    /// A timer whose rule's offset changed before it fired.
    pub fn move_rule_timer(&self, id: i64, due_at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached("UPDATE rule_timers SET due_at = ?2 WHERE id = ?1 AND fired_at IS NULL")?
            .execute(params![id, to_millis(due_at)])?;
        Ok(())
    }

    /// Open cases after `after` in id order, a page at a time (the sweep after the
    /// workspace's timed rules change).
    pub fn open_cases_after(&self, after: Uuid, limit: u32) -> Result<Vec<Uuid>> {
        let mut st = self.prepare_cached(
            "SELECT id FROM cases WHERE status_category != 'closed' AND id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![after, limit], |r| r.get(0))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    pub fn delete_rule_timer(&self, id: i64) -> Result<()> {
        self.prepare_cached("DELETE FROM rule_timers WHERE id = ?1 AND fired_at IS NULL")?.execute([id])?;
        Ok(())
    }

    /// Marks a timer fired; false if it already was (it fires once).
    pub fn fire_rule_timer(&self, id: i64, at: DateTime<Utc>, matched: bool) -> Result<bool> {
        let n = self
            .prepare_cached("UPDATE rule_timers SET fired_at = ?2, matched = ?3 WHERE id = ?1 AND fired_at IS NULL")?
            .execute(params![id, to_millis(at), matched])?;
        Ok(n == 1)
    }
}

/// The channel of the first interaction linked to a case, as rules see it.
pub fn case_channel(conn: &Conn, case_id: Uuid) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT i.channel FROM case_interactions ci JOIN interactions i ON i.id = ci.interaction_id
             WHERE ci.case_id = ?1 ORDER BY i.started_at LIMIT 1",
        )?
        .query_row([case_id], |r| r.get(0))
        .optional()?)
}

/// When the case entered its current status: its latest creation, status change or reopening.
pub fn status_since(conn: &Conn, case_id: Uuid) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = conn
        .prepare_cached(
            "SELECT max(at) FROM events WHERE case_id = ?1
             AND kind IN ('case_created', 'case_status_changed', 'case_reopened', 'case_closed')",
        )?
        .query_row([case_id], |r| r.get(0))?;
    Ok(at.map(from_millis))
}
