//! Pushed commands and their outcomes, in the order of record (`push_seq`).

use super::sql::{params, Conn, OptionalExtension};
use super::tx::Tx;
use crate::command::Command;
use crate::engine::{PushOutcome, PushedCommand};
use crate::error::Result;
use crate::hlc::HlcTime;
use crate::ErrorPayload;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The recorded outcome of a command pushed before, by its UUID.
pub fn pushed(conn: &Conn, command_id: Uuid) -> Result<Option<PushOutcome>> {
    let row: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT push_seq, conflict FROM pushed_commands WHERE command_id = ?1")?
        .query_row([command_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(push_seq, conflict)| {
        let conflict = conflict.map(|c| serde_json::from_str::<ErrorPayload>(&c)).transpose()?;
        Ok(PushOutcome { push_seq, conflict, repeated: false, cursor: 0 })
    })
    .transpose()
}

/// Whether a client's sequence number already belongs to a command.
pub fn seq_taken(conn: &Conn, client_id: &str, client_seq: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM pushed_commands WHERE client_id = ?1 AND client_seq = ?2")?
        .query_row(params![client_id, client_seq], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A command made on this desktop, as kept until the hub reflects it.
pub struct Pending {
    pub command_id: Uuid,
    pub actor: String,
    pub hlc: HlcTime,
    pub command: Command,
    pub reference: Option<i64>,
}

/// The latest time a pending command was given (where this desktop's clock resumes).
pub fn last_pending_hlc(conn: &Conn) -> Result<HlcTime> {
    Ok(conn
        .prepare_cached(
            "SELECT hlc_millis, hlc_counter FROM pending_commands ORDER BY hlc_millis DESC, hlc_counter DESC LIMIT 1",
        )?
        .query_row([], |r| Ok(HlcTime { millis: r.get(0)?, counter: r.get(1)? }))
        .optional()?
        .unwrap_or(HlcTime { millis: 0, counter: 0 }))
}

/// Up to `limit` commands the hub has not recorded yet, in the order they were made.
pub fn unpushed(conn: &Conn, client_id: &str, actor: &str, limit: usize) -> Result<Vec<PushedCommand>> {
    let mut st = conn.prepare_cached(
        "SELECT client_seq, command_id, seen_cursor, hlc_millis, hlc_counter, command, reference
         FROM pending_commands WHERE acked_cursor IS NULL AND actor = ?2 ORDER BY client_seq LIMIT ?1",
    )?;
    let rows = st.query_map(params![limit as i64, actor], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?, r.get(6)?))
    })?;
    let mut out = vec![];
    for row in rows {
        let (client_seq, command_id, seen_cursor, millis, counter, command, reference) = row?;
        out.push(PushedCommand {
            client_id: client_id.to_string(),
            client_seq,
            command_id,
            seen_cursor,
            hlc: HlcTime { millis, counter },
            command: serde_json::from_str(&command)?,
            reference,
        });
    }
    Ok(out)
}

/// The commands to replay after a pull to `cursor`: those the hub has not reflected.
pub fn to_replay(conn: &Conn, cursor: i64) -> Result<Vec<Pending>> {
    let mut st = conn.prepare_cached(
        "SELECT command_id, actor, hlc_millis, hlc_counter, command, reference FROM pending_commands
         WHERE acked_cursor IS NULL OR acked_cursor > ?1 ORDER BY client_seq",
    )?;
    let rows = st
        .query_map([cursor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?, r.get(5)?)))?;
    let mut out = vec![];
    for row in rows {
        let (command_id, actor, millis, counter, command, reference) = row?;
        let command = serde_json::from_str(&command)?;
        out.push(Pending { command_id, actor, hlc: HlcTime { millis, counter }, command, reference });
    }
    Ok(out)
}

/// Commands made here that the hub has not recorded yet.
pub fn waiting(conn: &Conn) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM pending_commands WHERE acked_cursor IS NULL")?
        .query_row([], |r| r.get(0))?)
}

/// Every block of reference numbers granted to this database, as (prefix, first, last).
pub fn reference_blocks(conn: &Conn) -> Result<Vec<(String, i64, i64)>> {
    let mut st = conn.prepare_cached("SELECT prefix, first, last FROM reference_blocks ORDER BY prefix, first")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// A block the hub reserved for some client that shares a number with `first..=last`,
/// as (client, first, last).
pub fn client_block_overlapping(
    conn: &Conn,
    prefix: &str,
    first: i64,
    last: i64,
) -> Result<Option<(String, i64, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT client_id, first, last FROM client_reference_blocks
             WHERE prefix = ?1 AND first <= ?3 AND last >= ?2 ORDER BY first LIMIT 1",
        )?
        .query_row(params![prefix, first, last], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The reference prefixes of the published case types for which this database's blocks
/// hold fewer than `low` numbers.
pub fn prefixes_running_low(conn: &Conn, low: i64) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(conn.pick(
        "SELECT DISTINCT json_extract(definition, '$.reference_prefix') FROM case_type_versions",
        "SELECT DISTINCT definition::jsonb ->> 'reference_prefix' FROM case_type_versions",
    ))?;
    let prefixes: Vec<Option<String>> = st.query_map([], |r| r.get(0))?.collect::<super::sql::Result<_>>()?;
    let mut out = vec![];
    for prefix in prefixes.into_iter().flatten() {
        let left: i64 = conn
            .prepare_cached(
                "SELECT CAST(coalesce(sum(last + 1 - next), 0) AS BIGINT) FROM reference_blocks WHERE prefix = ?1",
            )?
            .query_row([&prefix], |r| r.get(0))?;
        if left < low {
            out.push(prefix);
        }
    }
    Ok(out)
}

/// The newest conflicts, with their case's reference.
pub fn conflicts(conn: &Conn, limit: i64) -> Result<Vec<crate::engine::replica::ConflictRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT k.id, k.at, k.actor, k.kind, k.code, k.message, k.case_id, c.reference, k.task_id, k.theirs, k.ours
         FROM conflicts k LEFT JOIN cases c ON c.id = k.case_id ORDER BY k.at DESC, k.push_seq DESC LIMIT ?1",
    )?;
    let rows = st.query_map([limit], |r| {
        let json = |i: usize| -> super::sql::Result<serde_json::Value> {
            Ok(r.get::<_, Option<String>>(i)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
        };
        Ok(crate::engine::replica::ConflictRecord {
            id: r.get(0)?,
            at: crate::clock::from_millis(r.get(1)?),
            actor: r.get(2)?,
            kind: r.get(3)?,
            code: r.get(4)?,
            message: r.get(5)?,
            case_id: r.get(6)?,
            case_reference: r.get(7)?,
            task_id: r.get(8)?,
            theirs: json(9)?,
            ours: json(10)?,
        })
    })?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// A value of this database's sync state.
pub fn state(conn: &Conn, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
        .query_row([key], |r| r.get::<_, super::sql::Value>(0))
        .optional()?
        .map(|v| match v {
            super::sql::Value::Integer(i) => i.to_string(),
            super::sql::Value::Text(t) => t,
            other => format!("{other:?}"),
        }))
}

/// A number of this database's sync state (0 when unset).
pub fn state_number(conn: &Conn, key: &str) -> Result<i64> {
    Ok(state(conn, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

impl Tx<'_> {
    pub fn set_sync_state(&self, key: &str, value: &dyn super::sql::ToSql) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![key, value])?;
        Ok(())
    }

    pub fn set_sync_state_once(&self, key: &str, value: &str) -> Result<()> {
        self.prepare_cached("INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
            .execute(params![key, value])?;
        Ok(())
    }

    pub fn record_client_block(&self, client_id: &str, prefix: &str, first: i64, last: i64) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO client_reference_blocks (prefix, first, last, client_id) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![prefix, first, last, client_id])?;
        Ok(())
    }

    /// Records a push with the next number of the order of record; returns that number.
    pub fn record_push(&self, push: &PushedCommand, actor: &str, conflict: Option<&ErrorPayload>) -> Result<i64> {
        let next: i64 = self
            .prepare_cached("SELECT coalesce(max(push_seq), 0) + 1 FROM pushed_commands")?
            .query_row([], |r| r.get(0))?;
        self.prepare_cached(
            "INSERT INTO pushed_commands
               (push_seq, command_id, client_id, client_seq, actor, seen_cursor, hlc_millis, hlc_counter, command, conflict)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            next,
            push.command_id,
            push.client_id,
            push.client_seq,
            actor,
            push.seen_cursor,
            push.hlc.millis,
            push.hlc.counter,
            serde_json::to_string(&push.command)?,
            conflict.map(serde_json::to_string).transpose()?,
        ])?;
        Ok(next)
    }
}

impl Tx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn add_pending(
        &self,
        command_id: Uuid,
        actor: &str,
        seen_cursor: i64,
        hlc: HlcTime,
        command: &Command,
        reference: Option<i64>,
        made_at: DateTime<Utc>,
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO pending_commands
               (client_seq, command_id, actor, seen_cursor, hlc_millis, hlc_counter, command, reference, made_at)
             VALUES ((SELECT coalesce(max(client_seq), 0) + 1 FROM pending_commands), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            command_id,
            actor,
            seen_cursor,
            hlc.millis,
            hlc.counter,
            serde_json::to_string(command)?,
            reference,
            crate::clock::to_millis(made_at)
        ])?;
        Ok(())
    }

    pub fn record_push_outcome(&self, command_id: Uuid, outcome: &PushOutcome) -> Result<()> {
        self.prepare_cached(
            "UPDATE pending_commands SET push_seq = ?2, acked_cursor = ?3, conflict = ?4 WHERE command_id = ?1",
        )?
        .execute(params![
            command_id,
            outcome.push_seq,
            outcome.cursor,
            outcome.conflict.as_ref().map(serde_json::to_string).transpose()?
        ])?;
        Ok(())
    }

    /// Who had a task as of a replica's cursor: the last assignment recorded up to it.
    pub fn assignee_as_seen(&self, case_id: Uuid, task_id: Uuid, cursor: i64) -> Result<Option<String>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {} FROM events e
                 JOIN row_changes rc ON rc.tbl = 'events' AND rc.k1 = {}
                 WHERE e.case_id = ?1 AND e.task_id = ?2 AND e.kind = 'task_assigned' AND rc.seq <= ?3
                 ORDER BY e.seq DESC LIMIT 1",
                self.pick("json_extract(e.after, '$.assignee')", "e.after::jsonb ->> 'assignee'"),
                // PostgreSQL's row_changes keeps keys as text.
                self.pick("e.seq", "CAST(e.seq AS TEXT)"),
            ))?
            .query_row(params![case_id, task_id, cursor], |r| r.get(0))
            .optional()?
            .flatten())
    }

    pub fn insert_conflict(
        &self,
        push: &PushedCommand,
        push_seq: i64,
        actor: &str,
        c: &crate::engine::merge::Conflict,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO conflicts (id, push_seq, actor, case_id, task_id, kind, code, message, theirs, ours, command, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            push.command_id,
            push_seq,
            actor,
            c.case_id,
            c.task_id,
            c.kind,
            c.error.code,
            c.error.message,
            c.theirs.to_string(),
            c.ours.to_string(),
            serde_json::to_string(&push.command)?,
            crate::clock::to_millis(at),
        ])?;
        Ok(())
    }

    /// Every command made here is to be pushed again (to a hub that lost them).
    pub fn forget_acknowledgements(&self) -> Result<()> {
        self.execute("UPDATE pending_commands SET push_seq = NULL, acked_cursor = NULL, conflict = NULL", [])?;
        Ok(())
    }
}
