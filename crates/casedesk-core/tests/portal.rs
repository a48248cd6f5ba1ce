//! What customers and outside systems do without the desktop: the web form, the status
//! portal's sign-in and views, external ids on cases and customers, and the CSV import.

mod common;

use casedesk_core::engine::permissions::{customer_actor, WEB_ACTOR};
use casedesk_core::engine::{FormFile, WebForm};
use casedesk_core::notify::{ChannelSettings, Delivery, SendError, Transport};
use casedesk_core::{Actor, Clock, Command, Error};
use common::*;
use serde_json::json;
use std::sync::Mutex;

fn web() -> Actor {
    Actor::new(WEB_ACTOR, &[])
}

fn form(email: &str, invoice: &str) -> WebForm {
    WebForm {
        case_type: "finance".into(),
        name: "Grace Hopper".into(),
        email: email.into(),
        phone: None,
        intent: Some("billing_dispute".into()),
        subject: "Charged twice".into(),
        description: "My card was charged twice in November.".into(),
        fields: obj(json!({ "invoice_number": invoice, "disputed_amount": 49.5 })),
        files: vec![],
        portal_url: "http://hub.example".into(),
    }
}

/// Records what would be sent; every send succeeds.
#[derive(Default)]
struct Outbox(Mutex<Vec<Delivery>>);

impl Transport for Outbox {
    fn send(&self, d: &Delivery, _: &ChannelSettings) -> Result<(), SendError> {
        self.0.lock().unwrap().push(d.clone());
        Ok(())
    }
}

fn email_settings(w: &World) {
    let settings: ChannelSettings = serde_json::from_value(json!({
        "email": { "host": "127.0.0.1", "port": 2525, "security": "none", "from": "Service <service@example.com>" }
    }))
    .unwrap();
    w.engine.execute(&admin(), Command::ConfigureNotificationChannels { settings }).unwrap();
}

fn sent(w: &World) -> Vec<Delivery> {
    let out = Outbox::default();
    w.engine.deliver_due(&out, 100).unwrap();
    out.0.into_inner().unwrap()
}

fn link_in(body: &str) -> String {
    let at = body.find("token=").expect("a sign-in link") + "token=".len();
    body[at..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_form_checks_every_field_at_once_then_makes_the_case_its_customer_and_contact_in_one_go() {
    let w = world();
    let mut bad = form("not-an-address", "123");
    bad.name = " ".into();
    let problems = w.engine.form_problems(&bad).unwrap();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["name", "email", "fields.invoice_number"], "{problems:?}");
    assert!(problems[2].rule.contains("INV- followed by 6 digits"), "{problems:?}");
    let cases_before = count(&w.engine, "SELECT count(*) FROM cases");
    let e = w.engine.execute(&web(), Command::SubmitCaseForm { form: bad }).unwrap_err();
    assert!(matches!(&e, Error::InvalidField { field, .. } if field == "name"), "{e}");
    assert_eq!(count(&w.engine, "SELECT count(*) FROM cases"), cases_before, "a refused form writes nothing");

    let mut good = form("grace@example.com", "INV-123456");
    good.files = vec![FormFile {
        file_name: "invoice.pdf".into(),
        content_type: "application/pdf".into(),
        content: b"%PDF-1.4 two charges".to_vec(),
    }];
    let done = w.engine.execute(&web(), Command::SubmitCaseForm { form: good }).unwrap();
    let reference = done.reference.clone().unwrap();
    assert!(reference.starts_with("FIN-"), "{reference}");
    let detail = w.engine.case_detail(created(&done)).unwrap();
    assert_eq!(detail.case.owner, None, "nobody owns a case the web form made");
    assert_eq!(detail.customer.as_ref().unwrap().email.as_deref(), Some("grace@example.com"));
    assert_eq!(detail.interactions.len(), 1);
    assert_eq!(detail.interactions[0].channel, casedesk_core::model::Channel::Web);
    assert_eq!(detail.attachments[0].file_name, "invoice.pdf");
    assert!(!detail.tasks.is_empty(), "its first task started");
    // The desk shows what the form did (the case, its file) as the customer's.
    assert_eq!(detail.web_form_author.as_deref(), Some(detail.history[0].actor.as_str()));
    assert_eq!(detail.web_form_author.as_deref(), Some(detail.attachments[0].added_by.as_str()));

    // The same address again is the same customer, whatever name was typed.
    let mut again = form("GRACE@example.com", "INV-654321");
    again.name = "Someone Else".into();
    let second = w.engine.execute(&web(), Command::SubmitCaseForm { form: again }).unwrap();
    let customer = w.engine.case_detail(created(&second)).unwrap().customer.unwrap();
    assert_eq!(customer.id, detail.customer.unwrap().id);
    assert_eq!(customer.name, "Grace Hopper", "a form never changes a profile");
}

#[test]
fn the_confirmation_names_the_reference_and_goes_through_the_outbox() {
    let w = world();
    email_settings(&w);
    let done =
        w.engine.execute(&web(), Command::SubmitCaseForm { form: form("ada@example.com", "INV-000001") }).unwrap();
    let reference = done.reference.unwrap();
    let mail = sent(&w);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].recipient, "ada@example.com");
    assert!(mail[0].subject.contains(&reference) && mail[0].body.contains(&reference), "{mail:?}");
    assert!(mail[0].body.contains("http://hub.example/portal"), "{}", mail[0].body);
    assert!(sent(&w).is_empty(), "sent once");
}

#[test]
fn a_sign_in_link_works_once_before_it_expires_and_only_with_its_seal() {
    let w = world();
    email_settings(&w);
    w.engine.execute(&web(), Command::SubmitCaseForm { form: form("lin@example.com", "INV-000002") }).unwrap();
    sent(&w);
    // An unknown address gets nothing, and the answer is the same.
    w.engine
        .execute(
            &web(),
            Command::RequestPortalLink { email: "nobody@example.com".into(), portal_url: "http://hub.example".into() },
        )
        .unwrap();
    assert!(sent(&w).is_empty());
    let request =
        || Command::RequestPortalLink { email: "Lin@Example.com".into(), portal_url: "http://hub.example".into() };
    w.engine.execute(&web(), request()).unwrap();
    let mail = sent(&w);
    assert_eq!(mail.len(), 1);
    let token = link_in(&mail[0].body);
    // What the workspace keeps (and desks replicate) cannot sign anyone in.
    let stored: String = w.engine.delivery_log(None, 10).unwrap()[0].delivery.body.clone();
    let unsealed = link_in(&stored);
    assert!(!unsealed.contains('.') && token.starts_with(&unsealed) && token.len() > unsealed.len() + 32);

    let open = |token: &str, digest: &str| Command::OpenPortalSession {
        link_token: token.into(),
        session_digest: digest.into(),
        expires_at: w.clock.now() + chrono::Duration::hours(12),
    };
    let digest = "a".repeat(64);
    for forged in [unsealed.clone(), format!("{unsealed}.{}", "0".repeat(64))] {
        let e = w.engine.execute(&web(), open(&forged, &digest)).unwrap_err();
        assert!(e.to_string().starts_with("token: this sign-in link does not work"), "{e}");
    }
    let staff = w.engine.execute(&alex(), open(&token, &digest)).unwrap_err();
    assert!(matches!(staff, Error::Forbidden { .. }), "{staff}");
    w.engine.execute(&web(), open(&token, &digest)).unwrap();
    let me = w.engine.portal_customer(&digest).unwrap().expect("signed in");
    assert_eq!(me.email.as_deref(), Some("lin@example.com"));
    let twice = w.engine.execute(&web(), open(&token, &"b".repeat(64))).unwrap_err();
    assert!(twice.to_string().contains("works once"), "{twice}");

    w.engine.execute(&web(), request()).unwrap();
    let late = link_in(&sent(&w)[0].body);
    w.clock.advance(chrono::Duration::minutes(31));
    assert!(w.engine.execute(&web(), open(&late, &"c".repeat(64))).is_err(), "expired");
    w.clock.advance(chrono::Duration::hours(12));
    assert!(w.engine.portal_customer(&digest).unwrap().is_none(), "the session ended");
}

#[test]
fn a_customer_sees_and_comments_on_their_own_cases_only() {
    let w = world();
    let mine =
        w.engine.execute(&web(), Command::SubmitCaseForm { form: form("kim@example.com", "INV-000003") }).unwrap();
    let theirs =
        w.engine.execute(&web(), Command::SubmitCaseForm { form: form("lee@example.com", "INV-000004") }).unwrap();
    let kim = w.engine.case_detail(created(&mine)).unwrap().customer.unwrap();
    let (my_ref, their_ref) = (mine.reference.clone().unwrap(), theirs.reference.clone().unwrap());
    w.engine
        .execute(&alex(), Command::AddNote { case_id: created(&mine), body: "internal: check the ledger".into() })
        .unwrap();

    let cases = w.engine.portal_cases(kim.id).unwrap();
    assert_eq!(cases.iter().map(|c| c.reference.as_str()).collect::<Vec<_>>(), [my_ref.as_str()]);
    let view = w.engine.portal_case(kim.id, &my_ref).unwrap();
    assert_eq!((view.type_name.as_str(), view.status.as_str()), ("Finance", "New"));
    let shown: Vec<(&str, &str)> = view.fields.iter().map(|f| (f.label.as_str(), f.value.as_str())).collect();
    assert_eq!(shown, [("Invoice number", "INV-000003"), ("Disputed amount (EUR)", "49.5")]);
    assert!(view.due.ends_with("CET") || view.due.ends_with("CEST"), "{}", view.due);
    assert!(view.comments.is_empty(), "staff notes stay internal");
    let e = w.engine.portal_case(kim.id, &their_ref).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");

    let as_kim = customer_actor(kim.id);
    w.engine
        .execute(&as_kim, Command::AddCustomerComment { case_id: created(&mine), body: "Any news?".into() })
        .unwrap();
    let doc = Command::AddCustomerDocument {
        case_id: created(&mine),
        file_name: "statement.png".into(),
        content_type: "image/png".into(),
        content: vec![0x89, b'P', b'N', b'G'],
    };
    w.engine.execute(&as_kim, doc).unwrap();
    let view = w.engine.portal_case(kim.id, &my_ref).unwrap();
    assert_eq!(view.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["Any news?"]);
    assert_eq!(view.documents.len(), 1);
    let detail = w.engine.case_detail(created(&mine)).unwrap();
    assert!(detail.notes.iter().any(|n| n.body == "Any news?" && n.author == as_kim.user_id), "the agent sees it");
    let by_desk = w.engine.case_detail(created(&w.engine.execute(&alex(), new_case("Modem")).unwrap())).unwrap();
    assert_eq!(by_desk.web_form_author, None, "a case made on a desk has no web form");

    let other = Command::AddCustomerComment { case_id: created(&theirs), body: "let me in".into() };
    assert!(matches!(w.engine.execute(&as_kim, other).unwrap_err(), Error::NotFound { .. }));
    let as_staff = Command::AddNote { case_id: created(&mine), body: "x".into() };
    assert!(matches!(w.engine.execute(&as_kim, as_staff).unwrap_err(), Error::Forbidden { .. }));
    let from_form = Command::AddNote { case_id: created(&mine), body: "x".into() };
    assert!(matches!(w.engine.execute(&web(), from_form).unwrap_err(), Error::Forbidden { .. }));
}

#[test]
fn a_case_keeps_its_external_id_unique_and_is_found_by_it() {
    let w = world();
    let mut make = new_case("Router down");
    if let Command::CreateCase { external_id, .. } = &mut make {
        *external_id = Some("CRM-1".into());
    }
    let first = created(&w.engine.execute(&alex(), make.clone()).unwrap());
    assert_eq!(w.engine.case_by_external_id("CRM-1").unwrap().unwrap().id, first);
    let e = w.engine.execute(&alex(), make).unwrap_err();
    assert!(e.to_string().starts_with("external_id: 'CRM-1' already belongs to case TEC-"), "{e}");
    let second = created(&w.engine.execute(&alex(), new_case("Modem")).unwrap());
    let set = |x: &str| Command::UpdateCaseFields {
        case_id: second,
        fields: Default::default(),
        external_id: Some(x.into()),
    };
    assert!(w.engine.execute(&alex(), set("CRM-1")).is_err());
    let done = w.engine.execute(&alex(), set("CRM-2")).unwrap();
    assert_eq!(done.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["case_external_id_set"]);
    assert_eq!(w.case(second).external_id.as_deref(), Some("CRM-2"));
    w.engine.execute(&alex(), set("")).unwrap();
    assert_eq!(w.case(second).external_id, None);
}

#[test]
fn a_csv_import_takes_the_good_rows_updates_by_external_id_and_reports_the_rest() {
    let w = world();
    let csv = "name,email,phone,external_id,segment\n\
               Ada Lovelace,ada@example.com,+44 20 7946 0000,C-1,gold\n\
               Bad Mail,not-an-address,,C-2,\n\
               ,nobody@example.com,,C-3,\n\
               Alan Turing,alan@example.com,,C-4,platinum\n\
               Ada Again,ada2@example.com,,C-1,\n\
               \"Hopper, Grace\",grace@example.com,,,consumer\n";
    let done = w.engine.execute(&sam(), Command::ImportCustomers { csv: csv.into() }).unwrap();
    assert_eq!(
        done.warnings,
        [
            "line 3: email: must be an email address like name@example.com",
            "line 4: name: must not be empty",
            "line 5: extra.segment: must be one of: consumer, business, gold",
            "line 6: external_id: 'C-1' is also on line 2",
        ]
    );
    let made: Vec<&str> = done.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(made, ["customer_created", "customer_created"]);
    let grace = w.engine.search_customers(&sam(), "grace@example.com", 5).unwrap();
    assert_eq!(grace[0].name, "Hopper, Grace");

    // Again with a changed phone: the known external id updates that customer.
    let update = "external_id,name,phone\nC-1,Ada King,+44 20 7946 0001\n";
    let done = w.engine.execute(&sam(), Command::ImportCustomers { csv: update.into() }).unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    let ada = w.engine.search_customers(&sam(), "C-1", 5).unwrap();
    assert_eq!((ada[0].name.as_str(), ada[0].phone.as_deref()), ("Ada King", Some("+442079460001")));
    assert_eq!(ada[0].email.as_deref(), Some("ada@example.com"), "a column left out keeps its value");

    let one = || Command::ImportCustomers { csv: "name\nZoe\n".into() };
    assert!(matches!(w.engine.execute(&alex(), one()).unwrap_err(), Error::Forbidden { .. }), "agents do not import");
    assert_eq!(w.engine.execute(&admin(), one()).unwrap().events.len(), 1, "admins do");
    let e = w.engine.execute(&sam(), Command::ImportCustomers { csv: "name,shoe_size\nX,42\n".into() }).unwrap_err();
    assert!(e.to_string().starts_with("csv: unknown column 'shoe_size'"), "{e}");
}
