//! Due-time computation on a calendar with holidays (a bench binary that prints figures):
//!   cargo bench -p casedesk-core --bench calendar

use casedesk_core::calendar::{deadlines, CalendarDef, Holiday};
use casedesk_core::casetype::{DurationUnit, ServiceLevel, TimeBasis};
use chrono::{Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let mut def = CalendarDef::demo_office();
    // A year of public holidays on top of the weekends.
    for (i, d) in ["2027-01-06", "2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06", "2027-05-17", "2027-10-03"]
        .iter()
        .enumerate()
    {
        def.holidays.push(Holiday { name: format!("holiday {i}"), from: d.to_string(), to: d.to_string() });
    }
    let cal = def.compile().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let cases: Vec<(ServiceLevel, chrono::DateTime<Utc>)> = (0..100_000)
        .map(|_| {
            let (duration, unit) = match rng.random_range(0..3) {
                0 => (rng.random_range(1..=600), DurationUnit::Minutes),
                1 => (rng.random_range(1..=40), DurationUnit::Hours),
                _ => (rng.random_range(1..=10), DurationUnit::Days),
            };
            let sl = ServiceLevel {
                duration,
                unit,
                time: TimeBasis::OpenOffice,
                calendar: Some("office".into()),
                at_risk_percent: 80,
            };
            (sl, start + Duration::minutes(rng.random_range(0..60 * 24 * 90)))
        })
        .collect();
    let t = Instant::now();
    let mut sink = 0i64;
    for (sl, at) in &cases {
        let (due, risk) = deadlines(sl, Some(&cal), *at, Duration::zero()).unwrap();
        sink ^= due.timestamp() ^ risk.timestamp();
    }
    let secs = t.elapsed().as_secs_f64();
    println!("due-time computation, open-office time on a calendar with split shifts and holidays:");
    println!(
        "  {:.0} computations/s (due and at-risk each; 1 min to 10 open days ahead) [{sink}]",
        cases.len() as f64 / secs
    );
}
