//! The demo workspace: the shipped case types, a small team, customers and cases in
//! several states, so a new user sees a working desk at first start.

pub mod notifications;

use crate::command::Command;
use crate::error::Result;
use crate::fields::FieldDef;
use crate::model::{Actor, Channel, Role};
use crate::routing::{AgentProfile, Capacity, Presence, QueueConfig, QueueMode, Ring};
use crate::Engine;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The case-type files that ship with the app.
pub const CASE_TYPES: &[(&str, &str)] = &[
    ("technical.toml", include_str!("../../demo/technical.toml")),
    ("finance.toml", include_str!("../../demo/finance.toml")),
    ("replacement.toml", include_str!("../../demo/replacement.toml")),
    ("refund.toml", include_str!("../../demo/refund.toml")),
    ("business_account.toml", include_str!("../../demo/business_account.toml")),
    ("urgent_callback.toml", include_str!("../../demo/urgent_callback.toml")),
];

/// The rules for every case type that ship with the app.
pub const WORKSPACE_RULES: &str = include_str!("../../demo/rules.toml");

/// The demo team: (id, name, roles, teams).
pub const USERS: &[(&str, &str, &[Role], &[&str])] = &[
    ("ada", "Ada Admin", &[Role::Admin], &[]),
    (
        "sam",
        "Sam Supervisor",
        &[Role::Supervisor, Role::Agent],
        &["Employees_group_A", "Finances_group_B", "Team_Supervisor"],
    ),
    ("alex", "Alex Advisor", &[Role::Agent], &["Employees_group_A"]),
    ("bea", "Bea Billing", &[Role::Agent], &["Finances_group_B"]),
    ("chris", "Chris Expert", &[Role::Agent], &["Expert_group_X"]),
    ("dana", "Dana Wagner", &[Role::Agent], &["Employees_group_A"]),
];

/// The demo's customer profile: segment, preferred language, customer since.
pub fn customer_fields() -> Vec<FieldDef> {
    serde_json::from_value(json!([
        { "id": "segment", "label": "Segment", "type": "choice", "choices": ["consumer", "business", "gold"] },
        { "id": "language", "label": "Preferred language", "type": "choice", "choices": ["en", "de", "fr", "pt"] },
        { "id": "customer_since", "label": "Customer since", "type": "date" }
    ]))
    .expect("the demo's customer fields are valid")
}

/// The skills of the demo workspace.
pub const SKILLS: &[&str] = &["networking", "routers", "billing", "compliance", "logistics", "gold_service"];

/// The demo's queues: who pushes, who is a workbin.
pub fn queues(setup: RoutingSetup) -> Vec<QueueConfig> {
    let push = |id: &str, name: &str| QueueConfig {
        mode: if setup == RoutingSetup::Demo { QueueMode::Push } else { QueueMode::Pull },
        name: name.into(),
        preferred_agent_seconds: 120,
        alert_timeout_seconds: 30,
        off_queue_when_not_responding: true,
        rings: vec![Ring { after_seconds: 600, relax_proficiency: 1, drop_skills: vec![] }],
        ..QueueConfig::pull(id)
    };
    let workbin = |id: &str, name: &str, no_cherry_picking: bool| QueueConfig {
        name: name.into(),
        no_cherry_picking: no_cherry_picking && setup == RoutingSetup::Demo,
        ..QueueConfig::pull(id)
    };
    vec![
        push("Employees_group_A", "First line (group A)"),
        push("Expert_group_X", "Experts (group X)"),
        push("Express_delivery_team", "Express delivery"),
        workbin("Finances_group_B", "Finance back office (group B)", false),
        workbin("Team_Supervisor", "Team supervisor", false),
        workbin("Field_service_group_C", "Field service (group C)", true),
        workbin("Compliance_team", "Compliance", false),
    ]
}

/// A demo routing profile: (user, skills with proficiency, queues).
pub type Profile = (&'static str, &'static [(&'static str, u8)], &'static [&'static str]);

/// The demo team's routing profiles.
pub const PROFILES: &[Profile] = &[
    ("alex", &[("networking", 3), ("routers", 4)], &["Employees_group_A"]),
    ("dana", &[("networking", 3), ("routers", 3), ("gold_service", 4)], &["Employees_group_A"]),
    ("bea", &[("billing", 4), ("compliance", 2)], &["Finances_group_B", "Compliance_team"]),
    (
        "chris",
        &[("networking", 5), ("routers", 5), ("logistics", 3)],
        &["Expert_group_X", "Express_delivery_team", "Field_service_group_C"],
    ),
    (
        "sam",
        &[("networking", 2), ("billing", 3), ("compliance", 4), ("logistics", 2)],
        &[
            "Team_Supervisor",
            "Employees_group_A",
            "Finances_group_B",
            "Field_service_group_C",
            "Compliance_team",
            "Expert_group_X",
        ],
    ),
];

/// The languages each demo agent speaks.
pub fn languages(user: &str) -> &'static [&'static str] {
    match user {
        "dana" => &["en", "de"],
        _ => &["en"],
    }
}

/// The demo uses push queues; tests that drive tasks by hand use workbins only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingSetup {
    Demo,
    WorkbinsOnly,
}

/// Skills, presence labels, queues and the team's routing profiles.
pub fn configure_routing(engine: &Engine, setup: RoutingSetup) -> Result<()> {
    let system = Actor::system();
    engine.execute(&system, Command::DefineSkills { skills: SKILLS.iter().map(|s| s.to_string()).collect() })?;
    let labels = [(Presence::Meal, vec!["Lunch".to_string()]), (Presence::Busy, vec!["Back office".to_string()])];
    engine.execute(&system, Command::DefinePresenceLabels { labels: labels.into_iter().collect() })?;
    for queue in queues(setup) {
        engine.execute(&system, Command::DefineQueue { queue })?;
    }
    for (user, skills, queues) in PROFILES {
        let profile = AgentProfile {
            skills: skills.iter().map(|(s, p)| (s.to_string(), *p)).collect(),
            languages: languages(user).iter().map(|l| l.to_string()).collect(),
            capacity: Capacity { total: 5, per_kind: Default::default() },
            queues: queues.iter().map(|q| q.to_string()).collect(),
        };
        engine.execute(&system, Command::SetAgentProfile { user_id: user.to_string(), profile })?;
    }
    Ok(())
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn id(s: &Option<String>) -> Uuid {
    s.as_deref().and_then(|s| s.parse().ok()).expect("the command created something")
}

/// Fills an empty workspace; does nothing (and returns false) when it has users already.
pub fn seed(engine: &Engine) -> Result<bool> {
    if !engine.users()?.is_empty() {
        return Ok(false);
    }
    let system = Actor::system();
    engine.execute(&system, Command::DefineCalendar { calendar: crate::calendar::CalendarDef::demo_office() })?;
    for (file, source) in CASE_TYPES {
        engine
            .execute(&system, Command::PublishCaseType { file_name: file.to_string(), source: source.to_string() })?;
    }
    for (uid, name, roles, teams) in USERS {
        engine.execute(
            &system,
            Command::CreateUser {
                id: uid.to_string(),
                name: name.to_string(),
                roles: roles.to_vec(),
                teams: teams.iter().map(|t| t.to_string()).collect(),
            },
        )?;
    }
    engine.execute(&system, Command::DefineCustomerFields { fields: customer_fields() })?;
    configure_routing(engine, RoutingSetup::Demo)?;
    engine.execute(
        &system,
        Command::DefineWorkspaceRules { file_name: "rules.toml".into(), source: WORKSPACE_RULES.into() },
    )?;
    let alex = Actor::new("alex", &[Role::Agent]);
    let bea = Actor::new("bea", &[Role::Agent]);
    let sam = Actor::new("sam", &[Role::Supervisor, Role::Agent]);
    let customer = |name: &str, email: &str, phone: &str, ext: &str| -> Result<Uuid> {
        let r = engine.execute(
            &alex,
            Command::CreateCustomer {
                name: name.into(),
                email: Some(email.into()),
                phone: Some(phone.into()),
                external_id: Some(ext.into()),
                extra: obj(json!({ "segment": "consumer" })),
            },
        )?;
        Ok(id(&r.created_id))
    };
    let maria = customer("Maria Keller", "maria.keller@example.com", "+49 30 1234567", "CRM-1001")?;
    let tom = customer("Tom Hughes", "tom.hughes@example.co.uk", "+44 20 7946 0958", "CRM-1002")?;
    let ines = customer("Inês Duarte", "ines.duarte@example.pt", "+351 21 555 0199", "CRM-1003")?;
    let kofi = customer("Kofi Mensah", "kofi@example.com", "+233 30 222 1111", "CRM-1004")?;

    let call = engine.execute(
        &alex,
        Command::CreateInteraction {
            channel: Channel::Voice,
            external_id: Some("CALL-88121".into()),
            customer_id: Some(maria),
            summary: "Internet drops every evening".into(),
            case_id: None,
        },
    )?;
    let create = |actor: &Actor,
                  case_type: &str,
                  intent: &str,
                  customer: Uuid,
                  subject: &str,
                  fields: Value,
                  interaction: Option<Uuid>|
     -> Result<Uuid> {
        let r = engine.execute(
            actor,
            Command::CreateCase {
                case_type: case_type.into(),
                intent: Some(intent.into()),
                customer_id: Some(customer),
                subject: subject.into(),
                description: String::new(),
                fields: obj(fields),
                priority: None,
                interaction_id: interaction,
                contact: None,
                external_id: None,
            },
        )?;
        Ok(id(&r.created_id))
    };
    let tech = create(
        &alex,
        "technical",
        "connectivity",
        maria,
        "Internet drops every evening",
        json!({ "device": "Router", "serial_number": "RT7781234", "contact_phone": "+49 30 1234567" }),
        Some(id(&call.created_id)),
    )?;
    create(
        &alex,
        "technical",
        "device_fault",
        kofi,
        "Set-top box shows no picture",
        json!({ "device": "Set-top box" }),
        None,
    )?;
    let fin = create(
        &bea,
        "finance",
        "billing_dispute",
        tom,
        "Card charged twice for October",
        json!({ "invoice_number": "INV-204519", "disputed_amount": 39.90 }),
        None,
    )?;
    create(
        &alex,
        "replacement",
        "replace_device",
        ines,
        "Replacement router",
        json!({ "device": "Router", "delivery_address": "Rua Augusta 120, 1100-053 Lisboa" }),
        None,
    )?;
    let refund = create(&bea, "refund", "refund_request", tom, "Refund for cancelled order", json!({}), None)?;
    create(
        &sam,
        "business_account",
        "open_business_account",
        kofi,
        "Account for Mensah Trading Ltd",
        json!({ "company_name": "Mensah Trading Ltd", "registration_number": "HRB123456", "contact_email": "office@mensah.example" }),
        None,
    )?;

    engine.execute(
        &alex,
        Command::AddNote {
            case_id: tech,
            body: "Customer reports drops between 19:00 and 22:00; line test pending.".into(),
        },
    )?;
    // Work already under way: Alex takes the diagnosis, Bea the billing check and the refund form.
    let first_task = |case: Uuid| -> Result<Uuid> { engine.read(|db| Ok(db.tasks_of_case(case)?[0].id)) };
    let t = first_task(tech)?;
    engine.execute(&sam, Command::AssignTask { task_id: t, assignee: "alex".into() })?;
    engine.execute(&alex, Command::StartTask { task_id: t })?;
    let t = first_task(fin)?;
    engine.execute(&sam, Command::AssignTask { task_id: t, assignee: "bea".into() })?;
    let t = first_task(refund)?;
    engine.execute(&sam, Command::AssignTask { task_id: t, assignee: "bea".into() })?;
    engine.execute(
        &bea,
        Command::CompleteTask {
            task_id: t,
            outcome: "submit".into(),
            form_values: obj(json!({ "amount": 59.0, "iban": "DE89370400440532013000", "reason": "Returned goods", "payment_date": "2026-10-02" })),
            reason: None,
        },
    )?;
    // One case already settled, for history.
    let done = create(
        &bea,
        "finance",
        "payment_plan",
        maria,
        "Instalments for the annual fee",
        json!({ "invoice_number": "INV-201177" }),
        None,
    )?;
    let t = first_task(done)?;
    engine.execute(&sam, Command::AssignTask { task_id: t, assignee: "bea".into() })?;
    engine.execute(
        &bea,
        Command::CompleteTask {
            task_id: t,
            outcome: "no_error".into(),
            form_values: Map::new(),
            reason: Some("Plan agreed: 3 instalments".into()),
        },
    )?;
    // After the demo cases, so seeding sends nothing.
    notifications::configure(engine)?;
    Ok(true)
}
