//! Opening a database file safely, and the read side of the store.

use super::checkpoint::Checkpointer;
use super::migrations::{latest_version, migrations, APPLICATION_ID};
use super::rows;
use super::sql::{params, Conn, OptionalExtension};
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::model::{Attachment, Case, CaseSummary, Customer, Event, Interaction, Note, Task, User};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub struct Db {
    conn: Conn,
    path: Option<PathBuf>,
    checkpointer: Option<Checkpointer>,
}

/// Held while a workspace is first set up, so that hub processes started together over
/// one workspace take turns (see `Engine::setting_up`).
pub enum SetUpLock {
    /// An exclusive lock on a file beside the SQLite database.
    File(std::fs::File),
    /// A PostgreSQL session advisory lock on the engine's connection.
    Session,
    /// A private in-memory database: nobody else can open it.
    Private,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Run SQLite's `quick_check` before opening (reads every page: slow on big files).
    pub deep_check: bool,
}

/// A database URL as it may be shown: without its password.
fn shown_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..s + 3 + colon], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

fn not_sqlite() -> Error {
    Error::Storage("this needs an SQLite database (a desk's file), not PostgreSQL".into())
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Waits for and takes an exclusive lock on the file beside the database `path` that
/// processes opening or first setting up one workspace take turns on; closing the file
/// lets it go.
fn lock_beside(path: &Path) -> Result<std::fs::File> {
    let file =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path.with_extension("setup-lock"))?;
    file.lock()?;
    Ok(file)
}

impl Db {
    /// Opens (or creates) a database file and brings its schema up to date. A file that
    /// is not a Casedesk database, is damaged, or is newer than this build is refused
    /// before anything is written to it.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Db> {
        let shown = path.display().to_string();
        let corrupt = |detail: String| Error::DatabaseCorrupt { path: shown.clone(), detail };
        // Hub processes started together over one new file would each create its schema.
        let _opening = lock_beside(path)?;
        let existing = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        if existing {
            let mut header = [0u8; 16];
            use std::io::Read;
            let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
            if read.is_err() || &header != SQLITE_HEADER {
                return Err(corrupt("it is not an SQLite database (bad file header)".into()));
            }
            let ro =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                    .map_err(|e| corrupt(e.to_string()))?;
            let probe = || -> super::sql::Result<(i64, i64)> {
                ro.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
                let version = ro.pragma_query_value(None, "user_version", |r| r.get(0))?;
                let app = ro.pragma_query_value(None, "application_id", |r| r.get(0))?;
                Ok((version, app))
            };
            let (version, app) = probe().map_err(|e| corrupt(e.to_string()))?;
            if app != APPLICATION_ID && !(app == 0 && version == 0) {
                return Err(corrupt(format!("it belongs to another application (application_id {app})")));
            }
            if version > latest_version() {
                return Err(Error::DatabaseTooNew { path: shown, found: version, supported: latest_version() });
            }
            if opts.deep_check {
                let verdict: String =
                    ro.query_row("PRAGMA quick_check(1)", [], |r| r.get(0)).map_err(|e| corrupt(e.to_string()))?;
                if verdict != "ok" {
                    return Err(corrupt(verdict));
                }
            }
        }
        let conn = Conn::sqlite(Connection::open(path)?);
        let mut db = Db { conn, path: Some(path.to_path_buf()), checkpointer: None };
        db.prepare()?;
        db.checkpointer = Some(Checkpointer::start(path, db.sqlite()?)?);
        Ok(db)
    }

    /// Connects to a hub's PostgreSQL database (`postgres://…`) and brings its schema up
    /// to date.
    pub fn open_postgres(url: &str) -> Result<Db> {
        let shown = shown_url(url);
        let conn = Conn::postgres(url)
            .map_err(|e| Error::Storage(format!("cannot connect to the PostgreSQL database {shown}: {e}")))?;
        #[cfg(feature = "postgres")]
        super::postgres::prepare(&conn, &shown)?;
        Ok(Db { conn, path: None, checkpointer: None })
    }

    /// Waits for and takes the workspace's set-up lock.
    pub fn lock_set_up(&self) -> Result<SetUpLock> {
        match (&self.path, self.conn.dialect()) {
            (Some(path), _) => Ok(SetUpLock::File(lock_beside(path)?)),
            #[cfg(feature = "postgres")]
            (None, super::sql::Dialect::Postgres) => {
                super::postgres::lock_set_up(&self.conn)?;
                Ok(SetUpLock::Session)
            }
            (None, _) => Ok(SetUpLock::Private),
        }
    }

    pub fn unlock_set_up(&self, lock: SetUpLock) -> Result<()> {
        match lock {
            #[cfg(feature = "postgres")]
            SetUpLock::Session => super::postgres::unlock_set_up(&self.conn),
            // Closing the file lets the lock go.
            _ => Ok(()),
        }
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Db> {
        let mut db = Db { conn: Conn::sqlite(Connection::open_in_memory()?), path: None, checkpointer: None };
        db.prepare()?;
        Ok(db)
    }

    fn prepare(&mut self) -> Result<()> {
        // WAL with synchronous=NORMAL: a committed transaction survives a crash of the
        // process (it is in the WAL file); only a power loss may lose the last commits.
        let sqlite = self.conn.as_sqlite_mut().ok_or_else(not_sqlite)?;
        sqlite.pragma_update(None, "journal_mode", "WAL")?;
        sqlite.pragma_update(None, "synchronous", "NORMAL")?;
        sqlite.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MiB of page cache (SQLite's default is 2 MiB): the B-trees' upper levels stay
        // in memory as the workspace grows to millions of cases.
        sqlite.pragma_update(None, "cache_size", -65_536)?;
        sqlite.busy_timeout(std::time::Duration::from_secs(5))?;
        sqlite.set_prepared_statement_cache_capacity(64);
        migrations().to_latest(sqlite).map_err(|e| Error::Storage(format!("schema migration failed: {e}")))?;
        super::changes::install_triggers(&self.conn)?;
        Ok(())
    }

    /// Attaches the mirror of the hub (created and migrated if missing) as `mirror`.
    pub fn attach_mirror(&mut self, path: &Path) -> Result<()> {
        let attached: bool =
            self.conn
                .query_row("SELECT count(*) > 0 FROM pragma_database_list WHERE name = 'mirror'", [], |r| r.get(0))?;
        if attached {
            return Ok(());
        }
        drop(Db::open(path, OpenOptions::default())?);
        self.conn.execute("ATTACH DATABASE ?1 AS mirror", [path.to_string_lossy()])?;
        Ok(())
    }

    /// A write with foreign keys unenforced (a pull's page into the mirror, which may
    /// hold a row before the row it refers to). They are enforced again afterwards.
    pub fn write_unchecked<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        self.sqlite()?.pragma_update(None, "foreign_keys", "OFF")?;
        let out = self.write(f);
        self.sqlite()?.pragma_update(None, "foreign_keys", "ON")?;
        out
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn schema_version(&self) -> Result<i64> {
        #[cfg(feature = "postgres")]
        if self.conn.dialect() == super::sql::Dialect::Postgres {
            return super::postgres::schema_version(&self.conn);
        }
        Ok(self.sqlite()?.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Runs `f` in one write transaction: all of it commits, or none of it.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let tx = self.conn.begin(true)?;
        let wrapped = Tx::new(tx);
        let out = f(&wrapped)?;
        wrapped.commit()?;
        if let Some(c) = &mut self.checkpointer {
            c.committed();
        }
        Ok(out)
    }

    /// Runs `f` in a transaction that is always rolled back: a dry run changes nothing.
    pub fn trial<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let tx = self.conn.begin(false)?;
        let wrapped = Tx::new(tx);
        f(&wrapped)
    }

    /// The SQLite connection, for what only SQLite has.
    fn sqlite(&self) -> Result<&Connection> {
        self.conn.as_sqlite().ok_or_else(not_sqlite)
    }

    /// Read-only raw access, for tests and tools.
    pub fn connection_ref(&self) -> &Conn {
        &self.conn
    }

    /// Raw access for benchmarks and migration tests.
    pub fn connection(&mut self) -> &mut Conn {
        &mut self.conn
    }

    // ---- reads ------------------------------------------------------------------

    pub fn case_type_versions(&self) -> Result<Vec<(String, u32, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT v.case_type, v.version, v.definition FROM case_type_versions v
             WHERE v.version = (SELECT max(version) FROM case_type_versions w WHERE w.case_type = v.case_type)
             ORDER BY v.name",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    pub fn case_type_definition(&self, case_type: &str, version: u32) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT definition FROM case_type_versions WHERE case_type = ?1 AND version = ?2")?
            .query_row(params![case_type, version], |r| r.get(0))
            .optional()?)
    }

    pub fn case(&self, id: Uuid) -> Result<Option<Case>> {
        rows::case_by_id(&self.conn, id)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM workspace_settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn case_by_reference(&self, reference: &str) -> Result<Option<Case>> {
        let id: Option<Uuid> = self
            .conn
            .prepare_cached("SELECT id FROM cases WHERE reference = ?1")?
            .query_row([reference], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => self.case(id),
            None => Ok(None),
        }
    }

    pub fn tasks_of_case(&self, case_id: Uuid) -> Result<Vec<Task>> {
        rows::tasks_of_case(&self.conn, case_id)
    }

    pub fn task(&self, id: Uuid) -> Result<Option<Task>> {
        rows::task_by_id(&self.conn, id)
    }

    pub fn customer(&self, id: Uuid) -> Result<Option<Customer>> {
        rows::customer_by_id(&self.conn, id)
    }

    pub fn user(&self, id: &str) -> Result<Option<User>> {
        rows::user_by_id(&self.conn, id)
    }

    pub fn agent(&self, user_id: &str) -> Result<Option<crate::routing::Agent>> {
        super::routing::agent(&self.conn, user_id)
    }

    pub fn agents(&self) -> Result<Vec<crate::routing::Agent>> {
        super::routing::agents(&self.conn)
    }

    pub fn latest_case_type_sources(&self) -> Result<Vec<super::catalogue::CaseTypeSourceRow>> {
        super::catalogue::latest_case_type_sources(&self.conn)
    }

    pub fn calendars(&self) -> Result<Vec<crate::calendar::CalendarDef>> {
        super::catalogue::calendars(&self.conn)
    }

    pub fn queues(&self) -> Result<Vec<crate::routing::QueueConfig>> {
        super::routing::queues(&self.conn)
    }

    /// The earliest instant time-driven routing has work: an offer running out, or a
    /// waiting task's eligibility widening.
    pub fn next_routing_due(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let ms: Option<i64> = self.conn.query_row(
            "SELECT min(t) FROM (
                SELECT min(offer_expires_at) AS t FROM tasks WHERE offered_to IS NOT NULL AND state = 'offered'
                UNION ALL
                SELECT min(reroute_at) FROM tasks WHERE reroute_at IS NOT NULL AND state = 'queued') AS due",
            [],
            |r| r.get(0),
        )?;
        Ok(ms.map(crate::clock::from_millis))
    }

    /// How far a consumer of the outbox has read.
    pub fn outbox_cursor(&self, consumer: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT last_id FROM outbox_cursors WHERE consumer = ?1")?
            .query_row([consumer], |r| r.get(0))
            .optional()?)
    }

    pub fn outbox_head(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT coalesce(max(id), 0) FROM outbox", [], |r| r.get(0))?)
    }

    /// Outbox rows of a topic after `after`, with their events.
    pub fn outbox_after(&self, topic: &str, after: i64, limit: u32) -> Result<Vec<(i64, Event)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT o.id, e.seq, e.case_id, e.task_id, e.actor, e.at, e.kind, e.before, e.after
             FROM outbox o JOIN events e ON e.seq = o.event_seq
             WHERE o.id > ?1 AND o.topic = ?2 ORDER BY o.id LIMIT ?3",
        )?;
        let rows = st.query_map(params![after, topic, limit], |r| {
            let id: i64 = r.get(0)?;
            let before: String = r.get(7)?;
            let after: String = r.get(8)?;
            Ok((
                id,
                Event {
                    seq: r.get(1)?,
                    case_id: r.get(2)?,
                    task_id: r.get(3)?,
                    actor: r.get(4)?,
                    at: crate::clock::from_millis(r.get(5)?),
                    kind: r.get(6)?,
                    before: serde_json::from_str(&before).unwrap_or_default(),
                    after: serde_json::from_str(&after).unwrap_or_default(),
                },
            ))
        })?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    /// The clocks still running: open tasks' OLAs and open cases' SLAs.
    pub fn running_clocks(&self) -> Result<Vec<(crate::engine::TimerSubject, crate::model::SlaClock)>> {
        use crate::engine::TimerSubject;
        let mut out = vec![];
        let mut st = self.conn.prepare(
            "SELECT id, ola_clock FROM tasks
             WHERE ola_clock IS NOT NULL AND state NOT IN ('completed', 'escalated', 'cancelled')",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, json) = row?;
            out.push((TimerSubject::Task(id), serde_json::from_str(&json)?));
        }
        let mut st =
            self.conn.prepare("SELECT id, sla FROM cases WHERE sla IS NOT NULL AND status_category != 'closed'")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, json) = row?;
            out.push((TimerSubject::Case(id), serde_json::from_str(&json)?));
        }
        Ok(out)
    }

    /// The running clocks of the tasks and cases, and the pending rule timers, whose rows
    /// changed after change `seq`, with the head they were read up to.
    #[allow(clippy::type_complexity)]
    pub fn clocks_changed_after(
        &self,
        seq: i64,
    ) -> Result<(
        i64,
        Vec<(crate::engine::TimerSubject, crate::model::SlaClock)>,
        Vec<(i64, chrono::DateTime<chrono::Utc>)>,
    )> {
        use crate::engine::TimerSubject;
        let head = super::changes::head(&self.conn, "main")?;
        // How a change's key finds its row: PostgreSQL's row_changes keeps keys as text.
        let (uuid_key, id_key) = match self.conn.dialect() {
            super::sql::Dialect::Sqlite => ("rc.k1", "rc.k1"),
            super::sql::Dialect::Postgres => ("decode(substr(rc.k1, 3), 'hex')", "CAST(rc.k1 AS BIGINT)"),
        };
        let changed = |table: &str, key: &str| {
            format!("FROM row_changes rc JOIN {table} x ON x.id = {key} WHERE rc.tbl = '{table}' AND rc.seq > ?1 AND rc.seq <= ?2")
        };
        let mut clocks = vec![];
        for (table, column, open) in [
            ("tasks", "ola_clock", "x.state NOT IN ('completed', 'escalated', 'cancelled')"),
            ("cases", "sla", "x.status_category != 'closed'"),
        ] {
            let sql =
                format!("SELECT x.id, x.{column} {} AND x.{column} IS NOT NULL AND {open}", changed(table, uuid_key));
            let mut st = self.conn.prepare_cached(&sql)?;
            for row in st.query_map([seq, head], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)))? {
                let (id, json) = row?;
                let subject = if table == "tasks" { TimerSubject::Task(id) } else { TimerSubject::Case(id) };
                clocks.push((subject, serde_json::from_str(&json)?));
            }
        }
        let sql = format!("SELECT x.id, x.due_at {} AND x.fired_at IS NULL", changed("rule_timers", id_key));
        let mut st = self.conn.prepare_cached(&sql)?;
        let rules = st
            .query_map([seq, head], |r| Ok((r.get(0)?, crate::clock::from_millis(r.get(1)?))))?
            .collect::<super::sql::Result<_>>()?;
        Ok((head, clocks, rules))
    }

    /// A queue's open work, waiting tasks first in routing order.
    pub fn open_tasks_page(&self, queue: &str, offset: u32, limit: u32) -> Result<(u32, Vec<Task>)> {
        super::routing::open_tasks_page(&self.conn, queue, offset, limit)
    }

    /// Open tasks an agent holds or is offered.
    pub fn tasks_of_agent(&self, user_id: &str) -> Result<Vec<Task>> {
        super::routing::tasks_of_agent(&self.conn, user_id)
    }

    pub fn users(&self) -> Result<Vec<User>> {
        rows::users(&self.conn)
    }

    pub fn search_customers(&self, query: &str, limit: u32) -> Result<Vec<Customer>> {
        rows::search_customers(&self.conn, query, limit)
    }

    pub fn notes_of_case(&self, case_id: Uuid) -> Result<Vec<Note>> {
        rows::notes_of_case(&self.conn, case_id)
    }

    pub fn attachment(&self, id: Uuid) -> Result<Option<Attachment>> {
        rows::attachment(&self.conn, id)
    }

    pub fn attachment_content(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        rows::attachment_content(&self.conn, sha256)
    }

    pub fn attachments_of_case(&self, case_id: Uuid) -> Result<Vec<Attachment>> {
        rows::attachments_of_case(&self.conn, case_id)
    }

    pub fn interactions_of_case(&self, case_id: Uuid) -> Result<Vec<Interaction>> {
        rows::interactions_of_case(&self.conn, case_id)
    }

    pub fn events_of_case(&self, case_id: Uuid) -> Result<Vec<Event>> {
        rows::events_of_case(&self.conn, case_id)
    }

    pub fn case_summaries(&self, limit: u32, offset: u32) -> Result<Vec<CaseSummary>> {
        rows::case_summaries(&self.conn, limit, offset)
    }

    /// The id of every published case type.
    pub fn latest_case_type_ids(&self) -> Result<Vec<String>> {
        let mut st =
            self.conn.prepare_cached("SELECT DISTINCT case_type FROM case_type_versions ORDER BY case_type")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    pub fn latest_case_type(&self, case_type: &str) -> Result<Option<(u32, String)>> {
        rows::latest_case_type(&self.conn, case_type)
    }

    pub fn search_case_summaries(&self, query: Option<&str>, limit: u32, offset: u32) -> Result<Vec<CaseSummary>> {
        rows::search_case_summaries(&self.conn, query, limit, offset)
    }

    pub fn count(&self, table: Table) -> Result<i64> {
        Ok(self.conn.query_row(&format!("SELECT count(*) FROM {}", table.name()), [], |r| r.get(0))?)
    }
}

/// Tables whose rows can be counted (tests, benchmarks, the demo seeder).
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Cases,
    Tasks,
    Events,
    Outbox,
    Customers,
    CaseTypeVersions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Cases => "cases",
            Table::Tasks => "tasks",
            Table::Events => "events",
            Table::Outbox => "outbox",
            Table::Customers => "customers",
            Table::CaseTypeVersions => "case_type_versions",
        }
    }
}
