//! Opening database files: migrations, and refusing files it must not touch.

use casedesk_core::store::{migrations, Db};
use casedesk_core::{demo, Engine, OpenOptions, SystemClock};
use std::path::Path;
use std::sync::Arc;

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn a_new_file_gets_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    let mut db = Db::open(&path, OpenOptions::default()).unwrap();
    assert_eq!(db.schema_version().unwrap(), migrations::latest_version());
    let mode: String =
        db.connection().as_sqlite().unwrap().pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = db.connection().as_sqlite().unwrap().pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    assert_eq!(fk, 1);
}

/// Data written by each earlier schema version (a demo workspace), in `fixtures/`.
fn fixture(version: i64) -> Option<&'static str> {
    match version {
        1 => Some(include_str!("fixtures/schema-v1-demo.sql")),
        2 => Some(include_str!("fixtures/schema-v2-additions.sql")),
        3 => Some(include_str!("fixtures/schema-v3-additions.sql")),
        4 => Some(include_str!("fixtures/schema-v4-additions.sql")),
        5 => Some(include_str!("fixtures/schema-v5-additions.sql")),
        6 => Some(include_str!("fixtures/schema-v6-additions.sql")),
        7 => Some(include_str!("fixtures/schema-v7-additions.sql")),
        8 => Some(include_str!("fixtures/schema-v8-additions.sql")),
        9 => Some(include_str!("fixtures/schema-v9-additions.sql")),
        10 => Some(include_str!("fixtures/schema-v10-additions.sql")),
        11 => Some(include_str!("fixtures/schema-v11-additions.sql")),
        12 => Some(include_str!("fixtures/schema-v12-additions.sql")),
        _ => None,
    }
}

/// Brings a database to every earlier schema version, fills it with data that version
/// wrote, then opens it with this build: the data must be intact and usable.
#[test]
fn migrates_from_every_earlier_version() {
    for from in 0..migrations::latest_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(casedesk_core::engine::DB_FILE);
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            // Each version's data is written while the schema is at that version.
            for v in 0..=from {
                migrations::migrations().to_version(&mut conn, v as usize).unwrap();
                if let Some(sql) = fixture(v) {
                    conn.execute_batch(&format!("BEGIN; PRAGMA defer_foreign_keys = ON; {sql} COMMIT;")).unwrap();
                }
            }
        }
        let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
        assert_eq!(engine.read(|db| db.schema_version()).unwrap(), migrations::latest_version());
        if from == 0 {
            assert!(demo::seed(&engine).unwrap());
        } else {
            assert!(fixture(from).is_some(), "schema version {from} needs a fixture in tests/fixtures");
            assert!(!demo::seed(&engine).unwrap(), "the old workspace is kept, not re-seeded");
        }
        let cases = engine.case_summaries(100, 0).unwrap();
        assert_eq!(cases.len(), 7, "from version {from}");
        if from >= 4 {
            assert_eq!(engine.notification_rules().unwrap().len(), 1);
            assert_eq!(engine.delivery_log(None, 10).unwrap().len(), 2);
        }
        if from >= 5 {
            let sam_hash = engine.read(|db| casedesk_core::store::access::password_hash(db.connection_ref(), "sam"));
            assert!(sam_hash.unwrap().is_some_and(|h| h.starts_with("$argon2id$")), "the password survives");
        }
        if from >= 6 {
            let pending: i64 = engine
                .read(|db| {
                    let sql = "SELECT count(*) FROM rule_timers WHERE fired_at IS NULL";
                    Ok(db.connection_ref().query_row(sql, [], |r| r.get(0))?)
                })
                .unwrap();
            assert_eq!(pending, 1, "the unfired rule timer survives");
        }
        // Reports fold the old events into case lives on first use.
        let year = casedesk_core::reports::ReportRange::between(
            "2026-06-01T00:00:00Z".parse().unwrap(),
            "2027-06-01T00:00:00Z".parse().unwrap(),
        );
        let report = engine.historical_report(&casedesk_core::Actor::system(), year).unwrap();
        assert_eq!(report.volume.iter().map(|d| d.opened).sum::<u32>(), 7, "from version {from}");
        for c in &cases {
            let detail = engine.case_detail(c.id).unwrap();
            assert!(!detail.history.is_empty(), "{} lost its history", c.reference);
        }
        // The migrated workspace keeps working (once the admin defines the calendar its
        // service levels name, where it had none): a new case continues the sequence.
        let office = casedesk_core::calendar::CalendarDef::demo_office();
        engine
            .execute(&casedesk_core::Actor::system(), casedesk_core::Command::DefineCalendar { calendar: office })
            .unwrap();
        let sam = casedesk_core::Actor::new("sam", &[casedesk_core::Role::Supervisor, casedesk_core::Role::Agent]);
        let r = engine
            .execute(
                &sam,
                casedesk_core::Command::CreateCase {
                    case_type: "technical".into(),
                    intent: None,
                    customer_id: None,
                    subject: "after the upgrade".into(),
                    description: String::new(),
                    fields: serde_json::from_str(r#"{"device":"Modem"}"#).unwrap(),
                    priority: None,
                    interaction_id: None,
                    contact: None,
                    external_id: None,
                },
            )
            .unwrap();
        assert_eq!(r.reference.as_deref(), Some("TEC-000003"), "from version {from}");
    }
}

#[test]
fn a_newer_database_is_refused_and_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.sqlite");
    drop(Db::open(&path, OpenOptions::default()).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        conn.pragma_update(None, "user_version", migrations::latest_version() + 1).unwrap();
    }
    let before = bytes(&path);
    let e = Db::open(&path, OpenOptions::default()).err().unwrap();
    assert_eq!(e.code(), "database_too_new");
    assert!(e.to_string().contains("upgrade Casedesk"), "{e}");
    assert_eq!(before, bytes(&path));
    assert!(!dir.path().join("future.sqlite-wal").exists());
}

#[test]
fn garbage_and_damaged_files_are_refused_and_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database at all.
    let text = dir.path().join("notes.sqlite");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(100)).unwrap();
    let e = Db::open(&text, OpenOptions::default()).err().unwrap();
    assert_eq!(e.code(), "database_corrupt");
    assert!(e.to_string().contains("not modified"));
    assert_eq!(bytes(&text), "these are my notes, not a database\n".repeat(100).into_bytes());

    // A real database whose schema page is overwritten.
    let path = dir.path().join("damaged.sqlite");
    {
        let mut db = Db::open(&path, OpenOptions::default()).unwrap();
        db.connection().as_sqlite().unwrap().pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut raw = bytes(&path);
    for b in &mut raw[100..4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &raw).unwrap();
    let e = Db::open(&path, OpenOptions::default()).err().unwrap();
    assert_eq!(e.code(), "database_corrupt", "{e}");
    assert_eq!(raw, bytes(&path));

    // Another application's database.
    let other = dir.path().join("other.sqlite");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch("CREATE TABLE t(x); PRAGMA user_version = 3;").unwrap();
    }
    let before = bytes(&other);
    let e = Db::open(&other, OpenOptions::default()).err().unwrap();
    assert!(e.to_string().contains("another application") || e.code() == "database_too_new", "{e}");
    assert_eq!(before, bytes(&other));
}

#[test]
fn deep_check_finds_damage_inside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.sqlite");
    {
        let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
        demo::seed(&engine).unwrap();
        drop(engine);
        let conn = rusqlite::Connection::open(dir.path().join(casedesk_core::engine::DB_FILE)).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;").unwrap();
        std::fs::copy(dir.path().join(casedesk_core::engine::DB_FILE), &path).unwrap();
    }
    let mut raw = bytes(&path);
    let last_page = raw.len() - 4096;
    for b in &mut raw[last_page + 8..last_page + 4000] {
        *b = 0xFF;
    }
    std::fs::write(&path, &raw).unwrap();
    let e = Db::open(&path, OpenOptions { deep_check: true }).err().unwrap();
    assert_eq!(e.code(), "database_corrupt", "{e}");
    assert_eq!(raw, bytes(&path));
}

#[test]
fn a_committed_case_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
    demo::seed(&engine).unwrap();
    let refs: Vec<_> = engine.case_summaries(100, 0).unwrap().into_iter().map(|c| c.reference).collect();
    // No orderly shutdown: the WAL holds the commits.
    std::mem::forget(engine);
    let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
    let again: Vec<_> = engine.case_summaries(100, 0).unwrap().into_iter().map(|c| c.reference).collect();
    assert_eq!(refs, again);
}

/// Thousands of commits in a row: the WAL file is reused, not grown without bound.
#[test]
fn the_wal_stays_small_under_continuous_writes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
    demo::seed(&engine).unwrap();
    let alex = casedesk_core::Actor::new("alex", &[casedesk_core::Role::Agent]);
    for i in 0..3_000 {
        let command = casedesk_core::Command::CreateCase {
            case_type: "replacement".into(),
            intent: None,
            customer_id: None,
            subject: format!("case {i}"),
            description: String::new(),
            fields: serde_json::from_str(r#"{"device":"Modem","delivery_address":"12 High Street, Oxford"}"#).unwrap(),
            priority: None,
            interaction_id: None,
            contact: None,
            external_id: None,
        };
        engine.execute(&alex, command).unwrap();
    }
    let wal = std::fs::metadata(dir.path().join("casedesk.sqlite-wal")).unwrap().len();
    // 3,000 commits of about a dozen pages would be about 150 MB of WAL if it never wrapped.
    assert!(wal < 40 * 1024 * 1024, "WAL is {wal} bytes");
}
