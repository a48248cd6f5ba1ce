//! Hybrid logical clock time, for commands a desktop makes offline and pushes later:
//! wall-clock milliseconds plus a counter. One clock's times always increase, and a
//! clock that has seen a later time (the hub's, another desktop's) never stamps an
//! earlier one, however far its own wall clock is behind; so the times of commands that
//! saw each other are in the order they happened. A time further ahead of this
//! machine's wall clock than `MAX_DRIFT_MS` is refused rather than followed.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How far ahead of this machine's wall clock an observed time may be.
pub const MAX_DRIFT_MS: i64 = 5 * 60 * 1000;

/// A point in hybrid logical time; ordered by milliseconds, then counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct HlcTime {
    /// Unix milliseconds: the latest wall-clock time this clock has seen.
    #[ts(type = "number")]
    pub millis: i64,
    /// Events at the same millisecond, in order.
    pub counter: u32,
}

/// One replica's clock: the last time it handed out or saw.
#[derive(Debug, Clone, Default)]
pub struct Hlc {
    last: HlcTime,
}

impl Hlc {
    /// A clock that resumes after `last` (kept with the replica's data).
    pub fn resume(last: HlcTime) -> Hlc {
        Hlc { last }
    }

    pub fn last(&self) -> HlcTime {
        self.last
    }

    /// The time of a local event, given the wall clock now.
    pub fn now(&mut self, wall_ms: i64) -> HlcTime {
        self.last = if wall_ms > self.last.millis {
            HlcTime { millis: wall_ms, counter: 0 }
        } else {
            self.next_after(self.last.millis, self.last.counter)
        };
        self.last
    }

    /// Takes in a time seen from elsewhere (a pushed command, a pull), and returns the
    /// time of receiving it: after both it and everything this clock handed out.
    pub fn observe(&mut self, seen: HlcTime, wall_ms: i64) -> Result<HlcTime> {
        if seen.millis - wall_ms > MAX_DRIFT_MS {
            return Err(Error::field(
                "hlc",
                format!(
                    "a time {} ms ahead of this machine's clock is more than the {} ms allowed; check the clock of the machine that sent it",
                    seen.millis - wall_ms,
                    MAX_DRIFT_MS
                ),
            ));
        }
        let top = wall_ms.max(self.last.millis).max(seen.millis);
        self.last = match (top == self.last.millis, top == seen.millis) {
            (true, true) => self.next_after(top, self.last.counter.max(seen.counter)),
            (true, false) => self.next_after(top, self.last.counter),
            (false, true) => self.next_after(top, seen.counter),
            (false, false) => HlcTime { millis: top, counter: 0 },
        };
        Ok(self.last)
    }

    /// The time just after (millis, counter); a counter that would overflow moves on to
    /// the next millisecond instead.
    fn next_after(&self, millis: i64, counter: u32) -> HlcTime {
        match counter.checked_add(1) {
            Some(c) => HlcTime { millis, counter: c },
            None => HlcTime { millis: millis + 1, counter: 0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_wall_clock_that_goes_back_does_not_take_time_back() {
        let mut c = Hlc::default();
        let a = c.now(10_000);
        let b = c.now(9_000); // the machine's clock was set back
        let d = c.now(10_000);
        assert!(a < b && b < d);
        assert_eq!(b, HlcTime { millis: 10_000, counter: 1 });
        assert_eq!(c.now(10_001), HlcTime { millis: 10_001, counter: 0 });
    }

    #[test]
    fn a_later_time_seen_from_elsewhere_is_followed() {
        let mut desk = Hlc::default();
        desk.now(1_000);
        let hub = HlcTime { millis: 50_000, counter: 7 };
        let received = desk.observe(hub, 2_000).unwrap();
        assert_eq!(received, HlcTime { millis: 50_000, counter: 8 });
        // Whatever the desk does next comes after what it saw, though its wall clock is behind.
        assert!(desk.now(3_000) > hub);
    }

    #[test]
    fn a_time_too_far_ahead_is_refused_and_changes_nothing() {
        let mut c = Hlc::default();
        let before = c.now(1_000);
        let err = c.observe(HlcTime { millis: 1_000 + MAX_DRIFT_MS + 1, counter: 0 }, 1_000).unwrap_err();
        assert!(err.to_string().starts_with("hlc: a time 300001 ms ahead"), "{err}");
        assert_eq!(c.last(), before);
    }

    #[test]
    fn a_full_counter_moves_on_to_the_next_millisecond() {
        let mut c = Hlc::resume(HlcTime { millis: 5, counter: u32::MAX });
        assert_eq!(c.now(5), HlcTime { millis: 6, counter: 0 });
    }

    proptest! {
        /// Whatever the wall clock does and whatever is seen, a clock's times strictly
        /// increase, and every time it gives after seeing one is later than that one.
        #[test]
        fn times_strictly_increase(steps in prop::collection::vec((0i64..100_000, any::<bool>(), 0i64..100_000, 0u32..4), 1..200)) {
            let mut c = Hlc::default();
            let mut prev = HlcTime::default();
            for (wall, seen_one, seen_ms, seen_counter) in steps {
                let t = if seen_one {
                    let seen = HlcTime { millis: seen_ms.min(wall + MAX_DRIFT_MS), counter: seen_counter };
                    let t = c.observe(seen, wall).unwrap();
                    prop_assert!(t > seen);
                    t
                } else {
                    c.now(wall)
                };
                prop_assert!(t > prev, "{t:?} after {prev:?}");
                prev = t;
            }
        }
    }
}
