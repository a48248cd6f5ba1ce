//! Calendar arithmetic against hand-worked cases.

use super::*;
use crate::casetype::{DurationUnit, ServiceLevel, TimeBasis};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn calendar(tz: &str, days: &[&str], shifts: &[(&str, &str)], holidays: &[(&str, &str)]) -> Calendar {
    CalendarDef {
        id: "c".into(),
        name: "C".into(),
        time_zone: tz.into(),
        week: days
            .iter()
            .map(|d| {
                (
                    d.to_string(),
                    shifts.iter().map(|(a, b)| Shift { start: a.to_string(), end: b.to_string() }).collect(),
                )
            })
            .collect(),
        holidays: holidays
            .iter()
            .map(|(a, b)| Holiday { name: "h".into(), from: a.to_string(), to: b.to_string() })
            .collect(),
    }
    .compile()
    .unwrap()
}

const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];

#[test]
fn eight_open_hours_from_tuesday_eleven_is_wednesday_eleven() {
    let cal = calendar("UTC", &WEEKDAYS, &[("09:00", "17:00")], &[]);
    // 2026-11-24 is a Tuesday.
    let due = cal.add_open_time(utc("2026-11-24T11:00:00Z"), Duration::hours(8)).unwrap();
    assert_eq!(due, utc("2026-11-25T11:00:00Z"));
    assert_eq!(cal.open_time_between(utc("2026-11-24T11:00:00Z"), due), Duration::hours(8));
}

#[test]
fn closed_time_is_skipped_weekends_and_nights() {
    let cal = calendar("UTC", &WEEKDAYS, &[("09:00", "17:00")], &[]);
    // Saturday 10:00 + 1 h: Monday 10:00.
    assert_eq!(
        cal.add_open_time(utc("2026-11-28T10:00:00Z"), Duration::hours(1)).unwrap(),
        utc("2026-11-30T10:00:00Z")
    );
    // Friday 16:30 + 1 h: Monday 09:30.
    assert_eq!(
        cal.add_open_time(utc("2026-11-27T16:30:00Z"), Duration::hours(1)).unwrap(),
        utc("2026-11-30T09:30:00Z")
    );
    // 40 open hours is a working week.
    assert_eq!(
        cal.add_open_time(utc("2026-11-23T09:00:00Z"), Duration::hours(40)).unwrap(),
        utc("2026-11-27T17:00:00Z")
    );
}

#[test]
fn split_shifts_and_the_time_zone() {
    // Berlin is UTC+1 in November: 12:00 local = 11:00 UTC.
    let cal = calendar("Europe/Berlin", &WEEKDAYS, &[("09:00", "12:30"), ("13:30", "17:30")], &[]);
    // From 12:00 local, 1 h: 30 min before lunch, 30 min after: 14:00 local.
    assert_eq!(
        cal.add_open_time(utc("2026-11-24T11:00:00Z"), Duration::hours(1)).unwrap(),
        utc("2026-11-24T13:00:00Z")
    );
    // A full day holds 7.5 open hours.
    assert_eq!(cal.open_time_between(utc("2026-11-24T00:00:00Z"), utc("2026-11-25T00:00:00Z")), Duration::minutes(450));
}

#[test]
fn holidays_are_closed_days() {
    let cal = calendar(
        "Europe/Berlin",
        &WEEKDAYS,
        &[("09:00", "12:30"), ("13:30", "17:30")],
        &[("2026-12-24", "2026-12-26")],
    );
    // Wed 23 Dec 16:00 local + 2 h: 1.5 h that day; 24–26 holiday, 27 Sunday; Mon 28 09:30 local.
    let due = cal.add_open_time(utc("2026-12-23T15:00:00Z"), Duration::hours(2)).unwrap();
    assert_eq!(due, utc("2026-12-28T08:30:00Z"));
}

#[test]
fn daylight_saving_changes_are_real_time() {
    // Open Sundays 01:00–04:00 local. On 2027-03-28 Berlin skips 02:00–03:00: two real
    // hours. On 2026-10-25 it repeats 02:00–03:00: four real hours.
    let cal = calendar("Europe/Berlin", &["sun"], &[("01:00", "04:00")], &[]);
    assert_eq!(cal.open_time_between(utc("2027-03-27T12:00:00Z"), utc("2027-03-28T12:00:00Z")), Duration::hours(2));
    assert_eq!(cal.open_time_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-25T12:00:00Z")), Duration::hours(4));
    // 3 h from 01:00 local on the spring day: 2 h that night, the third a week later.
    let due = cal.add_open_time(utc("2027-03-28T00:00:00Z"), Duration::hours(3)).unwrap();
    assert_eq!(due, utc("2027-04-04T00:00:00Z"), "01:00 CEST + 1 h = 02:00 CEST = 00:00 UTC");
}

#[test]
fn open_days_keep_the_time_of_day() {
    let cal = calendar("UTC", &WEEKDAYS, &[("09:00", "17:00")], &[("2026-11-26", "2026-11-26")]);
    // Tue 11:00 + 3 open days, Thursday a holiday: Wed, Fri, Mon → Mon 11:00.
    assert_eq!(cal.add_open_days(utc("2026-11-24T11:00:00Z"), 3).unwrap(), utc("2026-11-30T11:00:00Z"));
    // From a closed hour the deadline is the next open moment: Fri 18:00 + 1 day → Mon 18:00 closed → Tue 09:00.
    assert_eq!(cal.add_open_days(utc("2026-11-27T18:00:00Z"), 1).unwrap(), utc("2026-12-01T09:00:00Z"));
}

#[test]
fn deadlines_with_pause_and_at_risk() {
    let cal = calendar("UTC", &WEEKDAYS, &[("09:00", "17:00")], &[]);
    let sla =
        |duration, unit, time| ServiceLevel { duration, unit, time, calendar: Some("c".into()), at_risk_percent: 75 };
    // 8 open hours from Tue 09:00; at risk after 6 of them.
    let (due, risk) = deadlines(
        &sla(8, DurationUnit::Hours, TimeBasis::OpenOffice),
        Some(&cal),
        utc("2026-11-24T09:00:00Z"),
        Duration::zero(),
    )
    .unwrap();
    assert_eq!((due, risk), (utc("2026-11-24T17:00:00Z"), utc("2026-11-24T15:00:00Z")));
    // Paused for 2 open hours: everything moves by 2 open hours (the 6th hour from
    // Tue 11:00 ends at closing time, Tue 17:00).
    let (due, risk) = deadlines(
        &sla(8, DurationUnit::Hours, TimeBasis::OpenOffice),
        Some(&cal),
        utc("2026-11-24T09:00:00Z"),
        Duration::hours(2),
    )
    .unwrap();
    assert_eq!((due, risk), (utc("2026-11-25T11:00:00Z"), utc("2026-11-24T17:00:00Z")));
    // Calendar time ignores the calendar: 10 days, paused 1 day.
    let (due, risk) = deadlines(
        &sla(10, DurationUnit::Days, TimeBasis::Calendar),
        None,
        utc("2026-11-24T09:00:00Z"),
        Duration::days(1),
    )
    .unwrap();
    assert_eq!((due, risk), (utc("2026-12-05T09:00:00Z"), utc("2026-12-02T21:00:00Z")), "7.5 days after the pause");
}

#[test]
fn bad_calendars_name_the_field_and_rule() {
    let def = |tz: &str, shifts: Vec<Shift>| CalendarDef {
        id: "c".into(),
        name: "C".into(),
        time_zone: tz.into(),
        week: [("mon".to_string(), shifts)].into(),
        holidays: vec![],
    };
    let s = |a: &str, b: &str| Shift { start: a.into(), end: b.into() };
    let e = def("Mars/Olympus", vec![s("09:00", "17:00")]).compile().unwrap_err();
    assert_eq!(e.to_string(), "time_zone: 'Mars/Olympus' is not an IANA time zone (e.g. Europe/Berlin)");
    let e = def("UTC", vec![s("09:00", "13:00"), s("12:00", "17:00")]).compile().unwrap_err();
    assert_eq!(e.to_string(), "week.mon: shifts overlap");
    let e = def("UTC", vec![s("17:00", "09:00")]).compile().unwrap_err();
    assert_eq!(e.to_string(), "week.mon[0]: starts at 17:00 but ends at 09:00");
    let e = def("UTC", vec![s("9am", "17:00")]).compile().unwrap_err();
    assert_eq!(e.to_string(), "week.mon[0]: '9am' must be a time written HH:MM");
    let e = def("UTC", vec![]).compile().unwrap_err();
    assert_eq!(e.to_string(), "week: a calendar needs open hours on at least one day");
}
