//! WAL checkpoints mostly off the commit path. SQLite's automatic checkpoint runs inside
//! the commit that crosses the threshold and, with synchronous=NORMAL, pays two fsyncs
//! there. Here a thread with its own connection copies the WAL into the database file
//! (PASSIVE: it never blocks the writer) when nudged after every [`NUDGE_EVERY`] commits,
//! and at least once a second. A checkpoint from another connection cannot finish while
//! the writer keeps appending, and only a finished one lets the WAL start over, so the
//! writer keeps an automatic checkpoint at [`WRITER_CHECKPOINT_PAGES`]: by then the
//! thread has copied nearly everything, the writer's checkpoint finishes quickly, and the
//! WAL file stays small. Durability is unchanged.

use std::path::Path;
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

/// About SQLite's default of 1,000 WAL pages for a create-case-sized transaction.
pub const NUDGE_EVERY: u64 = 64;

/// The writer's own automatic checkpoint (16 MiB of 4 KiB pages), which bounds the WAL.
pub const WRITER_CHECKPOINT_PAGES: i64 = 4096;

enum Signal {
    Checkpoint,
    Stop,
}

pub struct Checkpointer {
    tx: SyncSender<Signal>,
    thread: Option<JoinHandle<()>>,
    commits: u64,
}

impl Checkpointer {
    /// Starts the checkpoint thread for the database at `path`. The caller's own
    /// connection should have `wal_autocheckpoint = 0`.
    pub fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (tx, rx) = sync_channel::<Signal>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || loop {
                match rx.recv_timeout(Duration::from_secs(1)) {
                    Ok(Signal::Checkpoint) | Err(RecvTimeoutError::Timeout) => {
                        // A busy or failed checkpoint is retried on the next signal.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                    Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => {
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
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
