//! Sync over real HTTP on loopback, against the `casedesk-server` binary in its own
//! process (SQLite back end; with BENCH_DATABASE=postgres://user@host:port, the hub's
//! workspace is a new database on that PostgreSQL server):
//! 1. pushes applied per second with BENCH_CLIENTS (100) clients pushing at once, one
//!    command per request, and the latency of a push (p50, p99);
//! 2. a desk that made BENCH_PENDING (10,000) commands offline: time to converge;
//! 3. the first sync of a new desk (a `casedesk-replica` process) from a hub holding
//!    BENCH_CASES (100,000) cases: time and the desk's peak memory.
//!
//! `cargo bench -p casedesk-server --bench sync [-- 1 2 3]`

use casedesk_core::engine::PushedCommand;
use casedesk_core::hlc::HlcTime;
use casedesk_core::model::Role;
use casedesk_core::{demo, Actor, Command, Engine, OpenOptions, SystemClock};
use casedesk_link::{round, HubConnection};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../../casedesk-core/tests/common/mod.rs"]
mod common;

const PASSWORD: &str = "bench password";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn open(dir: &Path) -> Engine {
    Engine::open(dir, Arc::new(SystemClock), OpenOptions::default()).unwrap()
}

/// Where a hub's workspace lives: an SQLite file in `dir`, or a PostgreSQL database
/// made for it on the server BENCH_DATABASE names (attachments in `dir`), dropped after.
struct HubStore {
    dir: tempfile::TempDir,
    database: Option<common::TestDatabase>,
}

impl HubStore {
    fn new() -> HubStore {
        let server = std::env::var("BENCH_DATABASE").ok().filter(|s| !s.is_empty());
        HubStore { dir: tempfile::tempdir().unwrap(), database: server.map(|s| common::TestDatabase::create(&s)) }
    }

    fn open(&self) -> Engine {
        common::reopen(self.dir.path(), &self.database, Arc::new(SystemClock))
    }
}

fn new_case(n: usize) -> Command {
    Command::CreateCase {
        case_type: "technical".into(),
        intent: None,
        customer_id: None,
        subject: format!("Internet drops every evening, #{n}"),
        description: String::new(),
        fields: serde_json::from_value(json!({ "device": "Router" })).unwrap(),
        priority: None,
        interaction_id: None,
        contact: None,
        external_id: None,
    }
}

/// A demo workspace with `agents` more agents (bench-agent-N) and `cases` more cases.
fn workspace(store: &HubStore, agents: usize, cases: usize) {
    let engine = store.open();
    demo::seed(&engine).unwrap();
    let system = Actor::system();
    for (user, ..) in demo::USERS {
        casedesk_server::auth::set_password(&engine, &system, user, PASSWORD).unwrap();
    }
    for i in 0..agents {
        let id = format!("bench-agent-{i}");
        let user = Command::CreateUser {
            id: id.clone(),
            name: format!("Bench Agent {i}"),
            roles: vec![Role::Agent],
            teams: vec!["Employees_group_A".into()],
        };
        engine.execute(&system, user).unwrap();
        casedesk_server::auth::set_password(&engine, &system, &id, PASSWORD).unwrap();
    }
    let alex = Actor::new("alex", &[Role::Agent]);
    for n in 0..cases {
        engine.execute(&alex, new_case(n)).unwrap();
    }
}

struct Hub {
    url: String,
    process: Child,
}

impl Hub {
    fn start(store: &HubStore) -> Hub {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = format!("127.0.0.1:{port}");
        let database = store.database.iter().flat_map(|db| ["--database".to_string(), db.url()]);
        let process = std::process::Command::new(env!("CARGO_BIN_EXE_casedesk-server"))
            .args(["--data-dir", &store.dir.path().to_string_lossy(), "--listen", &listen])
            .args(database)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://{listen}");
        let probe = format!("{url}/api/openapi.json");
        while !reqwest::blocking::get(&probe).map(|r| r.status().is_success()).unwrap_or(false) {
            std::thread::sleep(Duration::from_millis(50));
        }
        Hub { url, process }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn sign_in(http: &reqwest::Client, url: &str, user: &str) -> String {
    let signed: Value = http
        .post(format!("{url}/api/login"))
        .json(&json!({ "user": user, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    signed["token"].as_str().expect("signed in").to_string()
}

/// One client, signed in as `user`: pushes `pushes` notes, one per request. Its HTTP
/// client is made before the clock starts (making one loads the TLS roots, some 80 ms of
/// CPU that would otherwise stall the other clients' requests).
async fn client(
    http: reqwest::Client,
    url: String,
    user: String,
    token: String,
    case_id: uuid::Uuid,
    pushes: usize,
) -> (Vec<Duration>, usize) {
    let (mut latencies, mut slowed) = (Vec::with_capacity(pushes), 0);
    let client_id = format!("bench-{user}");
    for seq in 1..=pushes {
        let push = PushedCommand {
            client_id: client_id.clone(),
            client_seq: seq as i64,
            command_id: uuid::Uuid::new_v4(),
            seen_cursor: 0,
            hlc: HlcTime { millis: chrono::Utc::now().timestamp_millis(), counter: 0 },
            command: Command::AddNote { case_id, body: format!("note {seq} from {user}") },
            reference: None,
        };
        let body = json!({ "commands": [push] });
        loop {
            let started = Instant::now();
            let response =
                http.post(format!("{url}/api/sync/push")).bearer_auth(&token).json(&body).send().await.unwrap();
            let status = response.status();
            let outcomes: Value = response.json().await.unwrap();
            if status == 429 {
                slowed += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            assert!(status.is_success(), "push refused: {outcomes}");
            assert!(outcomes[0]["conflict"].is_null(), "a note always applies: {outcomes}");
            latencies.push(started.elapsed());
            break;
        }
    }
    (latencies, slowed)
}

fn concurrent_pushes(runtime: &tokio::runtime::Runtime, clients: usize, pushes: usize) {
    let store = HubStore::new();
    workspace(&store, clients, 0);
    let case_id = store.open().case_summaries(1, 0).unwrap()[0].id;
    let hub = Hub::start(&store);
    let users: Vec<String> = (0..clients).map(|i| format!("bench-agent-{i}")).collect();
    let tokens: Vec<String> = runtime.block_on(async {
        let http = reqwest::Client::new();
        let mut tokens = vec![];
        for user in &users {
            tokens.push(sign_in(&http, &hub.url, user).await);
        }
        tokens
    });
    let https: Vec<reqwest::Client> = users.iter().map(|_| reqwest::Client::new()).collect();
    let started = Instant::now();
    let results = runtime.block_on(async {
        let tasks: Vec<_> = users
            .into_iter()
            .zip(tokens)
            .zip(https)
            .map(|((user, token), http)| tokio::spawn(client(http, hub.url.clone(), user, token, case_id, pushes)))
            .collect();
        let mut out = vec![];
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let took = started.elapsed();
    let slowed: usize = results.iter().map(|r| r.1).sum();
    // A client's first push also opens its connection.
    let mut first: Vec<Duration> = results.iter().map(|r| r.0[0]).collect();
    first.sort();
    let mut latencies: Vec<Duration> = results.into_iter().flat_map(|r| r.0).collect();
    latencies.sort();
    let applied = latencies.len();
    println!("1. {clients} clients, {pushes} pushes each, one command per request");
    println!(
        "   applied: {applied} in {:.2} s = {:.0} pushes/s",
        took.as_secs_f64(),
        applied as f64 / took.as_secs_f64()
    );
    println!(
        "   latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; told to slow down {slowed} times",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "   a client's first push (connecting): p50 {:.1} ms, max {:.1} ms",
        percentile(&first, 0.5).as_secs_f64() * 1e3,
        first.last().unwrap().as_secs_f64() * 1e3
    );
}

fn waiting(engine: &Engine) -> i64 {
    engine.read(|db| casedesk_core::store::sync::waiting(db.connection_ref())).unwrap()
}

fn reconnect(runtime: &tokio::runtime::Runtime, pending: usize) {
    let store = HubStore::new();
    workspace(&store, 0, 0);
    let hub = Hub::start(&store);
    let desk_dir = tempfile::tempdir().unwrap();
    let desk = open(desk_dir.path());
    desk.join_hub("bench-desk").unwrap();
    let link = HubConnection::new(&hub.url, "alex", PASSWORD);
    round(&desk, &link, runtime.handle().clone()).unwrap();
    let alex = Actor::new("alex", &[Role::Agent]);
    let cases: Vec<_> = desk.case_summaries(1000, 0).unwrap().into_iter().map(|c| c.id).collect();
    let made = Instant::now();
    for n in 0..pending {
        let command = match n % 40 {
            0 => new_case(n),
            _ => Command::AddNote { case_id: cases[n % cases.len()], body: format!("offline note {n}") },
        };
        desk.submit(&alex, command).unwrap();
    }
    let made = made.elapsed();
    let started = Instant::now();
    let mut rounds = 0;
    while waiting(&desk) > 0 {
        round(&desk, &link, runtime.handle().clone()).unwrap();
        rounds += 1;
    }
    let took = started.elapsed();
    println!("2. a desk reconnects with {pending} commands made offline (made in {:.2} s)", made.as_secs_f64());
    println!(
        "   converged in {:.2} s ({rounds} round(s)) = {:.0} commands/s",
        took.as_secs_f64(),
        pending as f64 / took.as_secs_f64()
    );
}

/// Waits for `child` and returns whether it succeeded and its peak resident memory in MiB.
fn wait_with_peak(child: Child) -> (bool, f64) {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status = 0;
    // SAFETY: wait4 writes only the status and the struct it is given; the child is ours
    // and not waited for elsewhere.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "waited for the desk");
    (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, usage.ru_maxrss as f64 / 1024.0)
}

fn first_sync(cases: usize) {
    let store = HubStore::new();
    let seeded = Instant::now();
    workspace(&store, 0, cases);
    let seeded = seeded.elapsed();
    let hub = Hub::start(&store);
    let rows: i64 = store
        .open()
        .read(|db| Ok(db.connection_ref().query_row("SELECT count(*) FROM row_changes", [], |r| r.get(0))?))
        .unwrap();
    let desk_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let desk = std::process::Command::new(env!("CARGO_BIN_EXE_casedesk-replica"))
        .args(["--hub", &hub.url, "--user", "alex", "--data-dir", &desk_dir.path().to_string_lossy()])
        .env("CASEDESK_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (ok, peak) = wait_with_peak(desk);
    let took = started.elapsed();
    assert!(ok, "the desk's first sync failed");
    let size: u64 = std::fs::read_dir(desk_dir.path()).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    println!(
        "3. first sync of a new desk from a hub with {cases} more cases ({rows} rows; hub filled in {:.0} s)",
        seeded.as_secs_f64()
    );
    println!(
        "   {:.1} s = {:.0} rows/s; desk process peak memory {:.0} MiB; desk files {:.0} MiB",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64(),
        peak,
        size as f64 / (1024.0 * 1024.0)
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter argument picks parts by number.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let part = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if part("1") {
        concurrent_pushes(&runtime, setting("BENCH_CLIENTS", 100), setting("BENCH_PUSHES", 50));
    }
    if part("2") {
        reconnect(&runtime, setting("BENCH_PENDING", 10_000));
    }
    if part("3") {
        first_sync(setting("BENCH_CASES", 100_000));
    }
}
