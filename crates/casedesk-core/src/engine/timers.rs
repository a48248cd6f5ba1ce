//! The timer service's queue: the next at-risk and breach instants of every running
//! clock, in a priority queue. It is rebuilt from the store when the engine opens and fed
//! by the commands that start or move a clock; an entry is only a hint, checked against
//! the stored clock when it comes due, so stale entries cost nothing but a look.

use crate::error::Result;
use crate::model::SlaClock;
use crate::store::Db;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use ts_rs::TS;
use uuid::Uuid;

/// Whose clock a timer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
#[ts(export)]
pub enum TimerSubject {
    /// A case's SLA.
    Case(Uuid),
    /// A task's OLA.
    Task(Uuid),
    /// A timed business rule's instant (a `rule_timers` row).
    Rule(i64),
}

#[derive(Debug, Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<(DateTime<Utc>, TimerSubject)>>,
    /// The change number up to which the queue holds every clock in the store: where
    /// [`TimerQueue::follow`] reads on from.
    followed: i64,
}

impl TimerQueue {
    /// Every running clock's next instant, read from the store.
    pub fn load(db: &Db) -> Result<TimerQueue> {
        // The head first: a clock changed while the clocks are read is read again later.
        let followed = crate::store::changes::head(db.connection_ref(), "main")?;
        let mut q = TimerQueue { followed, ..TimerQueue::default() };
        for (subject, clock) in db.running_clocks()? {
            q.hint(&clock, subject);
        }
        for (id, due_at) in crate::store::automation::pending(db.connection_ref())? {
            q.hint_at(due_at, TimerSubject::Rule(id));
        }
        Ok(q)
    }

    /// Hints the clocks whose rows changed since the queue last looked, whoever changed
    /// them: on PostgreSQL, other hub processes over the same database start and move
    /// clocks this one never hears of. Stale and repeated hints are harmless (checked
    /// against the store when due; a subject is taken once per round).
    pub fn follow(&mut self, db: &Db) -> Result<()> {
        let (head, clocks, rules) = db.clocks_changed_after(self.followed)?;
        for (subject, clock) in clocks {
            self.hint(&clock, subject);
        }
        for (id, due_at) in rules {
            self.hint_at(due_at, TimerSubject::Rule(id));
        }
        self.followed = head;
        Ok(())
    }

    pub fn hint(&mut self, clock: &SlaClock, subject: TimerSubject) {
        if let Some(at) = clock.next_timer() {
            self.heap.push(Reverse((at, subject)));
        }
    }

    pub fn hint_at(&mut self, at: DateTime<Utc>, subject: TimerSubject) {
        self.heap.push(Reverse((at, subject)));
    }

    pub fn next(&self) -> Option<DateTime<Utc>> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes up to `limit` subjects due by `now`, once each (the rest stay for the next
    /// round, so one transaction never grows without bound).
    pub fn take_due(&mut self, now: DateTime<Utc>, limit: usize) -> Vec<TimerSubject> {
        let mut due = vec![];
        while let Some(Reverse((at, subject))) = self.heap.peek().copied() {
            if at > now || due.len() >= limit {
                break;
            }
            self.heap.pop();
            if !due.contains(&subject) {
                due.push(subject);
            }
        }
        due
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
