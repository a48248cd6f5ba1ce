#![allow(dead_code)]

use casedesk_core::command::Executed;
use casedesk_core::demo;
use casedesk_core::model::{Role, Task};
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
