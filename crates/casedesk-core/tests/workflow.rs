mod common;

use casedesk_core::model::{StatusCategory, TaskState};
use casedesk_core::{Command, Limits};
use common::*;
use serde_json::json;

#[test]
fn technical_case_escalates_and_is_sent_back_to_the_original_advisor() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let c = w.case(case);
    assert_eq!(c.reference, "TEC-000001");
    assert_eq!((c.status.as_str(), c.stage.as_deref(), c.owner.as_deref()), ("new", Some("diagnose"), Some("alex")));
    let triage = w.open_tasks(case).remove(0);
    assert_eq!(
        (triage.step.as_str(), triage.queue.as_deref(), triage.state),
        ("triage", Some("Employees_group_A"), TaskState::Queued)
    );

    // Alex finds it needs a repair: the repair step goes to the experts.
    w.finish(triage.id, &alex(), "needs_fix", json!({}), None).unwrap();
    let repair = w.open_tasks(case).remove(0);
    assert_eq!((repair.step.as_str(), repair.queue.as_deref()), ("repair", Some("Expert_group_X")));
    assert_eq!(w.case(case).stage.as_deref(), Some("repair"));

    // Escalation: the task is escalated, a new one at level 1 in the escalation target.
    w.finish(repair.id, &bea(), "escalate", json!({}), None).unwrap();
    let tasks = w.tasks(case);
    assert_eq!(tasks.iter().find(|t| t.id == repair.id).unwrap().state, TaskState::Escalated);
    let escalated = w.open_tasks(case).remove(0);
    assert_eq!((escalated.escalation_level, escalated.queue.as_deref()), (1, Some("Expert_group_X")));

    // The expert sends it back for verification: Alex, who triaged it, comes first.
    w.finish(escalated.id, &sam(), "verify", json!({}), None).unwrap();
    let verify = w.open_tasks(case).remove(0);
    assert_eq!(
        (verify.step.as_str(), verify.preferred_agent.as_deref(), verify.state),
        ("triage", Some("alex"), TaskState::Queued)
    );
    assert_eq!(w.case(case).stage.as_deref(), Some("diagnose"));
    w.engine.execute(&alex(), Command::AssignTask { task_id: verify.id, assignee: "alex".into() }).unwrap();

    // Alex confirms it is fixed: the case closes with no open task.
    w.engine
        .execute(
            &alex(),
            Command::CompleteTask {
                task_id: verify.id,
                outcome: "fixed".into(),
                form_values: obj(json!({})),
                reason: None,
            },
        )
        .unwrap();
    let c = w.case(case);
    assert_eq!((c.status.as_str(), c.status_category), ("resolved", StatusCategory::Closed));
    assert!(c.closed_at.is_some());
    assert!(w.open_tasks(case).is_empty());
}

#[test]
fn refund_form_is_validated_and_a_rejection_needs_a_reason() {
    let w = world();
    let case = w.create_case(&bea(), "refund", json!({})).unwrap();
    let form = w.open_tasks(case).remove(0);
    w.engine.execute(&sam(), Command::AssignTask { task_id: form.id, assignee: "bea".into() }).unwrap();
    let submit = |values| {
        w.engine.execute(
            &bea(),
            Command::CompleteTask {
                task_id: form.id,
                outcome: "submit".into(),
                form_values: obj(values),
                reason: None,
            },
        )
    };
    let e = submit(
        json!({ "amount": "59", "iban": "DE89370400440532013000", "reason": "Goodwill", "payment_date": "2026-10-02" }),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "amount: must be a number, got text");
    let e = submit(json!({ "amount": 59, "iban": "DE89 3704", "reason": "Goodwill", "payment_date": "2026-10-02" }))
        .unwrap_err();
    assert_eq!(e.to_string(), "iban: must be a valid IBAN, like DE89 3704 0044 0532 0130 00");
    let e = submit(
        json!({ "amount": 59, "iban": "DE89370400440532013001", "reason": "Goodwill", "payment_date": "2026-10-02" }),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("iban: must be a valid IBAN"), "the check digits are wrong: {e}");
    // A check of the form, written in the case type: the payment cannot be in the future.
    let e = submit(json!({ "amount": 59, "iban": "DE89 3704 0044 0532 0130 00", "reason": "Goodwill", "payment_date": "2026-12-24" }))
        .unwrap_err();
    assert_eq!(e.to_string(), "payment_date: must not be in the future");
    let e = submit(
        json!({ "amount": 9000, "iban": "DE89370400440532013000", "reason": "Goodwill", "payment_date": "2026-10-02" }),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "amount: must be at most 5000");
    let e = submit(json!({ "amount": 59, "iban": "DE89370400440532013000", "reason": "Goodwill" })).unwrap_err();
    assert_eq!(e.to_string(), "payment_date: is required");
    assert_eq!(w.open_tasks(case)[0].state, TaskState::Assigned, "failed completions change nothing");
    submit(
        json!({ "amount": 59, "iban": "DE89370400440532013000", "reason": "Goodwill", "payment_date": "2026-10-02" }),
    )
    .unwrap();

    let approval = w.open_tasks(case).remove(0);
    assert_eq!(approval.step, "approve_refund");
    w.engine.execute(&sam(), Command::AssignTask { task_id: approval.id, assignee: "sam".into() }).unwrap();
    let e = w
        .engine
        .execute(
            &sam(),
            Command::CompleteTask {
                task_id: approval.id,
                outcome: "reject".into(),
                form_values: obj(json!({})),
                reason: Some("  ".into()),
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "reason: outcome 'reject' needs a reason");
    w.engine
        .execute(
            &sam(),
            Command::CompleteTask {
                task_id: approval.id,
                outcome: "reject".into(),
                form_values: obj(json!({})),
                reason: Some("Outside the refund window".into()),
            },
        )
        .unwrap();
    let c = w.case(case);
    assert_eq!((c.status.as_str(), c.status_category), ("rejected", StatusCategory::Closed));
}

#[test]
fn parallel_checks_all_finish_before_the_next_stage() {
    let w = world();
    let case = w.create_case(&sam(), "business_account", json!({ "company_name": "Acme Ltd", "registration_number": "HRB123456", "contact_email": "a@acme.example" })).unwrap();
    let checks = w.open_tasks(case);
    assert_eq!(checks.iter().map(|t| t.step.as_str()).collect::<Vec<_>>(), ["kyc_check", "credit_check"]);
    let kyc = checks.iter().find(|t| t.step == "kyc_check").unwrap();
    let credit = checks.iter().find(|t| t.step == "credit_check").unwrap();
    w.finish(
        kyc.id,
        &alex(),
        "passed",
        json!({ "director_name": "A. Smith", "id_document": "Passport", "id_expiry": "2030-01-31" }),
        None,
    )
    .unwrap();
    assert_eq!(w.open_tasks(case).len(), 1, "the stage waits for the credit check");
    assert_eq!(w.case(case).stage.as_deref(), Some("checks"));
    w.finish(credit.id, &bea(), "passed", json!({ "credit_score": 720 }), None).unwrap();
    let decision = w.open_tasks(case).remove(0);
    assert_eq!(decision.step, "approve_account");
    w.finish(decision.id, &sam(), "approve", json!({}), None).unwrap();
    assert_eq!(w.case(case).status, "opened");
}

#[test]
fn closing_one_parallel_branch_cancels_the_other() {
    let w = world();
    let case = w.create_case(&sam(), "business_account", json!({ "company_name": "Acme Ltd", "registration_number": "HRB123456", "contact_email": "a@acme.example" })).unwrap();
    let credit = w.open_tasks(case).into_iter().find(|t| t.step == "credit_check").unwrap();
    w.finish(credit.id, &bea(), "failed", json!({}), Some("Insolvency record")).unwrap();
    let c = w.case(case);
    assert_eq!((c.status.as_str(), c.status_category), ("declined", StatusCategory::Closed));
    assert!(w.open_tasks(case).is_empty());
    assert!(w.tasks(case).iter().any(|t| t.step == "kyc_check" && t.state == TaskState::Cancelled));
}

#[test]
fn status_transitions_follow_the_case_type() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Modem" })).unwrap();
    let snap = w.snapshot();
    let e = w
        .engine
        .execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: "resolved".into(), reason: None })
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    assert_eq!(
        e.to_string(),
        "case TEC-000001: cannot go from 'new' to 'resolved' (allowed: in_progress, waiting_customer, cancelled)"
    );
    let e = w
        .engine
        .execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: "lost".into(), reason: None })
        .unwrap_err();
    assert_eq!(e.code(), "invalid_field");
    assert_eq!(snap, w.snapshot());
    for s in ["in_progress", "waiting_customer", "in_progress", "resolved"] {
        w.engine.execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: s.into(), reason: None }).unwrap();
    }
    assert!(w.open_tasks(case).is_empty(), "closing cancels open tasks");
    // Reopening resumes work at the stage where the case was.
    w.engine
        .execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: "in_progress".into(), reason: None })
        .unwrap();
    let c = w.case(case);
    assert_eq!((c.status_category, c.closed_at), (StatusCategory::InProgress, None));
    assert_eq!(w.open_tasks(case)[0].step, "triage");
}

#[test]
fn case_fields_are_validated_on_create_and_update() {
    let w = world();
    let snap = w.snapshot();
    let e = w.create_case(&alex(), "technical", json!({})).unwrap_err();
    assert_eq!(e.to_string(), "device: is required");
    let e = w.create_case(&alex(), "technical", json!({ "device": "Toaster" })).unwrap_err();
    assert_eq!(e.to_string(), "device: must be one of: Router, Modem, Set-top box, Phone, Other");
    let e = w.create_case(&alex(), "technical", json!({ "device": "Router", "colour": "red" })).unwrap_err();
    assert_eq!(e.to_string(), "colour: is not a field of this form");
    let e = w.create_case(&alex(), "technical", json!({ "device": "Router", "serial_number": "abc" })).unwrap_err();
    assert_eq!(e.to_string(), "serial_number: 8 to 12 capital letters or digits, as printed under the device");
    let e = w.create_case(&alex(), "nonexistent", json!({})).unwrap_err();
    assert_eq!(e.to_string(), "case_type: 'nonexistent' is not a published case type");
    assert_eq!(snap, w.snapshot(), "no failed create leaves a trace, not even a used reference number");

    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let e = w
        .engine
        .execute(
            &alex(),
            Command::UpdateCaseFields {
                case_id: case,
                fields: obj(json!({ "contact_phone": "call me" })),
                external_id: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_field");
    let r = w
        .engine
        .execute(
            &alex(),
            Command::UpdateCaseFields {
                case_id: case,
                fields: obj(json!({ "contact_phone": "+49 (30) 555-0100" })),
                external_id: None,
            },
        )
        .unwrap();
    assert_eq!(r.events[0].kind, "case_fields_updated");
    assert_eq!(r.events[0].after, json!({ "contact_phone": "+49305550100" }));
    assert_eq!(w.case(case).fields["contact_phone"], "+49305550100");
}

#[test]
fn task_state_machine_and_permissions() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    // Nobody works a task that is not theirs.
    let e = w
        .engine
        .execute(
            &alex(),
            Command::CompleteTask {
                task_id: task.id,
                outcome: "fixed".into(),
                form_values: obj(json!({})),
                reason: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    // Agents take unassigned work for themselves, but do not hand it to others.
    let e = w.engine.execute(&alex(), Command::AssignTask { task_id: task.id, assignee: "bea".into() }).unwrap_err();
    assert_eq!(e.code(), "forbidden");
    w.engine.execute(&alex(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    let e = w.engine.execute(&bea(), Command::AssignTask { task_id: task.id, assignee: "bea".into() }).unwrap_err();
    assert_eq!(e.code(), "forbidden", "taking someone's task is a supervisor's move");
    w.engine.execute(&alex(), Command::StartTask { task_id: task.id }).unwrap();
    let e = w
        .engine
        .execute(
            &alex(),
            Command::CompleteTask {
                task_id: task.id,
                outcome: "nope".into(),
                form_values: obj(json!({})),
                reason: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "outcome: 'nope' is not an outcome of step 'triage'; choose one of: fixed, needs_fix, escalate"
    );
    w.engine
        .execute(
            &alex(),
            Command::CompleteTask {
                task_id: task.id,
                outcome: "fixed".into(),
                form_values: obj(json!({})),
                reason: None,
            },
        )
        .unwrap();
    let e = w.engine.execute(&alex(), Command::StartTask { task_id: task.id }).unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    // Unknown users cannot act at all; admins do not work cases.
    let e = w
        .create_case(
            &casedesk_core::Actor::new("mallory", &[casedesk_core::Role::Agent]),
            "technical",
            json!({ "device": "Router" }),
        )
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = w.create_case(&admin(), "technical", json!({ "device": "Router" })).unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

#[test]
fn every_change_has_its_event_and_history_is_a_query() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    w.engine.execute(&alex(), Command::AddNote { case_id: case, body: "Called back".into() }).unwrap();
    let detail = w.engine.case_detail(case).unwrap();
    let kinds: Vec<_> = detail.history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["case_created", "task_created", "note_added"]);
    assert!(detail.history.iter().all(|e| e.actor == "alex"));
    assert_eq!(detail.notes[0].body, "Called back");
    let outbox: i64 = w.engine.read(|db| db.count(casedesk_core::store::Table::Outbox)).unwrap();
    assert_eq!(outbox, 1, "case_created feeds the notification outbox");
}

#[test]
fn references_are_unique_and_can_come_from_a_reserved_block() {
    let w = world();
    let a = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let b = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let f = w.create_case(&bea(), "finance", json!({ "invoice_number": "INV-000001" })).unwrap();
    assert_eq!(
        [w.case(a).reference, w.case(b).reference, w.case(f).reference],
        ["TEC-000001", "TEC-000002", "FIN-000001"]
    );

    // The hub reserves numbers for a client off its own sequence.
    let hub = world();
    let r = hub.engine.execute(&admin(), Command::ReserveReferenceBlock { prefix: "TEC".into(), size: 2 }).unwrap();
    assert_eq!(r.created_id.as_deref(), Some("1-2"));
    assert_eq!(r.events[0].kind, "reference_block_reserved");
    let c = hub.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    assert_eq!(hub.case(c).reference, "TEC-000003");
    let e = hub.engine.execute(&alex(), Command::ReserveReferenceBlock { prefix: "TEC".into(), size: 2 }).unwrap_err();
    assert_eq!(e.code(), "forbidden");

    // The client uses a granted block first, and its own sequence never reissues it.
    let grant =
        |first, last| w.engine.execute(&admin(), Command::GrantReferenceBlock { prefix: "TEC".into(), first, last });
    grant(1000, 1001).unwrap();
    let snap = w.snapshot();
    assert_eq!(
        grant(1001, 1005).unwrap_err().to_string(),
        "first: TEC 1001..1005 overlaps the block 1000..1001 granted before"
    );
    assert_eq!(
        grant(2, 10).unwrap_err().to_string(),
        "first: TEC numbers below 1002 were already issued here; a block must start at 1002 or later"
    );
    assert_eq!(snap, w.snapshot());
    let refs: Vec<_> = (0..3)
        .map(|_| w.case(w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap()).reference)
        .collect();
    assert_eq!(refs, ["TEC-001000", "TEC-001001", "TEC-001002"]);
}

#[test]
fn customers_are_searchable_by_name_email_phone_and_external_id() {
    let w = world();
    let r = w
        .engine
        .execute(
            &alex(),
            Command::CreateCustomer {
                name: "Maria Keller".into(),
                email: Some("Maria.Keller@example.com".into()),
                phone: Some("+49 30 1234567".into()),
                external_id: Some("CRM-1".into()),
                extra: obj(json!({ "segment": "gold" })),
            },
        )
        .unwrap();
    let id = created(&r);
    for q in ["mar", "kell", "maria.keller@EXAMPLE.com", "+49301234567", "030 1234567", "CRM-1"] {
        let found = w.engine.search_customers(&alex(), q, 10).unwrap();
        assert!(found.iter().any(|c| c.id == id) || q == "030 1234567", "query {q:?} found {found:?}");
    }
    assert!(w.engine.search_customers(&alex(), "zzz", 10).unwrap().is_empty());
    assert!(w.engine.search_customers(&alex(), "%", 10).unwrap().is_empty(), "LIKE wildcards are literal");
    let e = w
        .engine
        .execute(
            &alex(),
            Command::CreateCustomer {
                name: "Other".into(),
                email: None,
                phone: None,
                external_id: Some("CRM-1".into()),
                extra: obj(json!({})),
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "external_id: 'CRM-1' already belongs to another customer");
    let e = w
        .engine
        .execute(
            &alex(),
            Command::CreateCustomer {
                name: "Other".into(),
                email: Some("nope".into()),
                phone: None,
                external_id: None,
                extra: obj(json!({})),
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "email: must be an email address like name@example.com");
}

#[test]
fn customer_extra_fields_are_defined_by_the_admin() {
    let w = world();
    let new = |extra| Command::CreateCustomer {
        name: "Kim".into(),
        email: None,
        phone: None,
        external_id: None,
        extra: obj(extra),
    };
    let e = w.engine.execute(&alex(), new(json!({ "segment": "platinum" }))).unwrap_err();
    assert_eq!(e.to_string(), "extra.segment: must be one of: consumer, business, gold");
    let e = w.engine.execute(&alex(), new(json!({ "shoe_size": 44 }))).unwrap_err();
    assert_eq!(e.to_string(), "extra.shoe_size: is not a field of this form");
    let e = w.engine.execute(&alex(), new(json!({ "customer_since": "yesterday" }))).unwrap_err();
    assert_eq!(e.code(), "invalid_field");
    // Agents do not change the profile's fields; admins do, with the same rules as case types.
    let loyalty = casedesk_core::fields::FieldDef {
        id: "loyalty_number".into(),
        label: "Loyalty number".into(),
        kind: casedesk_core::fields::FieldKind::Regex,
        required: false,
        min: None,
        max: None,
        min_length: None,
        max_length: None,
        choices: vec![],
        pattern: Some("LY[0-9]{6}".into()),
        help: None,
        customer_visible: false,
        format: None,
        country: None,
        country_field: None,
    };
    let e = w.engine.execute(&alex(), Command::DefineCustomerFields { fields: vec![loyalty.clone()] }).unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let mut broken = loyalty.clone();
    broken.pattern = Some("LY[0-9".into());
    let snap = w.snapshot();
    let e = w.engine.execute(&admin(), Command::DefineCustomerFields { fields: vec![broken] }).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("fields[0].pattern: field 'loyalty_number': pattern is not a valid regular expression"),
        "{e}"
    );
    assert_eq!(snap, w.snapshot());
    let mut fields = casedesk_core::demo::customer_fields();
    fields.push(loyalty);
    w.engine.execute(&admin(), Command::DefineCustomerFields { fields }).unwrap();
    let r = w.engine.execute(&alex(), new(json!({ "segment": "gold", "loyalty_number": "LY123456" }))).unwrap();
    let id = created(&r);
    assert_eq!(w.engine.search_customers(&alex(), "kim", 5).unwrap()[0].extra["loyalty_number"], "LY123456");
    let e = w
        .engine
        .execute(
            &alex(),
            Command::UpdateCustomer {
                customer_id: id,
                name: None,
                email: None,
                phone: None,
                external_id: None,
                extra: Some(obj(json!({ "loyalty_number": "123" }))),
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "extra.loyalty_number: must match the pattern LY[0-9]{6}");
    assert_eq!(w.engine.customer_fields().unwrap().len(), 4);
}

#[test]
fn interactions_link_many_to_many() {
    let w = world();
    let call = created(
        &w.engine
            .execute(
                &alex(),
                Command::CreateInteraction {
                    channel: casedesk_core::model::Channel::Voice,
                    external_id: Some("C-1".into()),
                    customer_id: None,
                    summary: "call".into(),
                    case_id: None,
                },
            )
            .unwrap(),
    );
    let a = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let b = w
        .create_case(
            &alex(),
            "replacement",
            json!({ "device": "Router", "delivery_address": "1 Long Street, Springfield" }),
        )
        .unwrap();
    for c in [a, b] {
        w.engine.execute(&alex(), Command::LinkInteraction { case_id: c, interaction_id: call }).unwrap();
    }
    let again = w.engine.execute(&alex(), Command::LinkInteraction { case_id: a, interaction_id: call }).unwrap();
    assert!(again.events.is_empty(), "linking twice is a no-op");
    assert_eq!(w.engine.case_detail(a).unwrap().interactions[0].id, call);
    assert_eq!(w.engine.case_detail(b).unwrap().interactions[0].id, call);

    // Created and linked in one transaction; a case that does not exist leaves no interaction.
    let contact = |case_id| Command::CreateInteraction {
        channel: casedesk_core::model::Channel::Email,
        external_id: Some("M-9".into()),
        customer_id: None,
        summary: "mail".into(),
        case_id: Some(case_id),
    };
    let before = w.snapshot();
    assert!(w.engine.execute(&alex(), contact(uuid::Uuid::nil())).is_err());
    assert_eq!(w.snapshot(), before);
    let done = w.engine.execute(&alex(), contact(a)).unwrap();
    let kinds: Vec<_> = done.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["interaction_created", "interaction_linked"]);
    assert_eq!(w.engine.case_detail(a).unwrap().interactions.len(), 2);
}

#[test]
fn a_case_opened_from_the_contact_the_agent_is_on_records_and_links_it_at_once() {
    use casedesk_core::command::NewContact;
    use casedesk_core::model::Channel;
    use casedesk_core::Error;
    let w = world();
    let open_linked = |interaction_id, contact: NewContact, fields: serde_json::Value| Command::CreateCase {
        case_type: "technical".into(),
        intent: None,
        customer_id: None,
        subject: "Router keeps dropping".into(),
        description: String::new(),
        fields: obj(fields),
        priority: None,
        interaction_id,
        contact: Some(contact),
        external_id: None,
    };
    let open = |contact, fields| open_linked(None, contact, fields);
    // A refused case leaves no contact behind: both or neither.
    let before = w.snapshot();
    let refused =
        w.engine.execute(&alex(), open(NewContact { channel: Channel::Voice, summary: "call".into() }, json!({})));
    assert!(matches!(refused, Err(Error::InvalidField { .. })), "{refused:?}");
    assert_eq!(w.snapshot(), before);

    let done = w
        .engine
        .execute(
            &alex(),
            open(NewContact { channel: Channel::Chat, summary: "  ".into() }, json!({ "device": "Router" })),
        )
        .unwrap();
    let case = created(&done);
    let contacts = w.engine.case_detail(case).unwrap().interactions;
    assert_eq!(contacts.len(), 1);
    assert_eq!((contacts[0].channel, contacts[0].summary.as_str()), (Channel::Chat, "Router keeps dropping"));
    assert_eq!(
        done.reference.as_deref().map(|r| r.starts_with("TEC-")),
        Some(true),
        "the case's reference, not the contact's"
    );

    let both = open_linked(
        Some(contacts[0].id),
        NewContact { channel: Channel::Voice, summary: String::new() },
        json!({ "device": "Router" }),
    );
    let refused = w.engine.execute(&alex(), both).unwrap_err();
    assert!(refused.to_string().starts_with("contact: "), "{refused}");
}

#[test]
fn attachments_are_stored_by_hash_with_a_cap_and_safe_names() {
    let w = world();
    let engine = w.reopen().with_limits(Limits { attachment_max_bytes: 1024, ..Limits::default() });
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let add = |name: &str, bytes: Vec<u8>| {
        engine.execute(
            &alex(),
            Command::AddAttachment {
                case_id: case,
                file_name: name.into(),
                content_type: "image/png".into(),
                content: bytes,
            },
        )
    };
    let snap = w.snapshot();
    let e = add("big.png", vec![0; 1025]).unwrap_err();
    assert_eq!(e.to_string(), "attachment 'big.png' is 1025 bytes; the limit is 1024 bytes");
    let e = add("../../etc/passwd", b"x".to_vec()).unwrap_err();
    assert_eq!(e.code(), "invalid_file_name");
    assert_eq!(snap, w.snapshot());
    add("router photo.png", b"PNG bytes".to_vec()).unwrap();
    add("copy.png", b"PNG bytes".to_vec()).unwrap();
    let atts = engine.case_detail(case).unwrap().attachments;
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].sha256, atts[1].sha256);
    let ada = engine.users().unwrap().into_iter().find(|u| u.id == "ada").unwrap();
    for a in &atts {
        assert_eq!(engine.attachment_for(&ada, a.id).unwrap().1.as_deref(), Some(&b"PNG bytes"[..]));
    }
    // On SQLite the content is one file under its hash (on PostgreSQL, one row).
    if w.database.is_none() {
        let path = engine.attachment_path(&atts[0].sha256);
        assert_eq!(std::fs::read(&path).unwrap(), b"PNG bytes");
        assert!(path.starts_with(w.dir.path().join("attachments")));
    }
}

#[test]
fn the_demo_workspace_seeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine =
        casedesk_core::Engine::open(dir.path(), std::sync::Arc::new(casedesk_core::SystemClock), Default::default())
            .unwrap();
    assert!(casedesk_core::demo::seed(&engine).unwrap());
    assert!(!casedesk_core::demo::seed(&engine).unwrap());
    assert_eq!(engine.case_types().unwrap().len(), 6);
    let cases = engine.case_summaries(100, 0).unwrap();
    assert_eq!(cases.len(), 7);
    assert!(cases.iter().any(|c| c.status_category == StatusCategory::Closed));
}

#[test]
fn the_engine_uses_the_stored_roles_not_the_claimed_ones() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    let alex_claiming_more =
        casedesk_core::Actor::new("alex", &[casedesk_core::Role::Supervisor, casedesk_core::Role::Admin]);
    let e = w
        .engine
        .execute(&alex_claiming_more, Command::AssignTask { task_id: task.id, assignee: "bea".into() })
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = w
        .engine
        .execute(&alex_claiming_more, Command::PublishCaseType { file_name: "x.toml".into(), source: "id = 1".into() })
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

#[test]
fn agents_take_work_only_from_their_teams_queues() {
    let w = world();
    let case = w.create_case(&bea(), "finance", json!({ "invoice_number": "INV-000001" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    let e = w.engine.execute(&alex(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap_err();
    assert_eq!(e.to_string(), "alex may not take this task: alex is not a member of queue Finances_group_B");
    w.engine.execute(&bea(), Command::AssignTask { task_id: task.id, assignee: "bea".into() }).unwrap();
}

/// A plan that sends work back out of a parallel stage, and a closed status that leads
/// to another closed status.
const CHECKS: &str = r#"
id = "checks"
name = "Checks"
reference_prefix = "CHK"
[sla]
duration = 1
unit = "days"
time = "calendar"
[statuses]
initial = "open"
on_complete = "done"
[[statuses.status]]
id = "open"
label = "Open"
category = "open"
next = ["done"]
[[statuses.status]]
id = "done"
label = "Done"
category = "closed"
next = ["archived"]
[[statuses.status]]
id = "archived"
label = "Archived"
category = "closed"
[[stages]]
id = "intake"
name = "Intake"
[[stages.steps]]
id = "capture"
name = "Capture"
kind = "generic"
queue = "Employees_group_A"
[[stages.steps.outcomes]]
code = "done"
label = "Done"
then = "next"
[[stages]]
id = "checks"
name = "Checks"
parallel = true
[[stages.steps]]
id = "kyc"
name = "KYC"
kind = "generic"
queue = "Employees_group_A"
[[stages.steps.outcomes]]
code = "passed"
label = "Passed"
then = "next"
[[stages.steps.outcomes]]
code = "redo"
label = "Capture again"
then = "send_back"
step = "capture"
[[stages.steps]]
id = "credit"
name = "Credit"
kind = "generic"
queue = "Employees_group_A"
[[stages.steps.outcomes]]
code = "passed"
label = "Passed"
then = "next"
[[stages]]
id = "decide"
name = "Decide"
[[stages.steps]]
id = "approve"
name = "Approve"
kind = "approval"
queue = "Team_Supervisor"
[[stages.steps.outcomes]]
code = "approve"
label = "Approve"
then = "next"
[[stages.steps.outcomes]]
code = "reject"
label = "Reject"
then = "close"
"#;

#[test]
fn sending_work_back_out_of_a_parallel_stage_cancels_the_other_branch() {
    let w = world();
    w.engine
        .execute(&admin(), Command::PublishCaseType { file_name: "checks.toml".into(), source: CHECKS.into() })
        .unwrap();
    let case = w.create_case(&alex(), "checks", json!({})).unwrap();
    let capture = w.open_tasks(case).remove(0);
    w.finish(capture.id, &alex(), "done", json!({}), None).unwrap();
    let branches = w.open_tasks(case);
    assert_eq!(branches.len(), 2);
    let kyc = branches.iter().find(|t| t.step == "kyc").unwrap();
    let credit = branches.iter().find(|t| t.step == "credit").unwrap();
    w.finish(kyc.id, &bea(), "redo", json!({}), None).unwrap();
    // Only the capture is open again, for the person who did it; the credit branch is cancelled.
    let open = w.open_tasks(case);
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].step.as_str(), open[0].preferred_agent.as_deref()), ("capture", Some("alex")));
    w.engine.execute(&alex(), Command::AssignTask { task_id: open[0].id, assignee: "alex".into() }).unwrap();
    assert_eq!(w.tasks(case).iter().find(|t| t.id == credit.id).unwrap().state, TaskState::Cancelled);
    assert_eq!(w.case(case).stage.as_deref(), Some("intake"));
    // The capture done again starts both checks afresh; both must pass before the decision.
    w.engine
        .execute(
            &alex(),
            Command::CompleteTask {
                task_id: open[0].id,
                outcome: "done".into(),
                form_values: obj(json!({})),
                reason: None,
            },
        )
        .unwrap();
    let again = w.open_tasks(case);
    assert_eq!(again.len(), 2);
    for t in &again {
        w.finish(t.id, &bea(), "passed", json!({}), None).unwrap();
    }
    let decide = w.open_tasks(case);
    assert_eq!(decide.len(), 1);
    assert_eq!(decide[0].step, "approve");
    w.finish(decide[0].id, &sam(), "approve", json!({}), None).unwrap();
    assert_eq!(w.case(case).status, "done");
    assert_eq!(w.tasks(case).iter().filter(|t| t.step == "approve").count(), 1, "the plan ran once");

    // From one closed status to another: a plain status change, not a second closing.
    let r = w
        .engine
        .execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: "archived".into(), reason: None })
        .unwrap();
    assert_eq!(r.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["case_status_changed"]);
    let c = w.case(case);
    assert_eq!((c.status.as_str(), c.status_category), ("archived", StatusCategory::Closed));
    assert!(w.open_tasks(case).is_empty());
}

/// Text with a NUL character is refused wherever the workspace is kept (PostgreSQL cannot
/// hold one), naming the field, and nothing is written.
#[test]
fn text_with_a_nul_character_is_refused_by_name() {
    let w = world();
    let case = w.create_case(&bea(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let snap = w.snapshot();
    let e = w.engine.execute(&bea(), Command::AddNote { case_id: case, body: "a\u{0}b".into() }).unwrap_err();
    assert_eq!(e.to_string(), "body: must not contain NUL characters");
    let e = w.create_case(&bea(), "technical", serde_json::json!({ "device": "Rou\u{0}ter" })).unwrap_err();
    assert_eq!(e.to_string(), "fields.device: must not contain NUL characters");
    assert_eq!(snap, w.snapshot());
}
