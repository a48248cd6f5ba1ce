//! A deterministic simulation of sync: one hub and five desktops, each seed a different
//! run of random commands under partitions, lost requests, lost replies, late duplicate
//! deliveries, desktops and the hub crashing and restarting from their files, and skewed
//! clocks. After the network heals, every replica must hold the hub's data exactly, every
//! command made on a desk must have been applied once or have become a conflict, no note
//! or completion may have happened twice, and no customer notification been queued twice.
//!
//! `CASEDESK_SIM_SEEDS` sets how many seeds run (1,000 by default; a longer job runs more)
//! and `CASEDESK_SIM_FIRST` where they start, so a failing seed can be run alone. With
//! `CASEDESK_TEST_PG_URL` the hub's workspace is a PostgreSQL database, copied for each
//! seed from the template's (the desks stay SQLite files).

mod common;

use casedesk_core::engine::{sync_once, ChangePage, HubLink, PushOutcome, PushedCommand, ReferenceBlock};
use casedesk_core::{Actor, Clock, Command, Engine, Error, ManualClock, OpenOptions};
use chrono::{DateTime, Duration, Utc};
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The hub's workspace and one desk synced with it, before any seed: made once, copied
/// for each seed (a desk copy gets its own client id and no reference numbers, so its
/// first round asks the hub for a block of its own).
struct Template {
    /// The hub's SQLite file, or (on PostgreSQL) its attachment folder.
    hub: tempfile::TempDir,
    /// On PostgreSQL, the hub's database, which nobody is connected to after it is made.
    hub_database: Option<TestDatabase>,
    desk: tempfile::TempDir,
    start: DateTime<Utc>,
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let w = world();
        // The demo's notification rules, so commands write deliveries as they would.
        casedesk_core::demo::notifications::configure(&w.engine).unwrap();
        w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
        let desk_dir = tempfile::tempdir().unwrap();
        let desk = Engine::open(desk_dir.path(), w.clock.clone(), OpenOptions::default()).unwrap();
        desk.join_hub("desk-template").unwrap();
        let net = RefCell::new(Net { rng: StdRng::seed_from_u64(0), healed: true, late: vec![] });
        let hub_cell = RefCell::new(Hub {
            engine: w.engine,
            dir: w.dir.path().to_path_buf(),
            clock: w.clock.clone(),
            database: None,
        });
        let link = Link { hub: &hub_cell, actor: alex(), client_id: "desk-template".into(), net: &net };
        sync_once(&desk, &link).unwrap();
        let (hub, into_desk) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let vacuum = |engine: &Engine, schema: &str, to: PathBuf| {
            let sql = format!("VACUUM {schema} INTO ?1");
            engine.read(|db| Ok(db.connection_ref().execute(&sql, [to.to_string_lossy()])?)).unwrap();
        };
        if w.database.is_none() {
            vacuum(&hub_cell.borrow().engine, "main", hub.path().join(casedesk_core::engine::DB_FILE));
        }
        vacuum(&desk, "main", into_desk.path().join(casedesk_core::engine::DB_FILE));
        vacuum(&desk, "mirror", into_desk.path().join(casedesk_core::engine::replica::MIRROR_FILE));
        let start = w.clock.now();
        drop(hub_cell);
        Template { hub, hub_database: w.database, desk: into_desk, start }
    })
}

/// A copy of the template desk in `dir`, as client `client_id`.
fn clone_desk(dir: &Path, client_id: &str) {
    for file in [casedesk_core::engine::DB_FILE, casedesk_core::engine::replica::MIRROR_FILE] {
        std::fs::copy(template().desk.path().join(file), dir.join(file)).unwrap();
    }
    let conn = rusqlite::Connection::open(dir.join(casedesk_core::engine::DB_FILE)).unwrap();
    conn.execute("UPDATE sync_state SET value = ?1 WHERE key = 'client_id'", [client_id]).unwrap();
    conn.execute("DELETE FROM reference_blocks", []).unwrap();
}

/// A scratch folder in memory where the machine has one (/dev/shm): the simulation
/// opens thousands of real SQLite files, and a disk's flushes would dominate its time.
fn scratch() -> tempfile::TempDir {
    match Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap(),
        false => tempfile::tempdir().unwrap(),
    }
}

/// A desk's clock: the simulation's time plus this machine's skew.
struct Skewed {
    base: Arc<ManualClock>,
    skew: Duration,
}

impl Clock for Skewed {
    fn now(&self) -> DateTime<Utc> {
        self.base.now() + self.skew
    }
}

/// What the network does to one call.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    Delivered,
    /// The request never arrives.
    LostRequest,
    /// The hub acts, the reply never arrives.
    LostReply,
}

struct Hub {
    engine: Engine,
    dir: PathBuf,
    clock: Arc<ManualClock>,
    /// On PostgreSQL, the hub's database (dropped after the engine).
    database: Option<TestDatabase>,
}

impl Hub {
    fn restart(&mut self) {
        self.engine = reopen(&self.dir, &self.database, self.clock.clone());
    }
}

/// One desk's link to the hub through the simulated network.
struct Link<'a> {
    hub: &'a RefCell<Hub>,
    actor: Actor,
    client_id: String,
    net: &'a RefCell<Net>,
}

struct Net {
    rng: StdRng,
    healed: bool,
    /// Copies of pushes that will arrive again, late.
    late: Vec<(Actor, PushedCommand)>,
}

impl Net {
    fn fate(&mut self, partitioned: bool) -> Fate {
        if self.healed {
            return Fate::Delivered;
        }
        if partitioned {
            return Fate::LostRequest;
        }
        match self.rng.random_range(0..100) {
            0..8 => Fate::LostRequest,
            8..16 => Fate::LostReply,
            _ => Fate::Delivered,
        }
    }
}

fn lost() -> Error {
    Error::Io("the network lost it".into())
}

impl Link<'_> {
    fn deliver<T>(&self, f: impl FnOnce(&Engine) -> casedesk_core::Result<T>) -> casedesk_core::Result<T> {
        let fate = self.net.borrow_mut().fate(false);
        if fate == Fate::LostRequest {
            return Err(lost());
        }
        let out = f(&self.hub.borrow().engine)?;
        if fate == Fate::LostReply {
            return Err(lost());
        }
        Ok(out)
    }
}

impl HubLink for Link<'_> {
    fn push(&self, batch: &[PushedCommand]) -> casedesk_core::Result<Vec<PushOutcome>> {
        {
            let mut net = self.net.borrow_mut();
            if !net.healed && net.rng.random_bool(0.1) {
                let late = batch.iter().map(|p| (self.actor.clone(), p.clone()));
                net.late.extend(late);
            }
        }
        self.deliver(|hub| batch.iter().map(|p| hub.apply_pushed(&self.actor, p.clone())).collect())
    }
    fn pull(&self, cursor: i64, limit: i64) -> casedesk_core::Result<ChangePage> {
        // Small pages, so a round often stops between them.
        self.deliver(|hub| hub.changes_after(&self.actor, cursor, limit.min(150)))
    }
    fn reserve(&self, prefix: &str, size: i64, held: Option<i64>) -> casedesk_core::Result<ReferenceBlock> {
        self.deliver(|hub| hub.reserve_for_client(&self.actor, &self.client_id, prefix, size, held))
    }
    fn user(&self) -> &str {
        &self.actor.user_id
    }
}

struct Desk {
    engine: Engine,
    dir: tempfile::TempDir,
    clock: Arc<Skewed>,
    actor: Actor,
    client_id: String,
    partitioned: bool,
}

impl Desk {
    fn restart(&mut self) {
        self.engine = open_desk(self.dir.path(), self.clock.clone());
    }
}

fn open_desk(dir: &Path, clock: Arc<Skewed>) -> Engine {
    let engine = Engine::open(dir, clock, OpenOptions::default()).unwrap();
    engine.open_mirror().unwrap();
    engine
}

const PEOPLE: [(&str, &[casedesk_core::model::Role]); 5] = [
    ("alex", &[casedesk_core::model::Role::Agent]),
    ("bea", &[casedesk_core::model::Role::Agent]),
    ("sam", &[casedesk_core::model::Role::Supervisor, casedesk_core::model::Role::Agent]),
    ("alex", &[casedesk_core::model::Role::Agent]),
    ("bea", &[casedesk_core::model::Role::Agent]),
];

fn round(desk: &Desk, hub: &RefCell<Hub>, net: &RefCell<Net>) -> casedesk_core::Result<()> {
    if desk.partitioned && !net.borrow().healed {
        return Err(lost());
    }
    let link = Link { hub, actor: desk.actor.clone(), client_id: desk.client_id.clone(), net };
    sync_once(&desk.engine, &link).map(|_| ())
}

/// A random command this desk's person might make, from what the desk shows.
fn random_command(rng: &mut StdRng, desk: &Desk) -> Option<Command> {
    let engine = &desk.engine;
    let me = &desk.actor.user_id;
    let cases = engine.case_summaries(100, 0).ok()?;
    let tasks: Vec<_> =
        cases.iter().flat_map(|c| engine.read(|db| db.tasks_of_case(c.id)).unwrap_or_default()).collect();
    let open: Vec<_> = tasks.iter().filter(|t| t.state.is_open()).collect();
    match rng.random_range(0..10) {
        0..2 => Some(Command::CreateCase {
            case_type: "technical".into(),
            intent: None,
            customer_id: None,
            subject: format!("Case {}", rng.random::<u32>()),
            description: String::new(),
            fields: obj(serde_json::json!({ "device": "Router" })),
            priority: None,
            interaction_id: None,
            contact: None,
            external_id: None,
        }),
        2..4 if !cases.is_empty() => {
            let case = &cases[rng.random_range(0..cases.len())];
            Some(Command::AddNote { case_id: case.id, body: format!("note {}", rng.random::<u32>()) })
        }
        4..7 if !open.is_empty() => {
            let task = open[rng.random_range(0..open.len())];
            let who = if desk.actor.has(casedesk_core::model::Role::Supervisor) && rng.random_bool(0.5) {
                ["alex", "bea", "sam"][rng.random_range(0..3)]
            } else {
                me.as_str()
            };
            Some(Command::AssignTask { task_id: task.id, assignee: who.into() })
        }
        _ => {
            let mine: Vec<_> = tasks.iter().filter(|t| t.assignee.as_deref() == Some(me.as_str())).collect();
            let task = mine.get(rng.random_range(0..mine.len().max(1)))?;
            let def = engine.case_types().ok()?.into_iter().find(|d| d.id == "technical")?;
            let step = def.step(&task.step)?;
            let outcome = &step.outcomes[rng.random_range(0..step.outcomes.len())];
            Some(Command::CompleteTask {
                task_id: task.id,
                outcome: outcome.code.clone(),
                form_values: Default::default(),
                reason: outcome.reason_required.then(|| "because".to_string()),
            })
        }
    }
}

fn run(seed: u64) {
    let Template { hub: template_dir, hub_database, start, .. } = template();
    let mut rng = StdRng::seed_from_u64(seed);
    let hub_dir = scratch();
    let database = match hub_database {
        Some(template) => Some(template.copy()),
        None => {
            std::fs::copy(
                template_dir.path().join(casedesk_core::engine::DB_FILE),
                hub_dir.path().join(casedesk_core::engine::DB_FILE),
            )
            .unwrap();
            None
        }
    };
    let clock = Arc::new(ManualClock::new(*start));
    let hub = RefCell::new(Hub {
        engine: reopen(hub_dir.path(), &database, clock.clone()),
        dir: hub_dir.path().to_path_buf(),
        clock: clock.clone(),
        database,
    });
    let net = RefCell::new(Net { rng: StdRng::seed_from_u64(seed ^ 0x5eed), healed: false, late: vec![] });
    let mut desks: Vec<Desk> = PEOPLE
        .iter()
        .enumerate()
        .map(|(i, (user, roles))| {
            let dir = scratch();
            let skew = Duration::seconds(rng.random_range(-240..=240));
            let desk_clock = Arc::new(Skewed { base: clock.clone(), skew });
            let client_id = format!("desk-{i}");
            clone_desk(dir.path(), &client_id);
            let engine = open_desk(dir.path(), desk_clock.clone());
            Desk { engine, dir, clock: desk_clock, actor: Actor::new(*user, roles), client_id, partitioned: false }
        })
        .collect();
    // Every desk starts from one good round (its own reference numbers).
    for d in &desks {
        while round(d, &hub, &net).is_err() {}
    }

    let mut made = 0;
    for _step in 0..40 {
        clock.advance(Duration::seconds(rng.random_range(1..120)));
        let i = rng.random_range(0..desks.len());
        match rng.random_range(0..100) {
            0..45 => {
                if let Some(command) = random_command(&mut rng, &desks[i]) {
                    if desks[i].engine.submit(&desks[i].actor, command).is_ok() {
                        made += 1;
                    }
                }
            }
            45..80 => {
                let _ = round(&desks[i], &hub, &net);
            }
            80..88 => desks[i].partitioned = !desks[i].partitioned,
            88..93 => desks[i].restart(),
            93..96 => hub.borrow_mut().restart(),
            _ => {
                // A push sent earlier arrives (again, or for the first time if the
                // first copy was lost), late and out of order.
                let late = std::mem::take(&mut net.borrow_mut().late);
                for (actor, p) in late {
                    hub.borrow().engine.apply_pushed(&actor, p).unwrap();
                }
            }
        }
    }

    // Heal: a perfect network, until nothing waits anywhere, then once more for all.
    net.borrow_mut().healed = true;
    for d in &mut desks {
        d.partitioned = false;
    }
    for _ in 0..3 {
        for d in &desks {
            round(d, &hub, &net).unwrap_or_else(|e| panic!("seed {seed}: a healed round failed: {e}"));
        }
    }
    let hub = hub.borrow();
    let desks: Vec<&Engine> = desks.iter().map(|d| &d.engine).collect();
    assert_converged(&hub.engine, &desks, made, 0, &format!("seed {seed}"));
}

/// Runs this part's share of the seeds (four parts, so the test threads share them).
fn part(n: u64) {
    let first: u64 = std::env::var("CASEDESK_SIM_FIRST").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let seeds: u64 = std::env::var("CASEDESK_SIM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    for seed in (first..first + seeds).filter(|s| s % 4 == n) {
        run(seed);
    }
}

#[test]
fn replicas_converge_under_faults_seeds_0_mod_4() {
    part(0);
}

#[test]
fn replicas_converge_under_faults_seeds_1_mod_4() {
    part(1);
}

#[test]
fn replicas_converge_under_faults_seeds_2_mod_4() {
    part(2);
}

#[test]
fn replicas_converge_under_faults_seeds_3_mod_4() {
    part(3);
}
