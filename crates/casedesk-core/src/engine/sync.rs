//! Commands pushed by replicas (desktops that worked offline), applied in one order of
//! record. A push is idempotent: the command's UUID is remembered with its outcome, so
//! a repeat (a lost reply, a retry after a crash) changes nothing and gets the same
//! answer. A command the engine refuses is still consumed: it becomes a conflict record
//! with the refusal, in the same gap-free order as the applied ones. Only a failure of
//! the store itself leaves a push unconsumed, for the replica to send again.

use super::Engine;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::hlc::HlcTime;
use crate::model::Actor;
use crate::ErrorPayload;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// A command as a replica pushes it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
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
    pub command: Command,
}

/// What became of a pushed command, in the order of record (`push_seq`, from 1, no gaps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PushOutcome {
    #[ts(type = "number")]
    pub push_seq: i64,
    /// None when it applied; the engine's refusal when it became a conflict.
    pub conflict: Option<ErrorPayload>,
    /// True when this push had been received before (nothing changed now).
    pub repeated: bool,
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
        if let Some(known) = self.read(|db| crate::store::sync::pushed(db.connection_ref(), push.command_id))? {
            return Ok(PushOutcome { repeated: true, ..known });
        }
        if self.read(|db| crate::store::sync::seq_taken(db.connection_ref(), &push.client_id, push.client_seq))? {
            return Err(Error::field(
                "client_seq",
                format!("{} of client {} was already used by another command", push.client_seq, push.client_id),
            ));
        }
        let p = &push;
        let record = |conflict: Option<ErrorPayload>| {
            move |tx: &crate::store::Tx| -> Result<PushOutcome> {
                let push_seq = tx.record_push(p, &actor.user_id, conflict.as_ref())?;
                Ok(PushOutcome { push_seq, conflict, repeated: false })
            }
        };
        match self.execute_then(actor, push.command.clone(), record(None)) {
            Ok((_, outcome)) => Ok(outcome),
            Err(e) if is_refusal(&e) => self.write(record(Some(e.payload()))),
            Err(e) => Err(e),
        }
    }
}
