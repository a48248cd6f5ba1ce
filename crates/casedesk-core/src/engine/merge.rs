//! Domain rules for a pushed command that the engine refuses as made, because something
//! changed on the hub that its maker had not seen (they had pulled to `seen_cursor`):
//!
//! - A completion by the person the task was assigned to, as they last saw it, beats a
//!   reassignment made since: the task goes back to them and is completed.
//! - The first completion stands; a second one is kept, superseded, in the conflict.
//! - Anything else refused stays refused (terminal states stay terminal: only a
//!   supervisor's reopen changes them), with the refusal kept in the conflict.
//!
//! Notes are not here: adding a note depends on nothing that can change, so it applies.
//! Every conflict keeps both values: what the command brought and what stood.

use super::{routing, Ctx, Engine, PushedCommand};
use crate::command::Command;
use crate::error::{Error, Result};
use crate::model::{Actor, TaskState};
use crate::store::Tx;
use crate::ErrorPayload;
use serde_json::{json, Value};
use uuid::Uuid;

/// What became of a refused push.
pub(crate) enum Merge {
    /// Give the task back to the completer, then run the command.
    Override { task_id: Uuid, conflict: Conflict },
    /// Consume it, changing nothing but the conflict record.
    Keep(Conflict),
}

/// A conflict as the hub records it (table `conflicts`).
#[derive(Debug, Clone)]
pub struct Conflict {
    pub case_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    /// refused | superseded | overrode
    pub kind: &'static str,
    pub error: ErrorPayload,
    pub theirs: Value,
    pub ours: Value,
}

pub(crate) fn decide(tx: &Tx, actor: &Actor, push: &PushedCommand, refusal: &Error) -> Result<Merge> {
    let refused = |case_id, task_id| Conflict {
        case_id,
        task_id,
        kind: "refused",
        error: refusal.payload(),
        theirs: serde_json::to_value(&push.command).unwrap_or(Value::Null),
        ours: Value::Null,
    };
    let Command::CompleteTask { task_id, outcome, form_values, .. } = &push.command else {
        return Ok(Merge::Keep(refused(None, None)));
    };
    let Some(task) = tx.task(*task_id)? else { return Ok(Merge::Keep(refused(None, Some(*task_id)))) };
    let theirs = json!({ "by": actor.user_id, "outcome": outcome, "form_values": form_values });
    if matches!(task.state, TaskState::Completed | TaskState::Escalated) {
        return Ok(Merge::Keep(Conflict {
            case_id: Some(task.case_id),
            task_id: Some(task.id),
            kind: "superseded",
            error: ErrorPayload {
                code: "superseded".into(),
                message: format!(
                    "task {} was already finished by {} (outcome '{}'); this completion is kept here, superseded",
                    task.id,
                    task.assignee.as_deref().unwrap_or("someone"),
                    task.outcome.as_deref().unwrap_or("none"),
                ),
            },
            theirs,
            ours: json!({ "by": task.assignee, "outcome": task.outcome, "form_values": task.form_values }),
        }));
    }
    let reassigned_unseen = matches!(refusal, Error::Forbidden { .. })
        && task.state.is_open()
        && task.assignee.as_deref() != Some(actor.user_id.as_str())
        && tx.assignee_as_seen(task.case_id, task.id, push.seen_cursor)?.as_deref() == Some(actor.user_id.as_str());
    if reassigned_unseen {
        return Ok(Merge::Override {
            task_id: task.id,
            conflict: Conflict {
                case_id: Some(task.case_id),
                task_id: Some(task.id),
                kind: "overrode",
                error: ErrorPayload {
                    code: "completed_over_reassignment".into(),
                    message: format!(
                        "{} completed the task offline while it was theirs; it had since been given to {}. The completion stands",
                        actor.user_id,
                        task.assignee.as_deref().unwrap_or("nobody"),
                    ),
                },
                theirs,
                ours: json!({ "assignee": task.assignee, "state": task.state }),
            },
        });
    }
    Ok(Merge::Keep(refused(Some(task.case_id), Some(task.id))))
}

impl Engine {
    /// Gives a task back to the completer before their completion runs (same transaction).
    pub(crate) fn restore_assignee(&self, tx: &Tx, task_id: Uuid, user_id: &str) -> Result<()> {
        let system = Actor::system();
        let mut ctx = Ctx::new(tx, &system, self);
        let task = ctx.task(task_id)?;
        routing::assign_to(&mut ctx, task, user_id, "offline completion")
    }
}
