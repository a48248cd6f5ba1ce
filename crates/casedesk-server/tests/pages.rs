//! The customer pages' guards over real HTTP on loopback: the honeypot, the limit of posts
//! per client address, the body limit, forms only for case types open to the web, the
//! portal only for a signed-in customer, and the headers every page carries. (The happy
//! path runs in a real browser: tests/web/portal.test.mjs.)

#[path = "../../casedesk-core/tests/common/mod.rs"]
mod common;
mod served;

use casedesk_core::{demo, Engine, SystemClock};
use casedesk_server::public::{Pages, FORM_MAX_BYTES, LINKS_PER_MINUTE, POSTS_PER_MINUTE};
use casedesk_server::{router, Hub};
use reqwest::blocking::multipart::Form;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use std::sync::Arc;

struct Served {
    url: String,
    engine: Arc<Engine>,
    http: Client,
    _dir: tempfile::TempDir,
    _database: Option<common::TestDatabase>,
}

fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (engine, database) = common::open_hub(dir.path(), Arc::new(SystemClock));
    let engine = Arc::new(engine);
    demo::seed(&engine).unwrap();
    let url = served::listen(|url| router(Hub::serving(engine.clone(), Pages::new(url, false))));
    let http = Client::builder().redirect(Policy::none()).build().unwrap();
    Served { url, engine, http, _dir: dir, _database: database }
}

impl Served {
    fn cases(&self) -> i64 {
        common::count(&self.engine, "SELECT count(*) FROM cases")
    }
}

fn finance_form() -> Form {
    Form::new()
        .text("name", "Grace Hopper")
        .text("email", "grace@example.com")
        .text("subject", "Charged twice")
        .text("fields.invoice_number", "INV-123456")
}

#[test]
fn a_filled_honeypot_and_an_oversized_body_make_nothing() {
    let s = serve();
    let before = s.cases();
    let bot = s
        .http
        .post(format!("{}/form/finance", s.url))
        .multipart(finance_form().text("website", "http://spam"))
        .send()
        .unwrap();
    assert_eq!(bot.status(), 422);
    assert!(bot.text().unwrap().contains("looked automated"));
    let huge = Form::new()
        .text("name", "X")
        .part("files", reqwest::blocking::multipart::Part::bytes(vec![b'x'; FORM_MAX_BYTES + 1]).file_name("big.bin"));
    let too_large = s.http.post(format!("{}/form/finance", s.url)).multipart(huge).send().unwrap();
    assert_eq!(too_large.status(), 413);
    assert!(too_large.text().unwrap().contains("at most 30 MiB"));
    assert_eq!(s.cases(), before, "neither made a case");
    let person = s.http.post(format!("{}/form/finance", s.url)).multipart(finance_form()).send().unwrap();
    assert_eq!(person.status(), 303);
    assert_eq!(s.cases(), before + 1);
}

#[test]
fn an_address_that_posts_too_often_is_asked_to_wait() {
    let s = serve();
    let ask = |email: &str| s.http.post(format!("{}/portal/link", s.url)).form(&[("email", email)]).send().unwrap();
    // One email address gets a few links a minute…
    for _ in 0..LINKS_PER_MINUTE {
        assert_eq!(ask("grace@example.com").status(), 200);
    }
    let flooded = ask("grace@example.com");
    assert_eq!(flooded.status(), 429);
    assert!(flooded.text().unwrap().contains("Several sign-in links were sent to this address"));
    // …and one client address a few posts, whatever they are.
    for i in LINKS_PER_MINUTE + 1..POSTS_PER_MINUTE {
        assert_eq!(ask(&format!("someone{i}@example.com")).status(), 200, "post {i}");
    }
    let slowed = ask("someone.else@example.com");
    assert_eq!(slowed.status(), 429);
    assert_eq!(slowed.headers()["retry-after"], "60");
    assert!(slowed.text().unwrap().contains("many requests from your address"));
}

#[test]
fn forms_are_only_for_types_open_to_the_web_and_the_portal_only_for_the_signed_in() {
    let s = serve();
    let index = s.http.get(format!("{}/form", s.url)).send().unwrap();
    let csp = index.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(index.headers()["cache-control"], "no-store");
    let page = index.text().unwrap();
    assert!(page.contains("/form/finance") && !page.contains("/form/business_account"), "{page}");
    assert_eq!(s.http.get(format!("{}/form/business_account", s.url)).send().unwrap().status(), 404);
    let closed = s.http.post(format!("{}/form/business_account", s.url)).multipart(finance_form()).send().unwrap();
    assert_eq!(closed.status(), 404);
    for path in ["/portal/cases", "/portal/cases/FIN-000001"] {
        let r = s.http.get(format!("{}{path}", s.url)).header("cookie", "casedesk_portal=forged").send().unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/portal"), "{path}");
    }
    let comment = s
        .http
        .post(format!("{}/portal/cases/FIN-000001/comments", s.url))
        .form(&[("body", "let me in")])
        .send()
        .unwrap();
    assert_eq!(comment.status(), 303, "no session, no comment");
}
