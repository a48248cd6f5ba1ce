//! Real processes on loopback: a hub (`casedesk-server`) and two desks without windows
//! (`casedesk-replica`), each making commands and syncing over HTTP. The hub is killed
//! with SIGKILL twice and one desk once, mid-sync, and started again from their files.
//! Afterwards both desks hold the hub's rows, every command was recorded once and applied
//! or became a conflict, and nothing happened twice. And the hub process sends what its
//! notification rules wrote.

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

struct Hub {
    dir: tempfile::TempDir,
    listen: String,
    process: Option<Child>,
}

impl Hub {
    fn new() -> Hub {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Hub { dir: tempfile::tempdir().unwrap(), listen: format!("127.0.0.1:{port}"), process: None }
    }

    fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_casedesk-server"))
            .args(["--data-dir", &self.dir.path().to_string_lossy(), "--listen", &self.listen, "--demo"])
            .env("CASEDESK_DEMO_PASSWORD", PASSWORD)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.process = Some(child);
        let url = format!("{}/api/openapi.json", self.url());
        wait_for("the hub to serve", || reqwest::blocking::get(&url).map(|r| r.status().is_success()).unwrap_or(false));
    }

    /// SIGKILL: no shutdown, no flush beyond what SQLite has committed.
    fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn number(&self, sql: &str) -> i64 {
        number(self.dir.path(), sql)
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

    fn start(&mut self, hub: &Hub, seed: u64) {
        let child = Command::new(env!("CARGO_BIN_EXE_casedesk-replica"))
            .args(["--hub", &hub.url(), "--user", self.user, "--data-dir", &self.dir.path().to_string_lossy()])
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
    let mut hub = Hub::new();
    hub.start();
    let notes_before = hub.number("SELECT count(*) FROM notes");
    let (alex, bea) = (Desk::new("alex"), Desk::new("bea"));
    let mut desks = [alex, bea];
    desks[0].start(&hub, 1);
    desks[1].start(&hub, 2);

    // Kills land while the desks push and pull: the hub four times, Alex twice, Bea once.
    let pushed = |hub: &Hub| hub.number("SELECT count(*) FROM pushed_commands");
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
        desk.start(&hub, seed);
    }
    for after in [MADE, 3 * MADE / 2, 2 * MADE - 20] {
        restart_hub(&mut hub, after);
    }
    let [mut alex, mut bea] = desks;
    alex.finish();
    bea.finish();

    // The hub keeps making changes of its own (each sign-in is recorded, timers fall
    // due), so a last few rounds in this process, with the hub stopped only once both
    // desks hold its latest change.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let desks = [alex.open(), bea.open()];
    let links = [HubConnection::new(&hub.url(), "alex", PASSWORD), HubConnection::new(&hub.url(), "bea", PASSWORD)];
    let cursor = |d: &Engine| d.read(|db| casedesk_core::store::sync::state_number(db.connection_ref(), "cursor"));
    let mut held = false;
    for _attempt in 0..5 {
        for _ in 0..2 {
            for (desk, link) in desks.iter().zip(&links) {
                round(desk, link, runtime.handle().clone()).unwrap();
            }
        }
        hub.kill();
        let head = hub.number("SELECT max(seq) FROM row_changes");
        if desks.iter().all(|d| cursor(d).unwrap() == head) {
            held = true;
            break;
        }
        hub.start();
    }
    assert!(held, "the desks caught up with the hub");
    let hub_engine = Engine::open(hub.dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
    let desks: Vec<&Engine> = desks.iter().collect();
    common::assert_converged(&hub_engine, &desks, 2 * MADE, notes_before, "loopback");
    let conflicts = common::count(&hub_engine, "SELECT count(*) FROM conflicts");
    let taken = common::count(
        &hub_engine,
        "SELECT count(*) FROM pushed_commands WHERE json_extract(command, '$.type') = 'assign_task'",
    );
    eprintln!("loopback: {} commands, {taken} takes, {conflicts} conflicts", 2 * MADE);
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
    let mut hub = Hub::new();
    {
        let engine = Engine::open(hub.dir.path(), Arc::new(SystemClock), OpenOptions::default()).unwrap();
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
