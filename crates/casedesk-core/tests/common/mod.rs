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

/// A fresh workspace in a real SQLite file, with the demo case types and team.
pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()));
    let engine = Engine::open(dir.path(), clock.clone(), OpenOptions::default()).unwrap();
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
    World { engine, clock, dir }
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub fn created(e: &Executed) -> Uuid {
    e.created_id.as_deref().unwrap().parse().unwrap()
}

impl World {
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
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let mut out = String::new();
                for t in tables {
                    let mut st = conn.prepare(&format!("SELECT * FROM {t}"))?;
                    let n = st.column_count();
                    let mut rows = st.query([])?;
                    while let Some(r) = rows.next()? {
                        out.push_str(&t);
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
        "SELECT count(*) FROM pushed_commands WHERE conflict IS NULL AND json_extract(command, '$.type') = 'add_note'",
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
