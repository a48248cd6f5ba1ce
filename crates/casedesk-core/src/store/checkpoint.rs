//! WAL checkpoints mostly off the commit path. SQLite's automatic checkpoint runs inside
//! the commit that crosses the threshold and, with synchronous=NORMAL, pays two fsyncs
//! there. Here a thread with its own connection copies the WAL into the database file
//! (PASSIVE: it never blocks the writer) when nudged after every [`NUDGE_EVERY`] commits,
//! and at least once a second.
//!
//! A checkpoint from another connection cannot finish while the writer keeps appending,
//! and only a finished one lets the WAL start over. So once the WAL holds
//! [`WRITER_CHECKPOINT_PAGES`], the writer checkpoints at the end of each commit (from
//! SQLite's WAL hook, as its automatic checkpoint would): by then the thread has copied
//! nearly everything, the writer's checkpoint finishes quickly, and its next transaction
//! starts the WAL over. Only one connection may checkpoint at a time and SQLite refuses
//! the second at once, so the writer first waits for the thread's turn to end. Without
//! that wait, a disk with slow fsyncs kept the thread checkpointing nearly all the time,
//! the writer's checkpoint was refused commit after commit, and the WAL grew without
//! bound. Durability is unchanged.

use rusqlite::Connection;
use std::ffi::c_int;
use std::path::Path;
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

/// About SQLite's default of 1,000 WAL pages for a create-case-sized transaction.
pub const NUDGE_EVERY: u64 = 64;

/// The WAL size (16 MiB of 4 KiB pages) from which the writer checkpoints itself, which
/// bounds the WAL.
pub const WRITER_CHECKPOINT_PAGES: c_int = 4096;

enum Signal {
    Checkpoint,
    Stop,
}

/// Held by whoever checkpoints: a checkpoint thread, or a writer. One for the process,
/// because SQLite's WAL hook takes a plain function, and a process holds one workspace.
static TURN: Mutex<()> = Mutex::new(());

fn passive_checkpoint(conn: &Connection) {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // A busy or failed checkpoint is retried on the next signal.
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

/// The writer's WAL hook, run inside each of its commits (SQLite's automatic checkpoint
/// does the same, but without waiting for its turn).
fn writer_committed(wal: &rusqlite::hooks::Wal, pages: c_int) -> rusqlite::Result<()> {
    if pages >= WRITER_CHECKPOINT_PAGES {
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        // Refused only by a checkpoint in another process; tried again at the next commit.
        let _ = wal.checkpoint();
    }
    Ok(())
}

pub struct Checkpointer {
    tx: SyncSender<Signal>,
    thread: Option<JoinHandle<()>>,
    commits: u64,
}

impl Checkpointer {
    /// Starts the checkpoint thread for the database at `path`, and replaces the automatic
    /// checkpoint of its writer's connection, `writer`.
    pub fn start(path: &Path, writer: &Connection) -> rusqlite::Result<Checkpointer> {
        writer.wal_hook(Some(writer_committed));
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (tx, rx) = sync_channel::<Signal>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || loop {
                match rx.recv_timeout(Duration::from_secs(1)) {
                    Ok(Signal::Checkpoint) | Err(RecvTimeoutError::Timeout) => passive_checkpoint(&conn),
                    Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => {
                        passive_checkpoint(&conn);
                        return;
                    }
                }
            })
            .expect("spawning the checkpoint thread");
        Ok(Checkpointer { tx, thread: Some(thread), commits: 0 })
    }

    /// Call after each commit.
    pub fn committed(&mut self) {
        self.commits += 1;
        if self.commits.is_multiple_of(NUDGE_EVERY) {
            // A full channel means a checkpoint is already pending: nothing to add.
            let _ = self.tx.try_send(Signal::Checkpoint);
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.tx.send(Signal::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
