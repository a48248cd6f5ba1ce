//! The hub's REST API over real HTTP on loopback: signing in, reading and writing
//! through the engine, every endpoint × role as the ACCESS table says, bad input, rate
//! limits, and the served OpenAPI document. The hub's workspace is an SQLite file, or a
//! PostgreSQL database of its own when the suite runs on one (`CASEDESK_TEST_PG_URL`).

#[path = "../../casedesk-core/tests/common/mod.rs"]
mod common;
mod served;

use casedesk_core::model::Role;
use casedesk_core::{demo, Actor, Command, Engine, SystemClock};
use casedesk_server::{auth, router, Hub, ACCESS};
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";

struct Served {
    url: String,
    engine: Arc<Engine>,
    http: Client,
    /// The workspace: its folder, and its PostgreSQL database when the suite runs on one.
    dir: tempfile::TempDir,
    database: Option<common::TestDatabase>,
}

fn serve() -> Served {
    serve_with(Arc::new(SystemClock))
}

fn serve_with(clock: Arc<dyn casedesk_core::Clock>) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (engine, database) = common::open_hub(dir.path(), clock);
    let engine = Arc::new(engine);
    demo::seed(&engine).unwrap();
    for (user, ..) in demo::USERS {
        auth::set_password(&engine, &Actor::system(), user, PASSWORD).unwrap();
    }
    let url = listen(engine.clone());
    Served { url, engine, http: Client::new(), dir, database }
}

/// Serves a hub over `engine` on a port of its own; returns its URL.
fn listen(engine: Arc<Engine>) -> String {
    served::listen(|_| router(Hub::new(engine)))
}

impl Served {
    fn sign_in(&self, user: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/login", self.url))
            .json(&json!({ "user": user, "password": PASSWORD }))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{user} signs in");
        r.json::<Value>().unwrap()["token"].as_str().unwrap().to_string()
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let url = format!("{}{path}", self.url);
        let mut r = match method {
            "get" => self.http.get(url),
            "patch" => self.http.patch(url),
            "put" => self.http.put(url),
            "delete" => self.http.delete(url),
            _ => self.http.post(url),
        };
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        match body {
            // Text goes as it is: a CSV import.
            Some(Value::String(text)) => r = r.header("content-type", "text/csv").body(text),
            Some(b) => r = r.json(&b),
            None => {}
        }
        r.send().unwrap()
    }

    fn events(&self) -> i64 {
        self.engine
            .read(|db| Ok(db.connection_ref().query_row("SELECT count(*) FROM events", [], |r| r.get(0))?))
            .unwrap()
    }

    /// A technical case opened by `user` with its first task assigned to them.
    fn case_held_by(&self, user: &str, roles: &[Role]) -> (String, String) {
        let actor = Actor::new(user, roles);
        let r = self
            .engine
            .execute(
                &actor,
                Command::CreateCase {
                    case_type: "technical".into(),
                    intent: None,
                    customer_id: None,
                    subject: format!("held by {user}"),
                    description: String::new(),
                    fields: serde_json::from_value(json!({ "device": "Router" })).unwrap(),
                    priority: None,
                    interaction_id: None,
                    contact: None,
                    external_id: None,
                },
            )
            .unwrap();
        let case: uuid::Uuid = r.created_id.unwrap().parse().unwrap();
        let task = self.engine.read(|db| db.tasks_of_case(case)).unwrap().remove(0);
        let sam = Actor::new("sam", &[Role::Supervisor, Role::Agent]);
        if task.assignee.as_deref() != Some(user) {
            self.engine.execute(&sam, Command::AssignTask { task_id: task.id, assignee: user.into() }).unwrap();
        }
        (r.reference.unwrap(), task.id.to_string())
    }
}

#[test]
fn sign_in_then_read_and_write_through_the_engine() {
    let s = serve();
    let wrong = s.call("post", "/api/login", None, Some(json!({ "user": "alex", "password": "nope-nope-nope" })));
    let unknown = s.call("post", "/api/login", None, Some(json!({ "user": "zed", "password": PASSWORD })));
    assert_eq!(
        (wrong.status(), unknown.status()),
        (reqwest::StatusCode::UNAUTHORIZED, reqwest::StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong.json::<Value>().unwrap(), unknown.json::<Value>().unwrap(), "no hint which was wrong");

    let alex = s.sign_in("alex");
    let me: Value = s.call("get", "/api/me", Some(&alex), None).json().unwrap();
    assert_eq!(me["id"], "alex");

    let created = s.call(
        "post",
        "/api/cases",
        Some(&alex),
        Some(
            json!({ "case_type": "finance", "subject": "Charged twice", "fields": { "invoice_number": "INV-100200" } }),
        ),
    );
    assert_eq!(created.status(), 201);
    let reference = created.json::<Value>().unwrap()["reference"].as_str().unwrap().to_string();
    let note =
        s.call("post", &format!("/api/cases/{reference}/notes"), Some(&alex), Some(json!({ "body": "Called back" })));
    assert_eq!(note.status(), 201);
    let case: Value = s.call("get", &format!("/api/cases/{reference}"), Some(&alex), None).json().unwrap();
    assert_eq!(case["case"]["subject"], "Charged twice");
    assert_eq!(case["notes"][0]["body"], "Called back");

    // Visibility: alex owns it; chris (another team, no task on it) is told it does not exist.
    let chris = s.sign_in("chris");
    assert_eq!(s.call("get", &format!("/api/cases/{reference}"), Some(&chris), None).status(), 404);
    let all: Vec<Value> = s.call("get", "/api/cases?limit=500", Some(&s.sign_in("ada")), None).json().unwrap();
    let seen_by_chris: Vec<Value> = s.call("get", "/api/cases?limit=500", Some(&chris), None).json().unwrap();
    assert!(seen_by_chris.len() < all.len() && all.iter().any(|c| c["reference"] == reference.as_str()));
    assert!(seen_by_chris.iter().all(|c| c["reference"] != reference.as_str()));

    // Completing a held task with one of its outcomes.
    let (_, task) = s.case_held_by("alex", &[Role::Agent]);
    let done = s.call("post", &format!("/api/tasks/{task}/complete"), Some(&alex), Some(json!({ "outcome": "fixed" })));
    assert_eq!(done.status(), 200);
    assert!(done.json::<Value>().unwrap()["events"].as_array().unwrap().iter().any(|e| e == "case_closed"));
}

#[test]
fn every_endpoint_and_role_is_allowed_or_refused_as_the_table_says() {
    let s = serve();
    let doc: Value = s.call("get", "/api/openapi.json", None, None).json().unwrap();
    let served: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    let table: BTreeSet<(String, String)> = ACCESS.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    for endpoint in &served {
        assert!(table.contains(endpoint), "{endpoint:?} is served but has no row in ACCESS");
    }
    for endpoint in &table {
        assert!(
            served.contains(endpoint) || endpoint.1 == "/api/openapi.json",
            "{endpoint:?} is in ACCESS but not documented"
        );
    }

    let roles: [(&str, Option<&str>, &[Role]); 4] = [
        ("anyone", None, &[]),
        ("agent", Some("alex"), &[Role::Agent]),
        ("supervisor", Some("sam"), &[Role::Supervisor, Role::Agent]),
        ("admin", Some("ada"), &[Role::Admin]),
    ];
    for (role, user, user_roles) in roles {
        let token = user.map(|u| s.sign_in(u));
        let (reference, task) = match user {
            Some(u) if role != "admin" => s.case_held_by(u, user_roles),
            _ => s.case_held_by("bea", &[Role::Agent]),
        };
        for (method, path, allowed) in ACCESS {
            let mut concrete = path.replace("{reference}", &reference).replace("{id}", &task);
            if *path == "/api/reports" {
                concrete.push_str("?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z");
            }
            if *path == "/api/sync/changes" {
                concrete.push_str("?cursor=0&limit=5");
            }
            if *path == "/api/customers" && *method == "get" {
                concrete.push_str("?q=maria");
            }
            let body = match (*method, *path) {
                ("post", "/api/login") => Some(json!({ "user": "bea", "password": PASSWORD })),
                ("post", "/api/cases") => {
                    Some(json!({ "case_type": "technical", "subject": "x", "fields": { "device": "Modem" } }))
                }
                ("post", "/api/cases/{reference}/notes") => Some(json!({ "body": "a note" })),
                ("post", "/api/cases/{reference}/interactions") => {
                    Some(json!({ "channel": "voice", "summary": "called" }))
                }
                ("post", "/api/tasks/{id}/complete") => Some(json!({ "outcome": "no-such-outcome" })),
                ("patch", "/api/cases/{reference}") => Some(json!({ "fields": { "serial_number": "ABC12345" } })),
                ("post", "/api/cases/{reference}/status") => Some(json!({ "status": "no-such-status" })),
                ("post", "/api/tokens") => Some(json!({ "user_id": "bea", "label": "CRM sync" })),
                ("post", "/api/reports/cases") => Some(json!({
                    "range": { "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" },
                    "figure": { "figure": "closed_within_sla" }
                })),
                ("post", "/api/cases/{reference}/rule-trial") => Some(json!({
                    "rule": "id = \"x\"\non = \"case_created\"\nactions = [{ raise_priority = 1 }]\n"
                })),
                ("post", "/api/sync/push") => Some(json!({ "commands": [] })),
                ("post", "/api/sync/references") => Some(json!({ "client_id": "desk-t", "prefix": "TEC", "size": 10 })),
                ("post", "/api/customers") => Some(json!({ "name": "Zed Zero" })),
                ("patch", "/api/customers/{id}") => Some(json!({ "name": "Zed One" })),
                ("post", "/api/customers/import") => Some(json!("name\nZed Two\n")),
                ("put", "/api/notification-channels") => {
                    Some(json!({ "webhook_secret": "sixteen characters at least" }))
                }
                ("put", "/api/webhooks/{id}") => Some(json!({ "event": "created", "url": "http://127.0.0.1:9/hook" })),
                _ => None,
            };
            let status = s.call(method, &concrete, token.as_deref(), body).status().as_u16();
            let may = allowed.contains(&"anyone")
                || (token.is_some() && allowed.contains(&"signed_in"))
                || allowed.contains(&role);
            if may {
                assert!(![401, 403].contains(&status), "{role} {method} {path}: {status}, should be allowed");
            } else if token.is_none() {
                assert_eq!(status, 401, "{role} {method} {path}");
            } else {
                assert_eq!(status, 403, "{role} {method} {path}");
            }
        }
    }
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let s = serve();
    let alex = s.sign_in("alex");
    let (reference, task) = s.case_held_by("alex", &[Role::Agent]);
    let before = s.events();
    let raw = |path: &str, body: &str| {
        s.http
            .post(format!("{}{path}", s.url))
            .bearer_auth(&alex)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let cases: Vec<(Response, u16, &str)> = vec![
        (raw("/api/cases", "{\"case_type\": "), 400, "bad_request"),
        (raw("/api/cases", r#"{"case_type": "technical", "subject": 5}"#), 422, "bad_request"),
        (raw("/api/cases", r#"{"case_type": "technical", "subject": "x", "colour": "red"}"#), 422, "bad_request"),
        (raw("/api/cases", r#"{"case_type": "nope", "subject": "x"}"#), 422, "invalid_field"),
        (
            raw("/api/cases", r#"{"case_type": "technical", "subject": "x", "fields": {"device": "Toaster"}}"#),
            422,
            "invalid_field",
        ),
        (raw("/api/cases/NOPE-000001/notes", r#"{"body": "x"}"#), 404, "not_found"),
        (raw(&format!("/api/cases/{reference}/notes"), r#"{"body": "   "}"#), 422, "invalid_field"),
        (raw("/api/tasks/not-a-uuid/complete", r#"{"outcome": "fixed"}"#), 400, "bad_request"),
        (raw(&format!("/api/tasks/{}/complete", uuid::Uuid::nil()), r#"{"outcome": "fixed"}"#), 404, "not_found"),
        (raw(&format!("/api/tasks/{task}/complete"), r#"{"outcome": "teleported"}"#), 422, "invalid_field"),
        (s.call("get", "/api/cases?limit=0", Some(&alex), None), 422, "invalid_field"),
        (s.call("get", "/api/cases?limit=many", Some(&alex), None), 400, "bad_request"),
        (s.call("get", "/api/nowhere", Some(&alex), None), 404, "not_found"),
        (s.call("get", "/api/me", Some("not-a-token"), None), 401, "unauthorized"),
    ];
    // A body over the limit is refused from its Content-Length, before it is sent: the
    // client below announces 2 MiB and sends none of it.
    let oversize = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        write!(
            stream,
            "POST /api/cases HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {alex}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            2 << 20
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(oversize.starts_with("HTTP/1.1 413"), "{oversize}");
    assert!(oversize.contains("\"code\":\"too_large\""), "{oversize}");
    for (i, (response, status, code)) in cases.into_iter().enumerate() {
        assert_eq!(response.status().as_u16(), status, "case {i}");
        let body: Value = response.json().unwrap_or_else(|e| panic!("case {i}: the body is not JSON: {e}"));
        assert_eq!(body["code"], code, "case {i}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty(), "case {i}");
    }
    assert_eq!(s.events(), before, "nothing was changed");
}

#[test]
fn a_token_that_calls_too_fast_is_slowed_down() {
    let s = serve();
    let alex = s.sign_in("alex");
    let statuses: Vec<u16> = (0..80).map(|_| s.call("get", "/api/me", Some(&alex), None).status().as_u16()).collect();
    assert!(statuses.iter().take(casedesk_server::BURST as usize).all(|s| *s == 200));
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[test]
fn the_openapi_document_describes_the_engine_types() {
    let s = serve();
    let doc: Value = s.call("get", "/api/openapi.json", None, None).json().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for schema in ["CaseDetail", "CaseSummary", "Task", "ErrorPayload", "NewCase"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is described");
    }
}

#[test]
fn a_crm_searches_updates_and_moves_cases_with_an_api_token() {
    let s = serve();
    let ada = s.sign_in("ada");
    let opened = s.call("post", "/api/tokens", Some(&ada), Some(json!({ "user_id": "sam", "label": "CRM sync" })));
    assert_eq!(opened.status(), 201);
    let crm = opened.json::<Value>().unwrap()["token"].as_str().unwrap().to_string();
    let unknown = s.call("post", "/api/tokens", Some(&ada), Some(json!({ "user_id": "zed", "label": "x" })));
    assert_eq!(unknown.status(), 404);

    // The token works like a session, as the user it was opened for.
    let me: Value = s.call("get", "/api/me", Some(&crm), None).json().unwrap();
    assert_eq!(me["id"], "sam");
    let (reference, _) = s.case_held_by("sam", &[Role::Supervisor, Role::Agent]);
    let found: Vec<Value> = s.call("get", "/api/cases?q=held%20by%20sam", Some(&crm), None).json().unwrap();
    assert_eq!(found.iter().map(|c| c["reference"].clone()).collect::<Vec<_>>(), [json!(reference)]);
    let none: Vec<Value> = s.call("get", "/api/cases?q=100%25_nothing", Some(&crm), None).json().unwrap();
    assert!(none.is_empty(), "wildcards in the query are taken literally");

    let changed = s.call(
        "patch",
        &format!("/api/cases/{reference}"),
        Some(&crm),
        Some(json!({ "fields": { "serial_number": "ABC12345" } })),
    );
    assert_eq!(changed.status(), 200);
    let bad = s.call(
        "patch",
        &format!("/api/cases/{reference}"),
        Some(&crm),
        Some(json!({ "fields": { "serial_number": "x" } })),
    );
    assert_eq!(bad.status(), 422);
    assert!(bad.json::<Value>().unwrap()["message"].as_str().unwrap().starts_with("serial_number:"));
    let moved = s.call(
        "post",
        &format!("/api/cases/{reference}/status"),
        Some(&crm),
        Some(json!({ "status": "waiting_customer" })),
    );
    assert_eq!(moved.status(), 200);
    let case: Value = s.call("get", &format!("/api/cases/{reference}"), Some(&crm), None).json().unwrap();
    assert_eq!(
        (case["case"]["status"].as_str(), case["case"]["fields"]["serial_number"].as_str()),
        (Some("waiting_customer"), Some("ABC12345"))
    );
    let call = s.call(
        "post",
        &format!("/api/cases/{reference}/interactions"),
        Some(&crm),
        Some(json!({ "channel": "voice", "external_id": "CALL-7", "summary": "Customer called back" })),
    );
    assert_eq!(call.status(), 201);
    let case: Value = s.call("get", &format!("/api/cases/{reference}"), Some(&crm), None).json().unwrap();
    assert_eq!(case["interactions"][0]["external_id"], "CALL-7");
    let refused =
        s.call("post", &format!("/api/cases/{reference}/status"), Some(&crm), Some(json!({ "status": "resolved" })));
    assert_eq!(refused.status(), 409, "waiting_customer cannot go straight to resolved");
}

/// The business rules in the shipped case-type files, through the API: a case a CRM opens
/// for a German-speaking gold customer is routed to the agent who speaks German and has
/// the gold-service skill, and a shipping task nobody took has its priority raised three
/// days before it is due; the case history says which rule did what.
#[test]
fn business_rules_route_an_api_case_and_raise_a_stale_task_as_the_case_type_files_say() {
    let clock = Arc::new(casedesk_core::ManualClock::new(chrono::Utc::now()));
    let s = serve_with(clock.clone());
    for who in ["alex", "dana"] {
        let agent = Actor::new(who, &[Role::Agent]);
        let ready = Command::SetPresence { presence: casedesk_core::routing::Presence::Available, secondary: None };
        s.engine.execute(&agent, ready).unwrap();
        s.engine.execute(&agent, Command::SetOnQueue { on_queue: true }).unwrap();
    }
    // A CRM's API token (sessions expire; the clock runs days ahead below).
    let ada = s.sign_in("ada");
    let opened = s.call("post", "/api/tokens", Some(&ada), Some(json!({ "user_id": "sam", "label": "CRM" })));
    let crm = opened.json::<Value>().unwrap()["token"].as_str().unwrap().to_string();
    let body = json!({
        "case_type": "technical",
        "subject": "Router drops the line",
        "fields": { "device": "Router", "language": "de", "segment": "gold" }
    });
    let made = s.call("post", "/api/cases", Some(&crm), Some(body));
    assert_eq!(made.status(), 201);
    let reference = made.json::<Value>().unwrap()["reference"].as_str().unwrap().to_string();
    // The case's owner (sam) is waited for first; then routing looks for whoever fits.
    clock.advance(chrono::Duration::seconds(121));
    s.engine.run_due_work().unwrap();
    let case: Value = s.call("get", &format!("/api/cases/{reference}"), Some(&crm), None).json().unwrap();
    let task = &case["tasks"][0];
    assert_eq!(task["requirements"]["language"], "de");
    assert_eq!(task["requirements"]["skills"]["gold_service"], 3);
    assert_eq!(
        (task["state"].as_str(), task["offered_to"].as_str(), task["priority"].as_i64()),
        (Some("offered"), Some("dana"), Some(2))
    );
    let applied: Vec<&str> = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rule_applied")
        .map(|e| e["after"]["rule"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["technical:speak_the_customers_language", "technical:gold_service"]);

    // Classification on creation through the API: the workspace's rule raises the
    // priority of a gold customer's case.
    let gold = s
        .engine
        .execute(
            &Actor::system(),
            Command::CreateCustomer {
                name: "Greta Gold".into(),
                email: None,
                phone: None,
                external_id: None,
                extra: json!({ "segment": "gold" }).as_object().unwrap().clone(),
            },
        )
        .unwrap()
        .created_id
        .unwrap();
    let body = json!({ "case_type": "finance", "subject": "Invoice", "customer_id": gold,
        "fields": { "invoice_number": "INV-100200" } });
    let made = s.call("post", "/api/cases", Some(&crm), Some(body));
    assert_eq!(made.status(), 201);
    let made = made.json::<Value>().unwrap()["reference"].as_str().unwrap().to_string();
    let case: Value = s.call("get", &format!("/api/cases/{made}"), Some(&crm), None).json().unwrap();
    assert_eq!(case["case"]["priority"], 2);
    let first_rule = case["history"].as_array().unwrap().iter().find(|e| e["kind"] == "rule_applied").unwrap();
    assert_eq!(first_rule["after"]["rule"], "*:gold_customers_first");

    // A replacement: its shipping task has an 8-day OLA; nobody takes it.
    let body = json!({
        "case_type": "replacement",
        "subject": "New router",
        "fields": { "device": "Router", "delivery_address": "Rua Augusta 120, Lisboa" }
    });
    let made = s.call("post", "/api/cases", Some(&crm), Some(body));
    let reference = made.json::<Value>().unwrap()["reference"].as_str().unwrap().to_string();
    let priority = |s: &Served| -> i64 {
        let case: Value = s.call("get", &format!("/api/cases/{reference}"), Some(&crm), None).json().unwrap();
        case["tasks"][0]["priority"].as_i64().unwrap()
    };
    assert_eq!(priority(&s), 3);
    clock.advance(chrono::Duration::days(5) + chrono::Duration::minutes(1));
    s.engine.run_due_work().unwrap();
    assert_eq!(priority(&s), 2);
    s.engine.run_due_work().unwrap();
    let case: Value = s.call("get", &format!("/api/cases/{reference}"), Some(&crm), None).json().unwrap();
    let fired: Vec<&Value> =
        case["history"].as_array().unwrap().iter().filter(|e| e["kind"] == "rule_applied").collect();
    assert_eq!(fired.len(), 1, "once");
    assert_eq!(fired[0]["after"]["rule"], "replacement:unassigned_before_due");
    assert_eq!(fired[0]["after"]["effects"][0]["detail"], "task Ship the replacement: 3 → 2");

    // An admin tries a rule on the case before saving it; nothing changes.
    let ada = s.sign_in("ada");
    let rule = "id = \"urgent\"\non = \"timer\"\ntimer = { from = \"case_created\", after = { days = 1 } }\nactions = [{ set_priority = 1 }]\n";
    let before = s.events();
    let trial =
        s.call("post", &format!("/api/cases/{reference}/rule-trial"), Some(&ada), Some(json!({ "rule": rule })));
    assert_eq!(trial.status(), 200);
    let trial: Value = trial.json().unwrap();
    assert_eq!(trial["subjects"][0]["effects"][0]["detail"], "case: 3 → 1");
    assert_eq!(s.events(), before);
    let broken =
        s.call("post", &format!("/api/cases/{reference}/rule-trial"), Some(&ada), Some(json!({ "rule": "id = 3" })));
    assert_eq!(broken.status(), 422);
    assert!(broken.json::<Value>().unwrap()["message"].as_str().unwrap().starts_with("rule:1:"));
}

#[test]
fn a_supervisor_reads_the_reports_and_the_cases_behind_a_figure() {
    let s = serve();
    let sam = s.sign_in("sam");
    let (reference, _) = s.case_held_by("sam", &[Role::Supervisor, Role::Agent]);
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = s.call("get", &format!("/api/reports?from={from}&to={to}&case_type=technical"), Some(&sam), None);
    assert_eq!(r.status(), 200);
    let report: Value = r.json().unwrap();
    let opened: i64 = report["volume"].as_array().unwrap().iter().map(|d| d["opened"].as_i64().unwrap()).sum();
    assert!(opened >= 1, "{report}");
    let day = now.date_naive().to_string();
    let body = json!({ "range": { "from": from, "to": to, "case_type": "technical" }, "figure": { "figure": "opened_on", "day": day } });
    let cases: Vec<Value> = s.call("post", "/api/reports/cases", Some(&sam), Some(body)).json().unwrap();
    assert!(cases.iter().any(|c| c["reference"] == json!(reference)), "{cases:?}");
    // A range that runs backwards names the field and the rule.
    let bad = s.call("get", &format!("/api/reports?from={to}&to={from}"), Some(&sam), None);
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.json::<Value>().unwrap()["message"], "to: must be after from");
}

/// Attachment content through the API: whoever may see the case reads it as it was
/// added, with its type and name; anyone else is told it does not exist.
#[test]
fn an_attachment_is_read_by_whoever_may_see_its_case() {
    let s = serve();
    let (reference, _) = s.case_held_by("alex", &[Role::Agent]);
    let case = s.engine.case_by_reference(&reference).unwrap().unwrap();
    let content: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let add = Command::AddAttachment {
        case_id: case.id,
        file_name: "Zählerstand.png".into(),
        content_type: "image/png".into(),
        content: content.clone(),
    };
    let id = s.engine.execute(&Actor::new("alex", &[Role::Agent]), add).unwrap().created_id.unwrap();
    let path = format!("/api/attachments/{id}");
    let read = s.call("get", &path, Some(&s.sign_in("alex")), None);
    assert_eq!(read.status(), 200);
    let header = |name: &str| read.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "image/png");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-disposition").ends_with("filename*=UTF-8''Z%C3%A4hlerstand%2Epng"));
    assert_eq!(read.bytes().unwrap().to_vec(), content);
    // Bea works in finance: the case is not hers to see.
    let bea = s.sign_in("bea");
    let refused = s.call("get", &path, Some(&bea), None);
    assert_eq!(refused.status(), 404);
    assert!(!refused.text().unwrap().contains("Zählerstand"));
    assert_eq!(s.call("get", &format!("/api/attachments/{}", uuid::Uuid::nil()), Some(&bea), None).status(), 404);
    let bad = s.call("get", "/api/attachments/not-an-id", Some(&bea), None);
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("'not-an-id' is not an attachment id"));
    assert_eq!(s.call("get", &path, None, None).status(), 401);
}

/// Sign-in attempts are limited per user name, whatever its case, across every hub over
/// the workspace: ten a minute, counted in the database.
#[test]
fn sign_in_attempts_are_limited_per_name_across_hubs() {
    let clock = Arc::new(casedesk_core::ManualClock::new(chrono::Utc::now()));
    let s = serve_with(clock.clone());
    let second = listen(Arc::new(common::reopen(s.dir.path(), &s.database, clock.clone())));
    let attempt = |url: &str, user: &str, password: &str| {
        let body = json!({ "user": user, "password": password });
        s.http.post(format!("{url}/api/login")).json(&body).send().unwrap().status().as_u16()
    };
    let made: Vec<u16> =
        (0..10).map(|i| attempt(if i % 2 == 0 { &s.url } else { &second }, "Mallory", "not-the-password")).collect();
    assert!(made.iter().all(|s| *s == 401), "{made:?}");
    assert_eq!(attempt(&s.url, "mallory", "not-the-password"), 429, "the eleventh in the minute");
    assert_eq!(attempt(&second, "MALLORY ", "not-the-password"), 429, "on the other hub too");
    assert_eq!(attempt(&second, "alex", PASSWORD), 200, "another name is not held up");
    assert_eq!(attempt(&second, "al\u{0}ex", PASSWORD), 422, "no user name holds a NUL");
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(attempt(&s.url, "mallory", "not-the-password"), 401, "a minute later, attempts may go on");
}

/// A desk pushes an attachment it took offline: a 3 MiB file is more than other bodies
/// may be, and goes in one push as base64.
#[test]
fn a_pushed_attachment_over_a_mebibyte_is_taken() {
    let s = serve();
    let (reference, _) = s.case_held_by("alex", &[Role::Agent]);
    let case = s.engine.case_by_reference(&reference).unwrap().unwrap();
    let content: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
    let pushed = casedesk_core::engine::PushedCommand {
        client_id: "desk-photos".into(),
        client_seq: 1,
        command_id: uuid::Uuid::new_v4(),
        seen_cursor: 0,
        hlc: casedesk_core::hlc::HlcTime { millis: chrono::Utc::now().timestamp_millis(), counter: 0 },
        command: Command::AddAttachment {
            case_id: case.id,
            file_name: "meter.jpg".into(),
            content_type: "image/jpeg".into(),
            content: content.clone(),
        },
        reference: None,
    };
    let alex = s.sign_in("alex");
    let answer = s.call("post", "/api/sync/push", Some(&alex), Some(json!({ "commands": [pushed] })));
    assert_eq!(answer.status(), 200, "{}", answer.text().unwrap_or_default());
    let attachment = &s.engine.case_detail(case.id).unwrap().attachments[0];
    let read = s.call("get", &format!("/api/attachments/{}", attachment.id), Some(&alex), None);
    assert_eq!(read.bytes().unwrap().len(), content.len());
    // A body is an object: an array of the fields in order is not taken.
    let array = s.call("post", &format!("/api/cases/{reference}/notes"), Some(&alex), Some(json!(["a note"])));
    assert_eq!(array.status(), 422);
    // Other endpoints keep their limit.
    let big_note = json!({ "body": "x".repeat(2 << 20) });
    let refused = s.call("post", &format!("/api/cases/{reference}/notes"), Some(&alex), Some(big_note));
    assert_eq!(refused.status(), 413);
}

/// Each request a receiver took: its signature header and its body.
type Received = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback that answers 200 and keeps each request's signature
/// header and body.
fn webhook_receiver() -> (String, Received) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/crm/hook", server.server_addr().to_ip().unwrap().port());
    let seen: Received = Arc::default();
    let kept = seen.clone();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let signature = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Casedesk-Signature"))
                .map(|h| h.value.to_string())
                .unwrap_or_default();
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            kept.lock().unwrap().push((signature, body));
            request.respond(tiny_http::Response::from_string("ok")).unwrap();
        }
    });
    (url, seen)
}

/// A CRM imports its customers, opens a case under its own id, finds and changes it by
/// that id, and hears of each change through signed webhooks whose log it can read.
#[test]
fn a_crm_stays_in_sync_through_external_ids_and_signed_webhooks() {
    let s = serve();
    let (ada, sam) = (s.sign_in("ada"), s.sign_in("sam"));
    let secret = "a webhook secret of some length";
    let settings = serde_json::from_value(json!({ "webhook_secret": secret })).unwrap();
    s.engine.execute(&Actor::system(), Command::ConfigureNotificationChannels { settings }).unwrap();
    let (url, seen) = webhook_receiver();
    for (id, event) in [("crm-created", "created"), ("crm-updated", "updated"), ("crm-done", "task_completed")] {
        let put =
            s.call("put", &format!("/api/webhooks/{id}"), Some(&ada), Some(json!({ "event": event, "url": url })));
        assert_eq!(put.status(), 200, "{}", put.text().unwrap());
    }
    let listed: Vec<Value> = s.call("get", "/api/webhooks", Some(&ada), None).json().unwrap();
    assert_eq!(listed.len(), 3);
    let bad = s.call("put", "/api/webhooks/x", Some(&ada), Some(json!({ "event": "created", "url": "ftp://x" })));
    assert_eq!(bad.status(), 422);

    let csv = "external_id,name,email\nC-100,Maria Silva,maria@example.com\nC-101,,nobody@example.com\n";
    let report: Value = s.call("post", "/api/customers/import", Some(&sam), Some(json!(csv))).json().unwrap();
    assert_eq!(report, json!({ "created": 1, "updated": 0, "rejected": ["line 3: name: must not be empty"] }));
    let found: Vec<Value> = s.call("get", "/api/customers?q=C-100", Some(&sam), None).json().unwrap();
    let customer_id = found[0]["id"].as_str().unwrap().to_string();

    let body = json!({ "case_type": "technical", "subject": "Router down", "customer_id": customer_id,
                       "external_id": "CRM-CASE-1", "fields": { "device": "Router" } });
    assert_eq!(s.call("post", "/api/cases", Some(&sam), Some(body.clone())).status(), 201);
    let again = s.call("post", "/api/cases", Some(&sam), Some(body));
    assert_eq!(again.status(), 422, "an external id belongs to one case");
    let by_id: Vec<Value> = s.call("get", "/api/cases?external_id=CRM-CASE-1", Some(&sam), None).json().unwrap();
    assert_eq!(by_id.len(), 1);
    let reference = by_id[0]["reference"].as_str().unwrap().to_string();
    let none: Vec<Value> =
        s.call("get", "/api/cases?external_id=CRM-CASE-1", Some(&s.sign_in("chris")), None).json().unwrap();
    assert!(none.is_empty(), "a case one may not see is not found by its external id either");
    let patch = json!({ "fields": { "serial_number": "ABC12345" } });
    assert_eq!(s.call("patch", &format!("/api/cases/{reference}"), Some(&sam), Some(patch)).status(), 200);

    casedesk_delivery::send_due(&s.engine, &casedesk_delivery::Senders::new().unwrap()).unwrap();
    let seen = seen.lock().unwrap().clone();
    let events: Vec<String> =
        seen.iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["event"].to_string()).collect();
    assert_eq!(events, ["\"created\"", "\"updated\""]);
    let now = chrono::Utc::now().timestamp() as u64;
    for (signature, body) in &seen {
        assert!(casedesk_delivery::signature::verify(secret, signature, body.as_bytes(), now, 300), "{signature}");
        let sent: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (sent["case"]["external_id"].as_str(), sent["customer"]["external_id"].as_str()),
            (Some("CRM-CASE-1"), Some("C-100"))
        );
    }
    let log: Vec<Value> = s.call("get", "/api/webhooks/deliveries", Some(&ada), None).json().unwrap();
    assert_eq!(log.iter().map(|d| d["status"].as_str().unwrap()).collect::<Vec<_>>(), ["sent", "sent"]);
    assert_eq!(s.call("get", "/api/webhooks/deliveries", Some(&sam), None).status(), 403);
    assert_eq!(s.call("delete", "/api/webhooks/crm-done", Some(&ada), None).status(), 204);
    assert_eq!(
        s.call("delete", "/api/webhooks/customer-case-created", Some(&ada), None).status(),
        404,
        "only webhooks"
    );
}
