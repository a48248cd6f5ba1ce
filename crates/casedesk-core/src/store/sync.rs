//! Pushed commands and their outcomes, in the order of record (`push_seq`).

use super::tx::Tx;
use crate::engine::{PushOutcome, PushedCommand};
use crate::error::Result;
use crate::ErrorPayload;
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

/// The recorded outcome of a command pushed before, by its UUID.
pub fn pushed(conn: &Connection, command_id: Uuid) -> Result<Option<PushOutcome>> {
    let row: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT push_seq, conflict FROM pushed_commands WHERE command_id = ?1")?
        .query_row([command_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(push_seq, conflict)| {
        let conflict = conflict.map(|c| serde_json::from_str::<ErrorPayload>(&c)).transpose()?;
        Ok(PushOutcome { push_seq, conflict, repeated: false })
    })
    .transpose()
}

/// Whether a client's sequence number already belongs to a command.
pub fn seq_taken(conn: &Connection, client_id: &str, client_seq: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM pushed_commands WHERE client_id = ?1 AND client_seq = ?2")?
        .query_row(params![client_id, client_seq], |_| Ok(()))
        .optional()?
        .is_some())
}

impl Tx<'_> {
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
