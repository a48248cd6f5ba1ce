//! The hub's database on PostgreSQL: the schema, brought up to date under a lock so that
//! hub processes starting together do it once, and the change-capture triggers.

use super::migrations::{latest_version, APPLICATION_ID};
use super::sql::{Conn, OptionalExtension};
use crate::error::{Error, Result};

/// The schema at each SQLite version it has a PostgreSQL form for. Version 11 made the
/// first PostgreSQL schema whole; every later SQLite migration needs an entry here.
const SCHEMA: &[(i64, &str)] = &[
    (11, include_str!("schema_pg.sql")),
    (
        12,
        "CREATE TABLE sign_in_attempts (name_key TEXT COLLATE \"C\" NOT NULL, at BIGINT NOT NULL);
         CREATE INDEX sign_in_attempts_name ON sign_in_attempts(name_key, at)",
    ),
    (
        13,
        "ALTER TABLE cases ADD COLUMN external_id TEXT COLLATE \"C\";
         CREATE UNIQUE INDEX cases_external_id ON cases(external_id) WHERE external_id IS NOT NULL;
         CREATE TABLE portal_links (id BYTEA PRIMARY KEY, customer_id BYTEA NOT NULL REFERENCES customers(id),
             created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT);
         CREATE TABLE portal_sessions (session_digest TEXT COLLATE \"C\" PRIMARY KEY,
             customer_id BYTEA NOT NULL REFERENCES customers(id), created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
         CREATE INDEX portal_sessions_expiry ON portal_sessions(expires_at);
         CREATE TABLE local_secrets (name TEXT COLLATE \"C\" PRIMARY KEY, value BYTEA NOT NULL)",
    ),
];

/// The session lock held while the schema is brought up to date.
const SCHEMA_LOCK: i32 = 2;
/// The session lock held while a workspace is first set up (its first users, the demo).
const SET_UP_LOCK: i32 = 3;

/// Waits for and takes the set-up lock on this connection's session.
pub fn lock_set_up(conn: &Conn) -> Result<()> {
    Ok(conn.execute_batch(&format!("SELECT pg_advisory_lock({}, {SET_UP_LOCK})", super::sql::LOCK_CLASS))?)
}

pub fn unlock_set_up(conn: &Conn) -> Result<()> {
    Ok(conn.execute_batch(&format!("SELECT pg_advisory_unlock({}, {SET_UP_LOCK})", super::sql::LOCK_CLASS))?)
}

/// Creates or checks the schema of the database `conn` is connected to.
pub fn prepare(conn: &Conn, shown: &str) -> Result<()> {
    let class = super::sql::LOCK_CLASS;
    conn.execute_batch(&format!("SELECT pg_advisory_lock({class}, {SCHEMA_LOCK})"))?;
    let out = prepare_locked(conn, shown);
    conn.execute_batch(&format!("SELECT pg_advisory_unlock({class}, {SCHEMA_LOCK})"))?;
    out
}

fn prepare_locked(conn: &Conn, shown: &str) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS casedesk_meta (key TEXT COLLATE \"C\" PRIMARY KEY, value BIGINT NOT NULL)",
    )?;
    let meta = |key: &str| -> Result<Option<i64>> {
        Ok(conn.query_row("SELECT value FROM casedesk_meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    };
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'casedesk_meta'",
        [],
        |r| r.get(0),
    )?;
    match (meta("application_id")?, meta("schema_version")?) {
        (None, None) if tables == 0 => {
            let (version, schema) = SCHEMA[0];
            conn.execute_batch(&format!(
                "BEGIN; {schema};
                 INSERT INTO casedesk_meta VALUES ('application_id', {APPLICATION_ID}), ('schema_version', {version});
                 COMMIT;"
            ))?;
        }
        (Some(app), Some(_)) if app == APPLICATION_ID => {}
        _ => {
            return Err(Error::DatabaseCorrupt {
                path: shown.to_string(),
                detail: "it holds tables that are not a Casedesk workspace's".into(),
            })
        }
    }
    let version = meta("schema_version")?.unwrap_or(0);
    if version > latest_version() {
        return Err(Error::DatabaseTooNew { path: shown.to_string(), found: version, supported: latest_version() });
    }
    for (v, step) in SCHEMA.iter().skip(1).filter(|(v, _)| *v > version) {
        conn.execute_batch(&format!(
            "BEGIN; {step}; UPDATE casedesk_meta SET value = {v} WHERE key = 'schema_version'; COMMIT;"
        ))?;
    }
    // PostgreSQL only: on SQLite attachment content is kept in files beside the database.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS attachment_contents (sha256 TEXT COLLATE \"C\" PRIMARY KEY, content BYTEA NOT NULL)",
    )?;
    super::changes::install_triggers(conn)
}

/// The schema version of the database.
pub fn schema_version(conn: &Conn) -> Result<i64> {
    Ok(conn.query_row("SELECT value FROM casedesk_meta WHERE key = 'schema_version'", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sqlite_version_has_its_postgresql_form() {
        assert_eq!(super::SCHEMA.last().unwrap().0, super::super::migrations::latest_version());
    }
}
