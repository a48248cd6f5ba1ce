//! Business calendars: a time zone, weekly open hours (split shifts) and holidays; and
//! the arithmetic of service levels on them. All instants are UTC; open hours are local
//! wall-clock times in the calendar's zone, daylight saving included (chrono-tz).

use crate::casetype::{DurationUnit, ServiceLevel, TimeBasis};
use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Shift {
    /// Local "HH:MM".
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Holiday {
    pub name: String,
    /// First and last day closed (YYYY-MM-DD), both included.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CalendarDef {
    pub id: String,
    pub name: String,
    /// IANA zone, e.g. "Europe/Berlin".
    pub time_zone: String,
    /// Open hours per weekday ("mon" … "sun"); a day not listed is closed.
    pub week: std::collections::BTreeMap<String, Vec<Shift>>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// A checked calendar, ready for arithmetic.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    /// Open intervals per weekday (Monday = 0), sorted, not overlapping.
    week: [Vec<(NaiveTime, NaiveTime)>; 7],
    holidays: Vec<(NaiveDate, NaiveDate)>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// How far ahead a deadline may be searched before the calendar counts as never open.
const SEARCH_DAYS: i64 = 3 * 366;

fn time(field: &str, s: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| Error::field(field, format!("'{s}' must be a time written HH:MM")))
}

fn date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::field(field, format!("'{s}' must be a date written YYYY-MM-DD")))
}

impl CalendarDef {
    /// Checks every rule and returns the calendar to compute with.
    pub fn compile(&self) -> Result<Calendar> {
        if !crate::fields::is_identifier(&self.id) {
            return Err(Error::field("id", format!("'{}' must be lower-case letters, digits and '_'", self.id)));
        }
        let tz: Tz = self.time_zone.parse().map_err(|_| {
            Error::field("time_zone", format!("'{}' is not an IANA time zone (e.g. Europe/Berlin)", self.time_zone))
        })?;
        let mut week: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        for (day, shifts) in &self.week {
            let Some(i) = DAYS.iter().position(|d| d == day) else {
                return Err(Error::field(format!("week.{day}"), "days are mon, tue, wed, thu, fri, sat, sun"));
            };
            let mut list = vec![];
            for (k, s) in shifts.iter().enumerate() {
                let field = format!("week.{day}[{k}]");
                let (a, b) = (time(&field, &s.start)?, time(&field, &s.end)?);
                if a >= b {
                    return Err(Error::field(field, format!("starts at {} but ends at {}", s.start, s.end)));
                }
                list.push((a, b));
            }
            list.sort();
            if list.windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(Error::field(format!("week.{day}"), "shifts overlap"));
            }
            week[i] = list;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(Error::field("week", "a calendar needs open hours on at least one day"));
        }
        let mut holidays = vec![];
        for (k, h) in self.holidays.iter().enumerate() {
            let field = format!("holidays[{k}]");
            let (a, b) = (date(&field, &h.from)?, date(&field, &h.to)?);
            if a > b {
                return Err(Error::field(field, format!("'{}' ends before it starts", h.name)));
            }
            holidays.push((a, b));
        }
        Ok(Calendar { tz, week, holidays })
    }
}

impl Calendar {
    fn closed(&self, day: NaiveDate) -> bool {
        self.holidays.iter().any(|(a, b)| *a <= day && day <= *b)
    }

    /// A local wall-clock time as an instant. In the spring-forward gap the first
    /// instant after it; on the autumn repeat the earlier one.
    fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                let mut probe = local;
                loop {
                    probe += Duration::minutes(1);
                    if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) = self.tz.from_local_datetime(&probe) {
                        return t.with_timezone(&Utc);
                    }
                }
            }
        }
    }

    /// The open intervals of one local day, as instants.
    fn open_intervals(&self, day: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.closed(day) {
            return vec![];
        }
        self.week[day.weekday().num_days_from_monday() as usize]
            .iter()
            .map(|(a, b)| (self.instant(day.and_time(*a)), self.instant(day.and_time(*b))))
            .filter(|(a, b)| a < b)
            .collect()
    }

    fn local_day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The instant at which `amount` of open time has passed since `start`.
    pub fn add_open_time(&self, start: DateTime<Utc>, amount: Duration) -> Result<DateTime<Utc>> {
        let mut left = amount;
        let mut day = self.local_day(start);
        for _ in 0..SEARCH_DAYS {
            for (a, b) in self.open_intervals(day) {
                let from = a.max(start);
                if from >= b {
                    continue;
                }
                if left <= b - from {
                    return Ok(from + left);
                }
                left -= b - from;
            }
            day = day.succ_opt().expect("dates this near are representable");
        }
        Err(Error::field("calendar", format!("no open time within {SEARCH_DAYS} days")))
    }

    /// Open time between two instants.
    pub fn open_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let mut total = Duration::zero();
        let mut day = self.local_day(from);
        let last = self.local_day(to);
        while day <= last {
            for (a, b) in self.open_intervals(day) {
                let (x, y) = (a.max(from), b.min(to));
                if x < y {
                    total += y - x;
                }
            }
            day = day.succ_opt().expect("dates this near are representable");
        }
        total
    }

    /// `days` open days after `start`, at the same local time of day (or the next open
    /// moment, when that time is closed on the day reached).
    pub fn add_open_days(&self, start: DateTime<Utc>, days: u32) -> Result<DateTime<Utc>> {
        let local = start.with_timezone(&self.tz).naive_local();
        let mut day = local.date();
        let mut counted = 0;
        for _ in 0..SEARCH_DAYS {
            if counted == days {
                return self.add_open_time(self.instant(day.and_time(local.time())), Duration::zero());
            }
            day = day.succ_opt().expect("dates this near are representable");
            if !self.open_intervals(day).is_empty() {
                counted += 1;
            }
        }
        Err(Error::field("calendar", format!("no open day within {SEARCH_DAYS} days")))
    }
}

/// The span of a service level in calendar time.
fn span(sl: &ServiceLevel) -> Duration {
    let n = i64::from(sl.duration);
    match sl.unit {
        DurationUnit::Minutes => Duration::minutes(n),
        DurationUnit::Hours => Duration::hours(n),
        DurationUnit::Days => Duration::days(n),
    }
}

/// Deadline and at-risk instant of a clock started at `start`, having been paused for
/// `paused` (in the clock's own kind of time). `calendar` is required for open-office
/// time. Open-office days are open days: "3 days" is the same local time three open days
/// later; minutes and hours count open time.
pub fn deadlines(
    sl: &ServiceLevel,
    calendar: Option<&Calendar>,
    start: DateTime<Utc>,
    paused: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let risk_share = |d: Duration| d * i32::from(sl.at_risk_percent) / 100;
    match (sl.time, calendar) {
        (TimeBasis::Calendar, _) => {
            let total = span(sl);
            Ok((start + paused + total, start + paused + risk_share(total)))
        }
        (TimeBasis::OpenOffice, None) => Err(Error::field("calendar", "open-office time needs a calendar")),
        (TimeBasis::OpenOffice, Some(cal)) => {
            let begin = cal.add_open_time(start, paused)?;
            let due = match sl.unit {
                DurationUnit::Days => cal.add_open_days(begin, sl.duration)?,
                _ => cal.add_open_time(begin, span(sl))?,
            };
            let open = cal.open_time_between(begin, due);
            Ok((due, cal.add_open_time(begin, risk_share(open))?))
        }
    }
}

impl CalendarDef {
    /// The demo's office: Berlin, Monday to Friday 09:00–12:30 and 13:30–17:30.
    pub fn demo_office() -> CalendarDef {
        let shifts = vec![
            Shift { start: "09:00".into(), end: "12:30".into() },
            Shift { start: "13:30".into(), end: "17:30".into() },
        ];
        CalendarDef {
            id: "office".into(),
            name: "Office (Berlin)".into(),
            time_zone: "Europe/Berlin".into(),
            week: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), shifts.clone())).collect(),
            holidays: vec![
                Holiday { name: "Christmas".into(), from: "2026-12-24".into(), to: "2026-12-26".into() },
                Holiday { name: "New Year".into(), from: "2027-01-01".into(), to: "2027-01-01".into() },
            ],
        }
    }
}

#[cfg(test)]
mod tests;
