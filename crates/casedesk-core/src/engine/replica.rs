//! The desktop's side of sync. A desktop joined to a hub keeps a mirror of the hub's rows
//! (`hub-mirror.sqlite`) and shows the mirror plus the effects of its own commands that
//! the hub has not reflected back yet. Each command made here is executed at once (the
//! user sees it, offline too) and kept as pending, with an id, the reference number it
//! took and the time it was made, so that replaying it here and running it on the hub
//! make the same ids and reference. After a pull, [`Engine::rebuild`] resets what this
//! desktop or the pull changed to the mirror's values and replays what is still pending.
//! [`sync_once`] is one round over a [`HubLink`].

use super::{Engine, Origin, PushOutcome, PushedCommand, ReferenceBlock};
use crate::command::{Command, Executed};
use crate::error::{Error, Result};
use crate::hlc::{Hlc, HlcTime};
use crate::model::Actor;
use crate::store::changes;
use crate::store::sync::{state, state_number};
use crate::ChangePage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// The mirror of the hub, beside the workspace's database.
pub const MIRROR_FILE: &str = "hub-mirror.sqlite";
/// Rows asked for per pull.
pub const PULL_PAGE: i64 = 2_000;
/// Commands sent per push.
pub const PUSH_BATCH: usize = 200;
/// At most this much JSON of commands per push: a batch is cut before the command that
/// would pass it (one command always goes; the hub takes pushes up to 48 MiB).
pub const PUSH_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Reference numbers asked for at a time, and how few left make the desktop ask again.
pub const BLOCK_SIZE: i64 = 1_000;
pub const BLOCK_LOW: i64 = 250;

/// What the toolbar shows of sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SyncStatus {
    /// False for a standalone workspace (no hub).
    pub joined: bool,
    /// Whether the last round reached the hub (the shell, which talks to it, says).
    pub online: bool,
    /// Why the last round failed, if it did.
    pub problem: Option<String>,
    /// Commands made here that the hub has not recorded yet.
    #[ts(type = "number")]
    pub waiting: i64,
    /// Conflicts this user may see (their own; a supervisor's teams').
    #[ts(type = "number")]
    pub conflicts: i64,
    pub last_sync: Option<DateTime<Utc>>,
    /// How far this desk has pulled the hub's changes: it moves when a sync brought any.
    #[ts(type = "number")]
    pub cursor: i64,
}

/// A conflict as the desktop shows it: what the command brought and what stood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConflictRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// refused | superseded | overrode
    pub kind: String,
    pub code: String,
    pub message: String,
    pub case_id: Option<Uuid>,
    pub case_reference: Option<String>,
    pub task_id: Option<Uuid>,
    #[ts(type = "unknown")]
    pub theirs: serde_json::Value,
    #[ts(type = "unknown")]
    pub ours: serde_json::Value,
}

/// The hub as a desktop reaches it (HTTP in the shell; in memory in tests).
pub trait HubLink {
    fn push(&self, batch: &[PushedCommand]) -> Result<Vec<PushOutcome>>;
    fn pull(&self, cursor: i64, limit: i64) -> Result<ChangePage>;
    /// Reserves `size` numbers of `prefix`; with `held`, records again the block from that
    /// number which this desk already holds (see `Engine::reserve_for_client`).
    fn reserve(&self, prefix: &str, size: i64, held: Option<i64>) -> Result<ReferenceBlock>;
    /// Who is signed in: the hub applies every push as them.
    fn user(&self) -> &str;
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncRound {
    pub pushed: usize,
    pub pulled: usize,
    /// True when the hub had lost changes (restored from a backup) or was another hub.
    pub started_over: bool,
}

impl Engine {
    /// This desktop's client id, if it is joined to a hub.
    pub fn client_id(&self) -> Result<Option<String>> {
        self.read(|db| state(db.connection_ref(), "client_id"))
    }

    /// Joins this workspace to a hub as `client_id` (kept if it is joined already), and
    /// opens the mirror.
    pub fn join_hub(&self, client_id: &str) -> Result<String> {
        if client_id.trim().is_empty() {
            return Err(Error::field("client_id", "must not be empty"));
        }
        self.write(|tx| tx.set_sync_state_once("client_id", client_id))?;
        self.open_mirror()?;
        Ok(self.client_id()?.unwrap_or_default())
    }

    /// Attaches the mirror when this workspace is joined to a hub.
    pub fn open_mirror(&self) -> Result<()> {
        if self.client_id()?.is_some() {
            let path = self.data_dir().join(MIRROR_FILE);
            self.db().attach_mirror(&path)?;
        }
        Ok(())
    }

    /// Runs a command from a person: on a desktop joined to a hub it is also kept to push.
    pub fn submit(&self, actor: &Actor, command: Command) -> Result<Executed> {
        match self.client_id()? {
            None => self.execute(actor, command),
            Some(_) => self.execute_offline(actor, command),
        }
    }

    fn next_hlc(&self) -> Result<HlcTime> {
        let mut hlc = self.hlc.lock().unwrap_or_else(|p| p.into_inner());
        if hlc.is_none() {
            let last = self.read(|db| crate::store::sync::last_pending_hlc(db.connection_ref()))?;
            *hlc = Some(Hlc::resume(last));
        }
        let wall = self.clock().now().timestamp_millis();
        Ok(hlc.as_mut().expect("set above").now(wall))
    }

    fn execute_offline(&self, actor: &Actor, command: Command) -> Result<Executed> {
        let hlc = self.next_hlc()?;
        let command_id = Uuid::new_v4();
        let origin = Origin::Local { command_id, made_at_ms: hlc.millis, reference: None };
        let kept = command.clone();
        let made_at = self.clock().now();
        let (executed, _) = self.execute_from(actor, command, Some(origin), |tx, taken| {
            let seen = state_number(tx, "cursor")?;
            tx.add_pending(command_id, &actor.user_id, seen, hlc, &kept, taken, made_at)
        })?;
        Ok(executed)
    }

    /// Up to `limit` commands made here that the hub has not recorded, oldest first.
    pub fn unpushed(&self, actor: &str, limit: usize) -> Result<Vec<PushedCommand>> {
        let client_id = self.client_id()?.ok_or_else(not_joined)?;
        self.read(|db| crate::store::sync::unpushed(db.connection_ref(), &client_id, actor, limit))
    }

    /// Records what the hub made of a pushed command.
    pub fn pushed(&self, command_id: Uuid, outcome: &PushOutcome) -> Result<()> {
        self.write(|tx| tx.record_push_outcome(command_id, outcome))
    }

    /// Writes a pulled page into the mirror and moves the cursor past it.
    pub fn apply_page(&self, page: &ChangePage) -> Result<()> {
        let mut db = self.db();
        db.write_unchecked(|tx| {
            tx.apply_to_mirror(&page.rows, &page.columns)?;
            tx.set_sync_state("cursor", &page.cursor)?;
            tx.set_sync_state("hub_epoch", &page.epoch)
        })
    }

    /// Whether a page shows that the hub is not the one this desktop pulled from before
    /// (another database, or one restored from an older backup).
    fn hub_lost_track(&self, page: &ChangePage) -> Result<bool> {
        let (epoch, cursor) = self
            .read(|db| Ok((state(db.connection_ref(), "hub_epoch")?, state_number(db.connection_ref(), "cursor")?)))?;
        Ok(epoch.is_some_and(|e| e != page.epoch) || page.head < cursor)
    }

    /// Forgets the mirror and every acknowledgement: the next round pushes everything
    /// made here again (the hub ignores what it has) and pulls from the start.
    fn start_over(&self) -> Result<()> {
        let mut db = self.db();
        db.write_unchecked(|tx| {
            tx.clear_mirror()?;
            tx.set_sync_state("cursor", &0)?;
            tx.set_sync_state("blocks_to_reclaim", &1)?;
            tx.execute("DELETE FROM sync_state WHERE key = 'hub_epoch'", [])?;
            tx.forget_acknowledgements()
        })
    }

    /// After starting over, and before anything is pushed again: records this desk's
    /// reference blocks on the hub again, so the cases that took their numbers keep them.
    /// A block the hub has meanwhile given to someone else gives no more numbers here (the
    /// cases that took them become conflicts on the hub).
    fn reclaim_references(&self, hub: &dyn HubLink) -> Result<()> {
        if self.read(|db| state_number(db.connection_ref(), "blocks_to_reclaim"))? == 0 {
            return Ok(());
        }
        for (prefix, first, last) in self.read(|db| crate::store::sync::reference_blocks(db.connection_ref()))? {
            match hub.reserve(&prefix, last - first + 1, Some(first)) {
                Ok(_) => {}
                Err(Error::Conflict(_)) => self.write(|tx| tx.close_reference_block(&prefix, first))?,
                Err(e) => return Err(e),
            }
        }
        self.write(|tx| tx.set_sync_state("blocks_to_reclaim", &0))
    }

    /// Resets what this desktop or the pulls changed to the mirror's values, then replays
    /// the commands the hub has not reflected back, all in one transaction.
    pub fn rebuild(&self) -> Result<usize> {
        let mut db = self.db();
        let replayed = db.write(|tx| {
            let local_mark = state_number(tx, "local_mark")?;
            let mirror_mark = state_number(tx, "mirror_mark")?;
            tx.reset_from_mirror(local_mark, mirror_mark)?;
            tx.set_sync_state("local_mark", &changes::head(tx, "main")?)?;
            tx.set_sync_state("mirror_mark", &changes::head(tx, "mirror")?)?;
            let cursor = state_number(tx, "cursor")?;
            let mut replayed = 0;
            for p in crate::store::sync::to_replay(tx, cursor)? {
                let origin =
                    Origin::Local { command_id: p.command_id, made_at_ms: p.hlc.millis, reference: p.reference };
                tx.execute_batch("SAVEPOINT replay")?;
                // One that no longer applies here stays pending: the hub decides it.
                match self.run_in(tx, &Actor { user_id: p.actor.clone(), roles: vec![] }, p.command, Some(origin)) {
                    Ok(_) => {
                        tx.execute_batch("RELEASE replay")?;
                        replayed += 1;
                    }
                    Err(_) => tx.execute_batch("ROLLBACK TO replay; RELEASE replay")?,
                }
            }
            tx.set_sync_state("last_sync", &self.clock().now().timestamp_millis())?;
            Ok(replayed)
        })?;
        // The reset moved clocks the queue cannot know of: it is read again.
        self.reload_timers(&db)?;
        Ok(replayed)
    }

    /// What the toolbar shows for `user`.
    pub fn sync_status(&self, user: &crate::model::User) -> Result<SyncStatus> {
        let conflicts = self.conflicts(user, 1_000)?.len() as i64;
        self.read(|db| {
            let conn = db.connection_ref();
            Ok(SyncStatus {
                joined: state(conn, "client_id")?.is_some(),
                online: false,
                problem: None,
                waiting: crate::store::sync::waiting(conn)?,
                conflicts,
                last_sync: state(conn, "last_sync")?
                    .and_then(|v| v.parse().ok())
                    .and_then(DateTime::<Utc>::from_timestamp_millis),
                cursor: crate::store::sync::state_number(conn, "cursor")?,
            })
        })
    }

    /// The newest conflicts `user` may see: their own, and a supervisor's teams' (the
    /// cases they may see), at most `limit`.
    pub fn conflicts(&self, user: &crate::model::User, limit: u32) -> Result<Vec<ConflictRecord>> {
        self.read(|db| {
            let mut out = vec![];
            for c in crate::store::sync::conflicts(db.connection_ref(), 500)? {
                let oversees =
                    user.roles.iter().any(|r| matches!(r, crate::model::Role::Supervisor | crate::model::Role::Admin));
                let visible = c.actor == user.id
                    || (oversees
                        && match c.case_id.map(|id| db.case(id)).transpose()?.flatten() {
                            Some(case) => super::permissions::can_see_case(user, &case, &db.tasks_of_case(case.id)?),
                            None => false,
                        });
                if visible {
                    out.push(c);
                }
                if out.len() as u32 >= limit {
                    break;
                }
            }
            Ok(out)
        })
    }

    /// Asks the hub for reference numbers for each case type's prefix that runs low here.
    fn top_up_references(&self, hub: &dyn HubLink) -> Result<()> {
        for prefix in self.read(|db| crate::store::sync::prefixes_running_low(db.connection_ref(), BLOCK_LOW))? {
            let block = hub.reserve(&prefix, BLOCK_SIZE, None)?;
            self.write(|tx| tx.grant_reference_block(&block.prefix, block.first, block.last))?;
        }
        Ok(())
    }
}

fn not_joined() -> Error {
    Error::Conflict("this workspace is not joined to a hub".into())
}

/// How many of `batch`, from the first, fit in `limit` bytes of JSON (at least one).
fn fitting(batch: &[PushedCommand], limit: usize) -> usize {
    let mut size = 0;
    for (i, p) in batch.iter().enumerate() {
        size += serde_json::to_vec(p).map_or(limit, |json| json.len());
        if size > limit {
            return i.max(1);
        }
    }
    batch.len()
}

/// One round of sync: notice a hub that lost track, push what waits, pull to the head,
/// rebuild, and ask for reference numbers if they run low. Safe to stop at any point: a
/// push the hub recorded but whose reply was lost is recognised when sent again, and a
/// page is committed with the cursor it reached.
pub fn sync_once(engine: &Engine, hub: &dyn HubLink) -> Result<SyncRound> {
    let mut round = SyncRound::default();
    let cursor = engine.read(|db| state_number(db.connection_ref(), "cursor"))?;
    let probe = hub.pull(cursor, 1)?;
    if engine.hub_lost_track(&probe)? {
        engine.start_over()?;
        round.started_over = true;
    }
    engine.reclaim_references(hub)?;
    loop {
        // The hub applies a push as the person signed in: only their own commands go.
        let mut batch = engine.unpushed(hub.user(), PUSH_BATCH)?;
        batch.truncate(fitting(&batch, PUSH_BATCH_BYTES));
        if batch.is_empty() {
            break;
        }
        let outcomes = hub.push(&batch)?;
        if outcomes.len() != batch.len() {
            return Err(Error::Conflict(format!("the hub answered {} of {} pushes", outcomes.len(), batch.len())));
        }
        for (p, o) in batch.iter().zip(&outcomes) {
            engine.pushed(p.command_id, o)?;
        }
        round.pushed += batch.len();
    }
    loop {
        let cursor = engine.read(|db| state_number(db.connection_ref(), "cursor"))?;
        let page = hub.pull(cursor, PULL_PAGE)?;
        engine.apply_page(&page)?;
        round.pulled += page.rows.len();
        if !page.has_more {
            break;
        }
    }
    engine.rebuild()?;
    engine.top_up_references(hub)?;
    Ok(round)
}

#[cfg(test)]
mod push_batch_tests {
    use super::{fitting, Command, HlcTime, PushedCommand};

    #[test]
    fn a_batch_is_cut_before_the_command_that_would_pass_the_limit() {
        let note = |seq: i64| PushedCommand {
            client_id: "desk-a".into(),
            client_seq: seq,
            command_id: uuid::Uuid::nil(),
            seen_cursor: 0,
            hlc: HlcTime::default(),
            command: Command::AddNote { case_id: uuid::Uuid::nil(), body: "x".repeat(100) },
            reference: None,
        };
        let batch = vec![note(1), note(2), note(3)];
        let one = serde_json::to_vec(&batch[0]).unwrap().len();
        assert_eq!(fitting(&batch, one * 2), 2);
        assert_eq!(fitting(&batch, one * 3), 3);
        assert_eq!(fitting(&batch, 10), 1, "one command always goes");
    }
}
