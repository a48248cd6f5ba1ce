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
    let mode: String = db.connection().pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = db.connection().pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    assert_eq!(fk, 1);
}

/// Brings a database to every earlier schema version, fills it through the engine's
/// path where the schema allows, then opens it with this build: data must survive.
#[test]
fn migrates_from_every_earlier_version() {
    for from in 0..migrations::latest_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(casedesk_core::engine::DB_FILE);
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            migrations::migrations().to_version(&mut conn, from as usize).unwrap();
        }
        let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
        assert!(demo::seed(&engine).unwrap(), "from version {from}");
        drop(engine);
        let engine = Engine::open(dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
        assert_eq!(engine.case_summaries(100, 0).unwrap().len(), 7, "from version {from}");
        assert_eq!(engine.read(|db| db.schema_version()).unwrap(), migrations::latest_version());
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
        db.connection().pragma_update(None, "journal_mode", "DELETE").unwrap();
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
