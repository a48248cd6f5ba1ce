//! Real processes on loopback: hubs (`casedesk-server`) and desks without windows
//! (`casedesk-replica`), each making commands and syncing over HTTP, killed with SIGKILL
//! mid-sync and started again from their files. Afterwards every desk holds the hub's
//! rows, every command was recorded once and applied or became a conflict, and nothing
//! happened twice: with one hub, and with three hub processes over one workspace that the
//! desks sync with in turn. And the hub process sends what its notification rules wrote.
//! The hubs' workspace is an SQLite file, or a PostgreSQL database of its own when the
//! suite runs on one (`CASEDESK_TEST_PG_URL`).

#[path = "../../casedesk-core/tests/common/mod.rs"]
mod common;

use casedesk_core::{Engine, OpenOptions, SystemClock};
use casedesk_link::{round, HubConnection};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "loopback password";
/// Commands each desk makes.
const MADE: i64 = 120;

/// A number read from a desk's SQLite file without opening an engine over it.
fn number(dir: &Path, sql: &str) -> i64 {
    let file = dir.join(casedesk_core::engine::DB_FILE);
    let Ok(conn) = rusqlite::Connection::open_with_flags(&file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    conn.busy_timeout(Duration::from_secs(5)).ok();
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0)).ok().flatten().unwrap_or(0)
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(240);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where the hubs keep their workspace: an SQLite file in `dir`, or a PostgreSQL
/// database (`dir` then holds only attachments). Hub processes over one workspace share both.
struct Workspace {
    dir: tempfile::TempDir,
    database: Option<common::TestDatabase>,
}

impl Workspace {
    fn new() -> Arc<Workspace> {
        let database = common::test_postgres().map(|server| common::TestDatabase::create(&server));
        Arc::new(Workspace { dir: tempfile::tempdir().unwrap(), database })
    }

    fn number(&self, sql: &str) -> i64 {
        let Some(database) = &self.database else { return number(self.dir.path(), sql) };
        let Ok(conn) = casedesk_core::store::sql::Conn::postgres(&database.url()) else { return 0 };
        conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0)).ok().flatten().unwrap_or(0)
    }

    fn open(&self) -> Engine {
        common::reopen(self.dir.path(), &self.database, Arc::new(SystemClock))
    }
}

struct Hub {
    workspace: Arc<Workspace>,
    listen: String,
    process: Option<Child>,
}

impl Hub {
    fn new(workspace: &Arc<Workspace>) -> Hub {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Hub { workspace: workspace.clone(), listen: format!("127.0.0.1:{port}"), process: None }
    }

    fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    fn start(&mut self) {
        self.spawn();
        self.wait_until_serving();
    }

    fn spawn(&mut self) {
        let database = self.workspace.database.iter().flat_map(|db| ["--database".to_string(), db.url()]);
        let child = Command::new(env!("CARGO_BIN_EXE_casedesk-server"))
            .args(["--data-dir", &self.workspace.dir.path().to_string_lossy(), "--listen", &self.listen, "--demo"])
            .args(database)
            .env("CASEDESK_DEMO_PASSWORD", PASSWORD)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.process = Some(child);
    }

    fn wait_until_serving(&mut self) {
        let url = format!("{}/api/openapi.json", self.url());
        let child = self.process.as_mut().expect("the hub was spawned");
        wait_for("the hub to serve", || {
            assert!(child.try_wait().unwrap().is_none(), "the hub exited before it served");
            reqwest::blocking::get(&url).map(|r| r.status().is_success()).unwrap_or(false)
        });
    }

    /// SIGKILL: no shutdown, no flush beyond what the database has committed.
    fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Desk {
    user: &'static str,
    dir: tempfile::TempDir,
    process: Option<Child>,
}

impl Desk {
    fn new(user: &'static str) -> Desk {
        Desk { user, dir: tempfile::tempdir().unwrap(), process: None }
    }

    /// Starts the desk syncing with `hubs` (one URL, or several separated by commas).
    fn start(&mut self, hubs: &str, seed: u64) {
        let child = Command::new(env!("CARGO_BIN_EXE_casedesk-replica"))
            .args(["--hub", hubs, "--user", self.user, "--data-dir", &self.dir.path().to_string_lossy()])
            .args(["--make", &MADE.to_string(), "--seed", &seed.to_string()])
            .env("CASEDESK_PASSWORD", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(self.log()).unwrap())
            .spawn()
            .unwrap();
        self.process = Some(child);
    }

    /// What the desk said went wrong along the way (the hub being down, mostly).
    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("replica.log")
    }

    fn made(&self) -> i64 {
        number(self.dir.path(), "SELECT count(*) FROM pending_commands")
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Waits for the desk to say it has made everything and nothing waits.
    fn finish(&mut self) {
        let mut child = self.process.take().unwrap();
        let mut said = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut said).unwrap();
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        assert!(child.wait().unwrap().success(), "{} exited badly:\n{log}", self.user);
        assert_eq!(said.trim(), "converged", "{}:\n{log}", self.user);
    }

    fn open(&self) -> Engine {
        let engine = Engine::open(self.dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
        engine.open_mirror().unwrap();
        engine
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn a_hub_and_two_desks_killed_mid_sync_converge() {
    let workspace = Workspace::new();
    let mut hub = Hub::new(&workspace);
    hub.start();
    let notes_before = workspace.number("SELECT count(*) FROM notes");
    let (alex, bea) = (Desk::new("alex"), Desk::new("bea"));
    let mut desks = [alex, bea];
    desks[0].start(&hub.url(), 1);
    desks[1].start(&hub.url(), 2);

    // Kills land while the desks push and pull: the hub four times, Alex twice, Bea once.
    let pushed = |hub: &Hub| hub.workspace.number("SELECT count(*) FROM pushed_commands");
    let restart_hub = |hub: &mut Hub, after: i64| {
        wait_for("pushes", || pushed(hub) >= after);
        hub.kill();
        std::thread::sleep(Duration::from_millis(300));
        hub.start();
    };
    restart_hub(&mut hub, 20);
    for (i, at, seed) in [(0, MADE / 3, 3), (1, MADE / 2, 4), (0, 2 * MADE / 3, 5)] {
        let desk = &mut desks[i];
        wait_for("a desk to be part way", || desk.made() >= at);
        desk.kill();
        desk.start(&hub.url(), seed);
    }
    for after in [MADE, 3 * MADE / 2, 2 * MADE - 20] {
        restart_hub(&mut hub, after);
    }
    settle(&mut [hub], desks.into(), &workspace, notes_before, "one hub");
}

/// Three hub processes over one workspace, each desk syncing with them in turn (as behind
/// a load balancer), Alex and Dana racing for the same team's work: each hub is killed
/// mid-sync and started again, twice for the first, while the others serve on.
#[test]
fn three_hub_processes_over_one_workspace_killed_in_turn_converge() {
    let workspace = Workspace::new();
    let mut hubs: Vec<Hub> = (0..3).map(|_| Hub::new(&workspace)).collect();
    // All at once, each asked for the demo: one makes it, the others wait and find it made.
    for hub in &mut hubs {
        hub.spawn();
    }
    for hub in &mut hubs {
        hub.wait_until_serving();
    }
    let users = workspace.number("SELECT count(*) FROM users");
    assert_eq!(users, casedesk_core::demo::USERS.len() as i64, "the demo was made once");
    let notes_before = workspace.number("SELECT count(*) FROM notes");
    let urls = hubs.iter().map(Hub::url).collect::<Vec<_>>().join(",");
    let mut desks = vec![Desk::new("alex"), Desk::new("dana"), Desk::new("bea")];
    for (i, desk) in desks.iter_mut().enumerate() {
        desk.start(&urls, 11 + i as u64);
    }
    let made = MADE * desks.len() as i64;
    for (i, after) in [(0, made / 8), (1, made / 4), (2, made / 2), (0, 3 * made / 4)] {
        wait_for("pushes", || workspace.number("SELECT count(*) FROM pushed_commands") >= after);
        hubs[i].kill();
        std::thread::sleep(Duration::from_millis(300));
        hubs[i].start();
    }
    settle(&mut hubs, desks, &workspace, notes_before, "three hubs");
}

/// Waits for every desk to say it converged, then syncs each with every hub in this
/// process until, with all hubs stopped, every desk holds the latest change (a hub makes
/// changes of its own: each sign-in is recorded, timers fall due). Then checks that the
/// desks hold the hub's rows and nothing was lost or done twice.
fn settle(hubs: &mut [Hub], desks: Vec<Desk>, workspace: &Workspace, notes_before: i64, label: &str) {
    let made = MADE * desks.len() as i64;
    let users: Vec<&str> = desks.iter().map(|d| d.user).collect();
    let desks: Vec<Engine> = desks
        .into_iter()
        .map(|mut d| {
            d.finish();
            d.open()
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let links: Vec<Vec<_>> =
        users.iter().map(|u| hubs.iter().map(|h| HubConnection::new(&h.url(), u, PASSWORD)).collect()).collect();
    let cursor = |d: &Engine| d.read(|db| casedesk_core::store::sync::state_number(db.connection_ref(), "cursor"));
    let mut held = false;
    for _attempt in 0..5 {
        for _ in 0..2 {
            for (desk, links) in desks.iter().zip(&links) {
                for link in links {
                    round(desk, link, runtime.handle().clone()).unwrap();
                }
            }
        }
        hubs.iter_mut().for_each(Hub::kill);
        let head = workspace.number("SELECT max(seq) FROM row_changes");
        if desks.iter().all(|d| cursor(d).unwrap() == head) {
            held = true;
            break;
        }
        hubs.iter_mut().for_each(Hub::start);
    }
    assert!(held, "{label}: the desks caught up with the hub");
    let hub = workspace.open();
    let desks: Vec<&Engine> = desks.iter().collect();
    common::assert_converged(&hub, &desks, made, notes_before, label);
    for user in users {
        let agent = hub.read(|db| db.agent(user)).unwrap().unwrap();
        assert!(agent.total_load() <= agent.profile.capacity.total, "{label}: {user} over capacity");
    }
    // Desks only take tasks no one holds, and nothing here hands work back: a task
    // assigned twice is a take that two hubs both let through.
    let assigned_twice = "SELECT count(*) FROM (SELECT task_id FROM events WHERE kind = 'task_assigned'
        GROUP BY task_id HAVING count(*) > 1) AS twice
        WHERE task_id NOT IN (SELECT task_id FROM events WHERE kind = 'task_requeued')";
    assert_eq!(common::count(&hub, assigned_twice), 0, "{label}: no task assigned twice");
    let conflicts = common::count(&hub, "SELECT count(*) FROM conflicts");
    let taken =
        common::count(&hub, "SELECT count(*) FROM pushed_commands WHERE command LIKE '{\"type\":\"assign_task\",%'");
    eprintln!("loopback, {label}: {made} commands, {taken} takes, {conflicts} conflicts");
}

/// A webhook receiver on loopback: answers 200 and hands over each body it was sent.
fn receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (received, bodies) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
            let _ = received.send(String::from_utf8_lossy(&body).into_owned());
        }
    });
    (url, bodies)
}

#[test]
fn the_hub_sends_what_its_notification_rules_wrote() {
    use casedesk_core::notify::{Channel, NotificationRule, NotifyEvent};
    let (url, bodies) = receiver();
    let workspace = Workspace::new();
    let mut hub = Hub::new(&workspace);
    {
        let engine = workspace.open();
        casedesk_core::demo::seed(&engine).unwrap();
        casedesk_server::auth::set_password(&engine, &casedesk_core::Actor::system(), "alex", PASSWORD).unwrap();
        let rule = NotificationRule {
            id: "crm".into(),
            case_type: None,
            event: NotifyEvent::Created,
            channel: Channel::Webhook,
            recipients: vec![],
            webhook_url: Some(url),
            subject: String::new(),
            body: "opened by {{ event.actor }}".into(),
            enabled: true,
        };
        let ada = casedesk_core::Actor::new("ada", &[casedesk_core::Role::Admin]);
        engine.execute(&ada, casedesk_core::Command::DefineNotificationRule { rule }).unwrap();
    }
    hub.start();
    let http = reqwest::blocking::Client::new();
    let signed: serde_json::Value = http
        .post(format!("{}/api/login", hub.url()))
        .json(&serde_json::json!({ "user": "alex", "password": PASSWORD }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let case = serde_json::json!({ "case_type": "technical", "subject": "Sent on by the hub", "fields": { "device": "Modem" } });
    let made = http
        .post(format!("{}/api/cases", hub.url()))
        .bearer_auth(signed["token"].as_str().unwrap())
        .json(&case)
        .send()
        .unwrap();
    assert!(made.status().is_success(), "{}", made.text().unwrap());
    let body = bodies.recv_timeout(Duration::from_secs(30)).expect("the hub posted the webhook");
    let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (sent["event"].as_str(), sent["case"]["subject"].as_str()),
        (Some("created"), Some("Sent on by the hub"))
    );
    assert_eq!(sent["message"], "opened by alex");
    assert!(bodies.recv_timeout(Duration::from_secs(6)).is_err(), "sent once");
}
