//! Commands pushed by replicas (desktops that worked offline), applied in one order of
//! record. A push is idempotent: the command's UUID is remembered with its outcome, so
//! a repeat (a lost reply, a retry after a crash, a retry racing its first copy: pushes
//! are applied one at a time) changes nothing and gets the same answer. A command the
//! engine refuses is still consumed: it becomes a conflict record with the refusal, in
//! the same gap-free order as the applied ones. Only a failure of the store itself
//! leaves a push unconsumed, for the replica to send again.

use super::merge::{self, Conflict, Merge};
use super::permissions::{require, Action};
use super::references;
use super::{Engine, Origin};
use crate::command::Command;
use crate::error::{Error, Result};
use crate::hlc::HlcTime;
use crate::model::Actor;
use crate::store::changes::{self, ChangedRow};
use crate::store::Tx;
use crate::ErrorPayload;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;
use uuid::Uuid;

/// The most rows one pull returns.
pub const MAX_PAGE: i64 = 5_000;
/// The most reference numbers one block holds.
pub const MAX_CLIENT_BLOCK: i64 = 100_000;

/// A command as a replica pushes it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PushedCommand {
    /// The replica that made it, and its place in that replica's own order (from 1).
    pub client_id: String,
    #[ts(type = "number")]
    pub client_seq: i64,
    /// Unique per command: what makes a repeated push recognisable.
    pub command_id: Uuid,
    /// How far the replica had pulled when its user made the command.
    #[ts(type = "number")]
    pub seen_cursor: i64,
    pub hlc: HlcTime,
    /// One of the engine's commands, as the desktop sends them (`{"kind": ...}`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub command: Command,
    /// The reference number a case made by this command took from the client's block.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub reference: Option<i64>,
}

/// Rows changed after a cursor, in the hub's change order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePage {
    /// This hub's database; a different one means a replica must start over.
    pub epoch: String,
    pub schema_version: i64,
    /// The hub's last change number: below a replica's cursor, the hub lost changes.
    pub head: i64,
    /// Where the next pull starts.
    pub cursor: i64,
    pub has_more: bool,
    /// Each table's columns, in the order of the rows' values.
    pub columns: BTreeMap<String, Vec<String>>,
    pub rows: Vec<ChangedRow>,
}

/// Reference numbers reserved on the hub for one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferenceBlock {
    pub prefix: String,
    pub first: i64,
    pub last: i64,
}

/// What became of a pushed command, in the order of record (`push_seq`, from 1, no gaps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PushOutcome {
    #[ts(type = "number")]
    pub push_seq: i64,
    /// None when it applied; the engine's refusal when it became a conflict.
    pub conflict: Option<ErrorPayload>,
    /// True when this push had been received before (nothing changed now).
    pub repeated: bool,
    /// The hub's change number after it: a pull to here shows the command's effects.
    #[serde(default)]
    #[ts(type = "number")]
    pub cursor: i64,
}

/// Refusals that are the command's own (the state, the rules, the person): the push is
/// consumed as a conflict. Anything else is the store failing, and the push is not.
fn is_refusal(e: &Error) -> bool {
    !matches!(e, Error::Storage(_) | Error::Io(_) | Error::DatabaseCorrupt { .. } | Error::DatabaseTooNew { .. })
}

impl Engine {
    /// Applies a pushed command once, in the order of record; see the module's text.
    pub fn apply_pushed(&self, actor: &Actor, push: PushedCommand) -> Result<PushOutcome> {
        if push.client_id.trim().is_empty() || push.client_seq < 1 {
            return Err(Error::field("client_seq", "a push names its client and a sequence number from 1"));
        }
        let _one_at_a_time = self.pushes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = self.already_pushed(push.command_id)? {
            return Ok(known);
        }
        let command_id = push.command_id;
        self.apply_new_push(actor, push).or_else(|e| match self.already_pushed(command_id)? {
            // Another hub process over the same database applied it meanwhile: its
            // record, made in the same transaction as its effects, refused this one.
            Some(known) => Ok(known),
            None => Err(e),
        })
    }

    /// What a push already recorded came to, as a repeated push is told.
    fn already_pushed(&self, command_id: Uuid) -> Result<Option<PushOutcome>> {
        let Some(known) = self.read(|db| crate::store::sync::pushed(db.connection_ref(), command_id))? else {
            return Ok(None);
        };
        let cursor = self.read(|db| changes::head(db.connection_ref(), "main"))?;
        Ok(Some(PushOutcome { repeated: true, cursor, ..known }))
    }

    fn apply_new_push(&self, actor: &Actor, push: PushedCommand) -> Result<PushOutcome> {
        if self.read(|db| crate::store::sync::seq_taken(db.connection_ref(), &push.client_id, push.client_seq))? {
            return Err(Error::field(
                "client_seq",
                format!("{} of client {} was already used by another command", push.client_seq, push.client_id),
            ));
        }
        let origin = Origin::Pushed {
            command_id: push.command_id,
            made_at_ms: push.hlc.millis,
            client_id: push.client_id.clone(),
            reference: push.reference,
        };
        let outcome = |tx: &Tx, conflict: Option<&Conflict>| -> Result<PushOutcome> {
            let error = conflict.map(|c| c.error.clone());
            let push_seq = tx.record_push(&push, &actor.user_id, error.as_ref())?;
            if let Some(c) = conflict {
                tx.insert_conflict(&push, push_seq, &actor.user_id, c, self.clock().now())?;
            }
            Ok(PushOutcome { push_seq, conflict: error, repeated: false, cursor: changes::head(tx, "main")? })
        };
        let refusal =
            match self.execute_from(actor, push.command.clone(), Some(origin.clone()), |tx, _| outcome(tx, None)) {
                Ok((_, done)) => return Ok(done),
                Err(e) if is_refusal(&e) => e,
                Err(e) => return Err(e),
            };
        let merged = self.write(|tx| match merge::decide(tx, actor, &push, &refusal)? {
            Merge::Keep(conflict) => Ok(Ok(outcome(tx, Some(&conflict))?)),
            Merge::Override { task_id, conflict } => {
                tx.execute_batch("SAVEPOINT merge")?;
                let ran = self.restore_assignee(tx, task_id, &actor.user_id).and_then(|_| {
                    let ((_, timers), _) = self.run_in(tx, actor, push.command.clone(), Some(origin.clone()))?;
                    Ok(timers)
                });
                match ran {
                    Ok(timers) => {
                        tx.execute_batch("RELEASE merge")?;
                        Ok(Err((outcome(tx, Some(&conflict))?, timers)))
                    }
                    Err(e) if is_refusal(&e) => {
                        tx.execute_batch("ROLLBACK TO merge; RELEASE merge")?;
                        let kept = Conflict { kind: "refused", error: e.payload(), ..conflict };
                        Ok(Ok(outcome(tx, Some(&kept))?))
                    }
                    Err(e) => Err(e),
                }
            }
        })?;
        Ok(match merged {
            Ok(done) => done,
            Err((done, timers)) => {
                self.hint_timers(timers);
                done
            }
        })
    }
}

impl Engine {
    /// This database's epoch: made once, kept in the file (a restored backup has the
    /// epoch of the file it was taken from, so the head number shows what it lost).
    pub fn epoch(&self) -> Result<String> {
        if let Some(e) = self.read(|db| crate::store::sync::state(db.connection_ref(), "epoch"))? {
            return Ok(e);
        }
        self.write(|tx| {
            tx.set_sync_state_once("epoch", &Uuid::new_v4().to_string())?;
            Ok(crate::store::sync::state(tx, "epoch")?.unwrap_or_default())
        })
    }

    /// The last change number of this database's rows.
    pub fn head(&self) -> Result<i64> {
        self.read(|db| changes::head(db.connection_ref(), "main"))
    }

    /// Up to `limit` rows changed after `cursor`, for a signed-in user's replica.
    pub fn changes_after(&self, actor: &Actor, cursor: i64, limit: i64) -> Result<ChangePage> {
        if cursor < 0 {
            return Err(Error::field("cursor", "must be 0 or more"));
        }
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::field("limit", format!("must be 1 to {MAX_PAGE}")));
        }
        let epoch = self.epoch()?;
        self.read(|db| {
            if db.user(&actor.user_id)?.is_none() {
                return Err(Error::Forbidden {
                    actor: actor.user_id.clone(),
                    action: "pull changes".into(),
                    rule: "the user does not exist".into(),
                });
            }
            let conn = db.connection_ref();
            let head = changes::head(conn, "main")?;
            let (rows, columns) = changes::changes_after(conn, cursor, limit)?;
            let next = rows.last().map_or(cursor, |r| r.seq);
            Ok(ChangePage {
                epoch,
                schema_version: db.schema_version()?,
                head,
                cursor: next,
                has_more: next < head,
                columns,
                rows,
            })
        })
    }

    /// Reserves `size` numbers of `prefix` for `client_id`'s cases made offline. With
    /// `held`, the first number of a block the client already holds, it records that block
    /// again instead (this hub was restored from a backup older than the block), so the
    /// references the client's cases took stay valid and are never issued again; refused
    /// if this hub has meanwhile given any of those numbers to another client.
    pub fn reserve_for_client(
        &self,
        actor: &Actor,
        client_id: &str,
        prefix: &str,
        size: i64,
        held: Option<i64>,
    ) -> Result<ReferenceBlock> {
        require(actor, Action::WorkCases)?;
        if client_id.trim().is_empty() || client_id.len() > 100 {
            return Err(Error::field("client_id", "must be 1 to 100 characters"));
        }
        references::check_prefix(prefix)?;
        if !(1..=MAX_CLIENT_BLOCK).contains(&size) {
            return Err(Error::field("size", format!("must be 1 to {MAX_CLIENT_BLOCK}")));
        }
        let Some(first) = held else {
            return self.write(|tx| {
                let (first, last) = tx.reserve_reference_block(prefix, size)?;
                references::check_left(prefix, last)?;
                tx.record_client_block(client_id, prefix, first, last)?;
                Ok(ReferenceBlock { prefix: prefix.to_string(), first, last })
            });
        };
        let last = first.saturating_add(size - 1);
        references::check_block("first", first, last)?;
        self.write(|tx| {
            match crate::store::sync::client_block_overlapping(tx, prefix, first, last)? {
                Some(known) if known == (client_id.to_string(), first, last) => {}
                Some((other, f, l)) => {
                    return Err(Error::Conflict(format!(
                        "{prefix} {first} to {last} overlaps {f} to {l}, which this hub reserved for {other}"
                    )))
                }
                None => tx.record_client_block(client_id, prefix, first, last)?,
            }
            tx.advance_reference_sequence(prefix, last)?;
            Ok(ReferenceBlock { prefix: prefix.to_string(), first, last })
        })
    }
}
