#![allow(dead_code)]

use casedesk_core::command::Executed;
use casedesk_core::demo;
use casedesk_core::model::{Role, Task, TaskState};
use casedesk_core::{Actor, Command, Engine, ManualClock, OpenOptions};
use chrono::TimeZone;
use serde_json::{Map, Value};
use std::sync::Arc;
use uuid::Uuid;

pub struct World {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database the engine runs on, if it does (dropped after the engine).
    pub database: Option<TestDatabase>,
}

/// The server the suite's workspaces run on when `CASEDESK_TEST_PG_URL` names one
/// (`postgres://user@host:port`, no database): each workspace gets a database of its own.
/// Unset, they run on SQLite files.
pub fn test_postgres() -> Option<String> {
    std::env::var("CASEDESK_TEST_PG_URL").ok().filter(|u| !u.is_empty())
}

/// A database made for one workspace, dropped with it.
pub struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    pub fn create(server: &str) -> TestDatabase {
        let made = TestDatabase::named(server);
        let admin = casedesk_core::store::sql::Conn::postgres(&format!("{server}/postgres")).unwrap();
        admin.execute_batch(&format!("DROP DATABASE IF EXISTS {}", made.name)).unwrap();
        admin.execute_batch(&format!("CREATE DATABASE {}", made.name)).unwrap();
        made
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// A new database holding what this one holds (`CREATE DATABASE … TEMPLATE`), which
    /// nobody may be connected to meanwhile.
    pub fn copy(&self) -> TestDatabase {
        let copy = TestDatabase::named(&self.server);
        let admin = casedesk_core::store::sql::Conn::postgres(&format!("{}/postgres", self.server)).unwrap();
        admin.execute_batch(&format!("CREATE DATABASE {} TEMPLATE {}", copy.name, self.name)).unwrap();
        copy
    }

    fn named(server: &str) -> TestDatabase {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let name = format!("casedesk_test_{}_{}", std::process::id(), MADE.fetch_add(1, Ordering::Relaxed));
        TestDatabase { server: server.to_string(), name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(admin) = casedesk_core::store::sql::Conn::postgres(&format!("{}/postgres", self.server)) {
            let _ = admin.execute_batch(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The workspace of `dir` (and `database`, when it runs on PostgreSQL) opened again, as
/// after a restart.
pub fn reopen(dir: &std::path::Path, database: &Option<TestDatabase>, clock: Arc<dyn casedesk_core::Clock>) -> Engine {
    match database {
        Some(db) => Engine::open_postgres(&db.url(), dir, clock).unwrap(),
        None => Engine::open(dir, clock, OpenOptions::default()).unwrap(),
    }
}

/// A hub's engine over `dir`: on a fresh PostgreSQL database when the suite runs on one
/// (see [`test_postgres`]), else on an SQLite file in `dir`.
pub fn open_hub(dir: &std::path::Path, clock: Arc<dyn casedesk_core::Clock>) -> (Engine, Option<TestDatabase>) {
    match test_postgres() {
        Some(server) => {
            let database = TestDatabase::create(&server);
            (Engine::open_postgres(&database.url(), dir, clock).unwrap(), Some(database))
        }
        None => (Engine::open(dir, clock, OpenOptions::default()).unwrap(), None),
    }
}

pub fn admin() -> Actor {
    Actor::new("ada", &[Role::Admin])
}
pub fn alex() -> Actor {
    Actor::new("alex", &[Role::Agent])
}
pub fn bea() -> Actor {
    Actor::new("bea", &[Role::Agent])
}
pub fn sam() -> Actor {
    Actor::new("sam", &[Role::Supervisor, Role::Agent])
}

/// A fresh workspace with the demo case types and team: in a real SQLite file, or in a
/// PostgreSQL database of its own when the suite runs on one (see [`test_postgres`]).
pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()));
    let (engine, database) = open_hub(dir.path(), clock.clone());
    seeded(engine, clock, dir, database)
}

/// [`world`] on an SQLite file whatever the suite runs on: for tests that copy the
/// workspace's files.
pub fn sqlite_world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()));
    let engine = Engine::open(dir.path(), clock.clone(), OpenOptions::default()).unwrap();
    seeded(engine, clock, dir, None)
}

fn seeded(engine: Engine, clock: Arc<ManualClock>, dir: tempfile::TempDir, database: Option<TestDatabase>) -> World {
    let system = Actor::system();
    let office = casedesk_core::calendar::CalendarDef::demo_office();
    engine.execute(&system, Command::DefineCalendar { calendar: office }).unwrap();
    for (file, source) in demo::CASE_TYPES {
        engine
            .execute(&system, Command::PublishCaseType { file_name: file.to_string(), source: source.to_string() })
            .unwrap();
    }
    for (id, name, roles, teams) in demo::USERS {
        engine
            .execute(
                &system,
                Command::CreateUser {
                    id: id.to_string(),
                    name: name.to_string(),
                    roles: roles.to_vec(),
                    teams: teams.iter().map(|t| t.to_string()).collect(),
                },
            )
            .unwrap();
    }
    engine.execute(&system, Command::DefineCustomerFields { fields: demo::customer_fields() }).unwrap();
    demo::configure_routing(&engine, demo::RoutingSetup::WorkbinsOnly).unwrap();
    World { engine, clock, dir, database }
}

/// A technical case about a router, as an agent makes one.
pub fn new_case(subject: &str) -> Command {
    Command::CreateCase {
        case_type: "technical".into(),
        intent: None,
        customer_id: None,
        subject: subject.into(),
        description: String::new(),
        fields: obj(serde_json::json!({ "device": "Router" })),
        priority: None,
        interaction_id: None,
        contact: None,
        external_id: None,
    }
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub fn created(e: &Executed) -> Uuid {
    e.created_id.as_deref().unwrap().parse().unwrap()
}

/// A copy of a workspace as it stood (an SQLite file copy, or `pg_dump`'s archive
/// restored into a database of its own), to open as a hub restored from a backup.
pub struct Backup {
    pub dir: tempfile::TempDir,
    pub database: Option<TestDatabase>,
}

impl Backup {
    pub fn open(&self, clock: Arc<dyn casedesk_core::Clock>) -> Engine {
        reopen(self.dir.path(), &self.database, clock)
    }
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): on the PATH, or Debian's.
fn pg_program(name: &str) -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.exists());
    let debian = || {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    };
    on_path.or_else(debian).unwrap_or_else(|| panic!("{name} is not installed"))
}

impl World {
    /// A backup of the workspace as it stands now.
    pub fn backup(&self) -> Backup {
        let dir = tempfile::tempdir().unwrap();
        match &self.database {
            Some(db) => {
                let archive = dir.path().join("hub.dump");
                let dumped = std::process::Command::new(pg_program("pg_dump"))
                    .args(["--format=custom", "--dbname", &db.url(), "--file"])
                    .arg(&archive)
                    .status()
                    .unwrap();
                assert!(dumped.success(), "pg_dump failed");
                let copy = TestDatabase::create(&db.server);
                let restored = std::process::Command::new(pg_program("pg_restore"))
                    .args(["--dbname", &copy.url()])
                    .arg(&archive)
                    .status()
                    .unwrap();
                assert!(restored.success(), "pg_restore failed");
                Backup { dir, database: Some(copy) }
            }
            None => {
                let file = dir.path().join(casedesk_core::engine::DB_FILE);
                self.engine
                    .read(|db| Ok(db.connection_ref().execute("VACUUM INTO ?1", [file.to_string_lossy()])?))
                    .unwrap();
                Backup { dir, database: None }
            }
        }
    }

    /// The workspace opened again, as after a restart.
    pub fn reopen(&self) -> Engine {
        reopen(self.dir.path(), &self.database, self.clock.clone())
    }

    pub fn create_case(&self, actor: &Actor, case_type: &str, fields: Value) -> casedesk_core::Result<Uuid> {
        let r = self.engine.execute(
            actor,
            Command::CreateCase {
                case_type: case_type.into(),
                intent: None,
                customer_id: None,
                subject: format!("a {case_type} case"),
                description: String::new(),
                fields: obj(fields),
                priority: None,
                interaction_id: None,
                contact: None,
                external_id: None,
            },
        )?;
        Ok(created(&r))
    }

    pub fn tasks(&self, case: Uuid) -> Vec<Task> {
        self.engine.read(|db| db.tasks_of_case(case)).unwrap()
    }

    pub fn open_tasks(&self, case: Uuid) -> Vec<Task> {
        self.tasks(case).into_iter().filter(|t| t.state.is_open()).collect()
    }

    /// Assigns the task to `who` (by `sam`) and completes it with `outcome`.
    pub fn finish(
        &self,
        task: Uuid,
        who: &Actor,
        outcome: &str,
        form: Value,
        reason: Option<&str>,
    ) -> casedesk_core::Result<Executed> {
        self.engine.execute(&sam(), Command::AssignTask { task_id: task, assignee: who.user_id.clone() })?;
        self.engine.execute(
            who,
            Command::CompleteTask {
                task_id: task,
                outcome: outcome.into(),
                form_values: obj(form),
                reason: reason.map(String::from),
            },
        )
    }

    pub fn case(&self, id: Uuid) -> casedesk_core::model::Case {
        self.engine.read(|db| db.case(id)).unwrap().unwrap()
    }

    /// Every row of every table, as text: proves a failed command changed nothing.
    pub fn snapshot(&self) -> String {
        self.engine
            .read(|db| {
                let conn = db.connection_ref();
                let tables: Vec<String> = conn
                    .prepare(conn.pick(
                        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                        "SELECT table_name::text FROM information_schema.tables
                         WHERE table_schema = current_schema() ORDER BY 1",
                    ))?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let mut out = vec![];
                for t in tables {
                    let mut st = conn.prepare(&format!("SELECT * FROM {t}"))?;
                    let n = st.column_count();
                    let mut rows = st.query([])?;
                    while let Some(r) = rows.next()? {
                        let mut line = t.clone();
                        for i in 0..n {
                            line.push_str(&format!(" {:?}", r.get_ref(i)?));
                        }
                        out.push(line);
                    }
                }
                // PostgreSQL returns rows in no set order.
                out.sort();
                Ok(out.join("\n"))
            })
            .unwrap()
    }
}

/// Every replicated row (sync), in key order, as text: two replicas agree when theirs match.
pub fn replicated(engine: &Engine) -> String {
    engine
        .read(|db| {
            let conn = db.connection_ref();
            let mut out = String::new();
            for shape in casedesk_core::store::changes::shapes(conn, "main")? {
                let order = shape.key.join(", ");
                let mut st = conn.prepare(&format!("SELECT * FROM \"{}\" ORDER BY {order}", shape.name))?;
                let n = st.column_count();
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    out.push_str(&shape.name);
                    for i in 0..n {
                        out.push_str(&format!(" {:?}", r.get_ref(i)?));
                    }
                    out.push('\n');
                }
            }
            Ok(out)
        })
        .unwrap()
}

pub fn count(engine: &Engine, sql: &str) -> i64 {
    engine.read(|db| Ok(db.connection_ref().query_row(sql, [], |r| r.get(0))?)).unwrap()
}

/// After sync has healed: every desk holds the hub's rows with nothing waiting, every
/// command made (`made`, across desks) was recorded once and applied or became a
/// conflict, and nothing happened twice. `notes_before` is the hub's notes not made by
/// pushed commands.
pub fn assert_converged(hub: &Engine, desks: &[&Engine], made: i64, notes_before: i64, label: &str) {
    let truth = replicated(hub);
    for (i, d) in desks.iter().enumerate() {
        let waiting = d.read(|db| casedesk_core::store::sync::waiting(db.connection_ref())).unwrap();
        assert_eq!(waiting, 0, "{label}: desk {i} has nothing waiting");
        assert!(replicated(d) == truth, "{label}: desk {i} differs from the hub");
    }
    let pending: i64 = desks.iter().map(|d| count(d, "SELECT count(*) FROM pending_commands")).sum();
    assert_eq!(pending, made, "{label}: every command made is kept");
    assert_eq!(count(hub, "SELECT count(*) FROM pushed_commands"), made, "{label}: each recorded once");
    assert_eq!(
        count(hub, "SELECT count(*) FROM pushed_commands WHERE conflict IS NOT NULL"),
        count(hub, "SELECT count(*) FROM conflicts"),
        "{label}: every refusal is a conflict record"
    );
    let applied_notes = count(
        hub,
        // The command's tag comes first in its JSON (serde writes it first), on both back ends.
        "SELECT count(*) FROM pushed_commands WHERE conflict IS NULL AND command LIKE '{\"type\":\"add_note\",%'",
    );
    assert_eq!(count(hub, "SELECT count(*) FROM notes"), notes_before + applied_notes, "{label}: notes once");
    let twice = "SELECT count(*) FROM (SELECT task_id FROM events WHERE kind = 'task_completed' GROUP BY task_id HAVING count(*) > 1) AS twice";
    assert_eq!(count(hub, twice), 0, "{label}: no task completed twice");
    let queued_twice =
        "SELECT count(*) FROM (SELECT event_seq FROM outbox GROUP BY event_seq, topic HAVING count(*) > 1) AS twice";
    assert_eq!(count(hub, queued_twice), 0, "{label}: no notification queued twice");
    assert_eq!(
        count(hub, "SELECT count(*) FROM events WHERE kind = 'case_created'"),
        count(hub, "SELECT count(*) FROM cases"),
        "{label}: every case created once"
    );
    let unheld = hub
        .read(|db| {
            let mut n = 0;
            for c in db.case_summaries(100_000, 0)? {
                let tasks = db.tasks_of_case(c.id)?;
                n += tasks.iter().filter(|t| t.state == TaskState::Assigned && t.assignee.is_none()).count();
            }
            Ok(n)
        })
        .unwrap();
    assert_eq!(unheld, 0, "{label}: an assigned task has its one assignee");
}
