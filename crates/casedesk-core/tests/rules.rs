//! Business rules: refused when saved with the line and position; classification on
//! creation; routing requirements that reach the right agent; timed rules with a test
//! clock, once across restarts; failures skipped and logged; cross-field checks; the dry
//! run. The clock starts Tuesday 2026-11-24 09:00 UTC.

mod common;

use casedesk_core::casetype::{load_case_type, load_rule_set};
use casedesk_core::demo::RoutingSetup;
use casedesk_core::model::{Priority, StatusCategory, TaskState};
use casedesk_core::routing::Presence;
use casedesk_core::{Actor, Command};
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

/// A service case type with rules of every trigger.
const SERVICE: &str = r#"
id = "service"
name = "Service"
reference_prefix = "SRV"
sla = { duration = 10, unit = "days", time = "calendar" }
intents = [{ id = "general", label = "General" }, { id = "complaint", label = "Complaint" }]

[[fields]]
id = "language"
label = "Language"
type = "choice"
choices = ["en", "de"]

[[fields]]
id = "segment"
label = "Segment"
type = "choice"
choices = ["consumer", "gold"]

[[fields]]
id = "start_date"
label = "Start"
type = "date"

[[fields]]
id = "end_date"
label = "End"
type = "date"

[[checks]]
field = "end_date"
rule = "start_date == () || end_date > start_date"
message = "must be after the start date"

[statuses]
initial = "new"
on_complete = "done"
status = [
  { id = "new", label = "New", category = "open", next = ["waiting", "done"] },
  { id = "waiting", label = "Waiting on the customer", category = "waiting", next = ["new", "done"] },
  { id = "done", label = "Done", category = "closed" },
  { id = "no_response", label = "No response", category = "closed" },
]

[[stages]]
id = "work"
name = "Work"

[[stages.steps]]
id = "handle"
name = "Handle the request"
kind = "generic"
queue = "Employees_group_A"
ola = { duration = 5, unit = "days", time = "calendar" }
outcomes = [{ code = "done", label = "Done", then = "next" }]

[[rules]]
id = "complaints_first"
label = "Complaints are urgent and owned by the supervisor"
on = "case_created"
if = 'intent == "complaint"'
actions = [{ set_priority = 1 }, { set_owner = "sam" }]

[[rules]]
id = "recent_start"
on = "case_created"
if = 'days_between(start_date, today) < 7'
actions = [{ raise_priority = 1 }]

[[rules]]
id = "german"
on = "task_created"
if = 'language != ()'
actions = [{ require_language = { expr = "language" } }]

[[rules]]
id = "gold"
on = "task_created"
if = 'segment == "gold"'
actions = [{ require_skill = { skill = "gold_service", min = 3 } }, { raise_priority = 1 }]

[[rules]]
id = "unassigned_before_due"
on = "timer"
timer = { from = "task_due", before = { days = 3 } }
if = 'task.state == "queued"'
actions = [
  { raise_priority = 1 },
  { notify = { recipients = ["supervisor"], subject = "Unassigned: {{ case.reference }}", body = "{{ task.name }} is due in 3 days." } },
]

[[rules]]
id = "remind"
on = "timer"
timer = { from = "status_entered", after = { days = 10 } }
if = 'status == "waiting"'
actions = [{ add_note = "Reminder sent: 10 days without an answer." }]

[[rules]]
id = "give_up"
on = "timer"
timer = { from = "status_entered", after = { days = 20 } }
if = 'status == "waiting"'
actions = [{ close_case = { status = "no_response", reason = "No response from the customer" } }]
"#;

fn publish(w: &World, source: &str) -> casedesk_core::Result<casedesk_core::Executed> {
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "service.toml".into(), source: source.into() })
}

fn service_world() -> World {
    let w = world();
    publish(&w, SERVICE).unwrap();
    w
}

fn create(w: &World, actor: &Actor, intent: Option<&str>, fields: Value) -> casedesk_core::Result<Uuid> {
    let r = w.engine.execute(
        actor,
        Command::CreateCase {
            case_type: "service".into(),
            intent: intent.map(String::from),
            customer_id: None,
            subject: "Help".into(),
            description: String::new(),
            fields: obj(fields),
            priority: None,
            interaction_id: None,
            contact: None,
            external_id: None,
        },
    )?;
    Ok(created(&r))
}

fn history(w: &World, case: Uuid, kind: &str) -> Vec<Value> {
    w.engine.case_detail(case).unwrap().history.into_iter().filter(|e| e.kind == kind).map(|e| e.after).collect()
}

fn rules_fired(w: &World, case: Uuid) -> Vec<String> {
    history(w, case, "rule_applied").iter().map(|a| a["rule"].as_str().unwrap().to_string()).collect()
}

/// The service file with `rule` (TOML of one `[[rules]]` entry) in place of its rules.
fn with_rule(rule: &str) -> String {
    let start = SERVICE.find("[[rules]]").unwrap();
    format!("{}{rule}", &SERVICE[..start])
}

fn refused(source: &str) -> String {
    load_case_type("service.toml", source).unwrap_err().to_string()
}

#[test]
fn a_bad_rule_is_refused_when_saved_with_its_line_and_position() {
    let line_of = |source: &str, needle: &str| source[..source.find(needle).unwrap()].matches('\n').count() + 1;
    // An unknown field: the line of the condition and the column in it.
    let src = with_rule(
        "[[rules]]\nid = \"x\"\non = \"case_created\"\nif = 'segmnt == \"gold\"'\nactions = [{ raise_priority = 1 }]\n",
    );
    let e = refused(&src);
    let line = line_of(&src, "if = 'segmnt");
    assert!(e.starts_with(&format!("service.toml:{line}: rule 'x': condition: ")), "{e}");
    assert!(e.contains("segmnt") && e.contains("line 1, column 1 of the expression"), "{e}");
    // A syntax error.
    let src = with_rule("[[rules]]\nid = \"x\"\non = \"case_created\"\nif = 'language == \"de\" &&'\nactions = [{ raise_priority = 1 }]\n");
    assert!(refused(&src).contains("rule 'x': condition:"), "{}", refused(&src));
    // Statements, loops and unknown functions are not expressions.
    let src = with_rule(
        "[[rules]]\nid = \"x\"\non = \"case_created\"\nif = 'let a = 1; a == 1'\nactions = [{ raise_priority = 1 }]\n",
    );
    assert!(refused(&src).contains("rule 'x': condition:"));
    // An action that does not fit the trigger.
    let src = with_rule(
        "[[rules]]\nid = \"x\"\non = \"case_created\"\nactions = [{ require_skill = { skill = \"gold\", min = 2 } }]\n",
    );
    let e = refused(&src);
    assert!(e.ends_with("rule 'x': require_skill cannot be used on case creation"), "{e}");
    assert!(e.starts_with(&format!("service.toml:{}:", line_of(&src, "actions = [{ require_skill"))), "{e}");
    // Limits: the length of an expression, the number of actions.
    let long = format!("language == \"de\"{}", " || language == \"en\"".repeat(120));
    let src = with_rule(&format!(
        "[[rules]]\nid = \"x\"\non = \"case_created\"\nif = '{long}'\nactions = [{{ raise_priority = 1 }}]\n"
    ));
    assert!(refused(&src).contains("at most 2000 bytes"), "{}", refused(&src));
    let many = vec!["{ raise_priority = 1 }"; 21].join(", ");
    let src = with_rule(&format!("[[rules]]\nid = \"x\"\non = \"case_created\"\nactions = [{many}]\n"));
    assert!(refused(&src).contains("needs 1 to 20 actions"));
    // A timer rule without its timer; a status the type does not have.
    let src = with_rule("[[rules]]\nid = \"x\"\non = \"timer\"\nactions = [{ add_note = \"n\" }]\n");
    assert!(refused(&src).contains("a timer rule needs a [timer]"));
    let src = with_rule("[[rules]]\nid = \"x\"\non = \"timer\"\ntimer = { from = \"case_created\", after = { days = 1 } }\nactions = [{ change_status = { status = \"lost\" } }]\n");
    assert!(refused(&src).contains("'lost' is not a status of Service"));
    // A field named like a rule variable, and an unknown field in a check.
    let src = SERVICE.replace("id = \"segment\"", "id = \"priority\"");
    assert!(refused(&src).contains("field 'priority' has the name of a rule variable"), "{}", refused(&src));
    let src = SERVICE.replace("rule = \"start_date == () || end_date > start_date\"", "rule = \"end_date > begin\"");
    assert!(refused(&src).contains("check on 'end_date'") && refused(&src).contains("begin"));
    // Publishing a bad file changes nothing.
    let w = world();
    let before = w.snapshot();
    assert_eq!(publish(&w, &src).unwrap_err().code(), "case_type_invalid");
    assert_eq!(w.snapshot(), before);
}

#[test]
fn the_workspace_rules_are_checked_like_a_case_types() {
    let ok = "[[rules]]\nid = \"vip\"\non = \"case_created\"\nif = 'customer.segment == \"gold\"'\nactions = [{ raise_priority = 1 }]\n";
    assert_eq!(load_rule_set("rules.toml", ok).unwrap().rules.len(), 1);
    // Workspace rules see fields only through the `fields` map: a type's field by name is unknown.
    let e = load_rule_set("rules.toml", &ok.replace("customer.segment", "segment")).unwrap_err().to_string();
    assert!(e.starts_with("rules.toml:4: rule 'vip': condition:") && e.contains("segment"), "{e}");
    let e = load_rule_set("rules.toml", &ok.replace("on = \"case_created\"", "on = \"someday\"")).unwrap_err();
    assert!(e.to_string().starts_with("rules.toml:3:"), "{e}");
}

#[test]
fn creation_rules_classify_the_case_and_the_history_says_which_rule_did_what() {
    let w = service_world();
    let case = create(&w, &alex(), Some("complaint"), json!({})).unwrap();
    let c = w.case(case);
    assert_eq!((c.priority, c.owner.as_deref()), (1, Some("sam")));
    let applied = history(&w, case, "rule_applied");
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["rule"], "service:complaints_first");
    assert_eq!(
        applied[0]["effects"],
        json!([
            { "action": "set_priority", "detail": "3 → 1" },
            { "action": "set_owner", "detail": "alex → sam" },
        ])
    );
    // The rule acts on the case as it is written: its first task has the case's priority.
    assert_eq!(w.open_tasks(case)[0].priority, 1);
    let plain = create(&w, &alex(), Some("general"), json!({})).unwrap();
    assert_eq!((w.case(plain).priority, w.case(plain).owner.as_deref()), (3, Some("alex")));
}

#[test]
fn a_workspace_rule_can_change_the_type_once_and_the_new_types_rules_apply() {
    let w = service_world();
    let complaints = SERVICE
        .replace("id = \"service\"", "id = \"complaint\"")
        .replace("\"SRV\"", "\"CMP\"")
        .replace("name = \"Service\"", "name = \"Complaint\"");
    w.engine
        .execute(&admin(), Command::PublishCaseType { file_name: "complaint.toml".into(), source: complaints })
        .unwrap();
    let rules = r#"
[[rules]]
id = "complaints_are_their_own_type"
on = "case_created"
if = 'case_type == "service" && intent == "complaint"'
actions = [{ set_case_type = "complaint" }]

[[rules]]
id = "to_an_unknown_type"
on = "case_created"
if = 'intent == "general"'
actions = [{ set_case_type = "nonexistent" }]
"#;
    let r = w
        .engine
        .execute(&admin(), Command::DefineWorkspaceRules { file_name: "rules.toml".into(), source: rules.into() })
        .unwrap();
    assert_eq!(r.warnings, ["rule 'to_an_unknown_type' sets case type 'nonexistent', which is not published yet"]);
    let case = create(&w, &alex(), Some("complaint"), json!({ "language": "de" })).unwrap();
    let c = w.case(case);
    assert_eq!((c.case_type.as_str(), c.reference.as_str()), ("complaint", "CMP-000001"));
    // The complaint type's own creation rule ran too.
    assert_eq!(rules_fired(&w, case)[..2], ["*:complaints_are_their_own_type", "complaint:complaints_first"]);
    assert_eq!((c.priority, c.owner.as_deref()), (1, Some("sam")));
    // A rule that cannot act is skipped and logged; the case is created as asked.
    let general = create(&w, &alex(), Some("general"), json!({})).unwrap();
    assert_eq!(w.case(general).case_type, "service");
    let failed = history(&w, general, "rule_failed");
    assert_eq!(failed[0]["rule"], "*:to_an_unknown_type");
    assert_eq!(failed[0]["error"], "'nonexistent' is not a published case type");
}

#[test]
fn a_rule_that_fails_at_run_time_is_skipped_logged_and_never_blocks_the_case() {
    let w = service_world();
    // `recent_start` compares a date with nothing when no start date is given.
    let case = create(&w, &alex(), None, json!({})).unwrap();
    let failed = history(&w, case, "rule_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["rule"], "service:recent_start");
    assert!(failed[0]["error"].as_str().unwrap().contains("days_between"), "{}", failed[0]["error"]);
    assert_eq!(w.case(case).priority, 3);
    assert_eq!(w.open_tasks(case).len(), 1);
    // With a start date it applies.
    let case = create(&w, &alex(), None, json!({ "start_date": "2026-11-20" })).unwrap();
    assert_eq!(w.case(case).priority, 2);
    assert!(history(&w, case, "rule_failed").is_empty());
}

#[test]
fn cross_field_checks_refuse_with_the_rules_message_and_change_nothing() {
    let w = service_world();
    let before = w.snapshot();
    let e = create(&w, &alex(), None, json!({ "start_date": "2026-12-10", "end_date": "2026-12-01" })).unwrap_err();
    assert_eq!(e.to_string(), "end_date: must be after the start date");
    assert_eq!(w.snapshot(), before);
    let case = create(&w, &alex(), None, json!({ "start_date": "2026-12-01", "end_date": "2026-12-10" })).unwrap();
    let e = w
        .engine
        .execute(
            &alex(),
            Command::UpdateCaseFields {
                case_id: case,
                fields: obj(json!({ "end_date": "2026-11-30" })),
                external_id: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "end_date: must be after the start date");
    // Without a start date the rule's own guard lets any end date through.
    create(&w, &alex(), None, json!({ "end_date": "2026-12-01" })).unwrap();
}

/// The case owner is waited for first (the queue's preferred-agent window); then routing
/// offers the task to whoever fits.
fn after_the_owners_window(w: &World) {
    w.clock.advance(Duration::seconds(121));
    w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
}

fn ready(w: &World, who: &Actor) {
    w.engine.execute(who, Command::SetPresence { presence: Presence::Available, secondary: None }).unwrap();
    w.engine.execute(who, Command::SetOnQueue { on_queue: true }).unwrap();
}

#[test]
fn routing_requirements_from_rules_reach_the_german_speaking_gold_agent() {
    let w = service_world();
    casedesk_core::demo::configure_routing(&w.engine, RoutingSetup::Demo).unwrap();
    let dana = Actor::new("dana", &[casedesk_core::Role::Agent]);
    for who in [&alex(), &sam(), &dana] {
        ready(&w, who);
    }
    let case = create(&w, &bea(), None, json!({ "language": "de", "segment": "gold" })).unwrap();
    after_the_owners_window(&w);
    let task = w.open_tasks(case).remove(0);
    assert_eq!(task.requirements.language.as_deref(), Some("de"));
    assert_eq!(task.requirements.skills.get("gold_service"), Some(&3));
    assert_eq!(task.priority, 2 as Priority);
    assert_eq!((task.state, task.offered_to.as_deref()), (TaskState::Offered, Some("dana")));
    w.engine.execute(&dana, Command::AcceptOffer { task_id: task.id }).unwrap();
    assert_eq!(rules_fired(&w, case), ["service:german", "service:gold"]);
    let gold = &history(&w, case, "rule_applied")[1]["effects"];
    assert_eq!(
        gold,
        &json!([{ "action": "require_skill", "detail": "gold_service at least 3" }, { "action": "raise_priority", "detail": "3 → 2" }])
    );
    // Without those fields, the task is anyone's in the queue.
    let plain = create(&w, &bea(), None, json!({})).unwrap();
    after_the_owners_window(&w);
    let t = w.open_tasks(plain).remove(0);
    assert!(t.requirements.language.is_none() && t.requirements.skills.is_empty());
    assert!(matches!(t.offered_to.as_deref(), Some("alex" | "sam")), "dana has her offer to answer first");
    // The technical demo type carries the same rules: German and gold go to dana too.
    let tec =
        w.create_case(&bea(), "technical", json!({ "device": "Router", "language": "de", "segment": "gold" })).unwrap();
    after_the_owners_window(&w);
    let t = w.open_tasks(tec).remove(0);
    assert_eq!((t.offered_to.as_deref(), t.priority), (Some("dana"), 2));
}

fn tick(w: &World) {
    w.engine.run_due_timers().unwrap();
}

#[test]
fn a_stale_task_has_its_priority_raised_once_also_across_a_restart() {
    let mut w = service_world();
    // A clock finer than the store's milliseconds, as the system clock is.
    w.clock.advance(Duration::nanoseconds(123_456_789));
    let case = create(&w, &alex(), None, json!({})).unwrap();
    let task = w.open_tasks(case).remove(0);
    // The OLA is 5 days: the rule looks 3 days before, on day 2.
    w.clock.advance(Duration::days(2) - Duration::minutes(1));
    tick(&w);
    assert_eq!(w.open_tasks(case)[0].priority, 3, "not yet");
    // The app stops and starts again before the instant: the timer is still there.
    w.engine = w.reopen();
    w.clock.advance(Duration::minutes(2));
    tick(&w);
    assert_eq!(w.open_tasks(case)[0].priority, 2);
    assert_eq!(rules_fired(&w, case), ["service:unassigned_before_due"]);
    let changed = history(&w, case, "task_priority_changed");
    assert_eq!(changed, [json!({ "priority": 2, "rule": "service:unassigned_before_due" })]);
    let told: Vec<_> = w.engine.delivery_log(None, 10).unwrap().into_iter().map(|d| d.delivery).collect();
    let told: Vec<_> = told
        .iter()
        .filter(|d| d.rule_id == "rule:service:unassigned_before_due")
        .map(|d| d.recipient.as_str())
        .collect();
    assert_eq!(told, ["sam"], "the supervisor of the queue is told");
    // Restarting after it fired does not fire it again, nor does time going on.
    w.engine = w.reopen();
    tick(&w);
    w.clock.advance(Duration::days(10));
    tick(&w);
    assert_eq!(rules_fired(&w, case).len(), 1);
    assert_eq!(w.tasks(case).iter().find(|t| t.id == task.id).unwrap().priority, 2);
}

#[test]
fn a_timed_rule_whose_condition_no_longer_holds_does_nothing() {
    let w = service_world();
    let case = create(&w, &alex(), None, json!({})).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&sam(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    w.clock.advance(Duration::days(3));
    tick(&w);
    assert!(rules_fired(&w, case).is_empty());
    assert_eq!(w.open_tasks(case)[0].priority, 3);
}

#[test]
fn waiting_on_the_customer_reminds_after_10_days_and_closes_after_20_counting_from_the_last_wait() {
    let w = service_world();
    let case = create(&w, &alex(), None, json!({})).unwrap();
    let status = |s: &str| {
        w.engine.execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: s.into(), reason: None }).unwrap();
    };
    status("waiting");
    w.clock.advance(Duration::days(5));
    status("new");
    w.clock.advance(Duration::days(1));
    status("waiting");
    // Day 15 is 10 days into the second wait, not 15 into the first.
    w.clock.advance(Duration::days(9));
    tick(&w);
    assert!(history(&w, case, "note_added").is_empty());
    w.clock.advance(Duration::days(1) + Duration::minutes(1));
    tick(&w);
    let notes = w.engine.case_detail(case).unwrap().notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].body, "Reminder sent: 10 days without an answer.");
    w.clock.advance(Duration::days(10));
    tick(&w);
    let c = w.case(case);
    assert_eq!((c.status.as_str(), c.status_category), ("no_response", StatusCategory::Closed));
    assert!(w.open_tasks(case).is_empty(), "closing cancels the open task");
    let closed = history(&w, case, "case_closed");
    assert_eq!(closed[0]["reason"], "No response from the customer");
    // (The task waited unassigned all along: the stale-task rule fired on day 2.)
    assert_eq!(rules_fired(&w, case), ["service:unassigned_before_due", "service:remind", "service:give_up"]);
    // Nothing fires on a closed case, however long it stays closed.
    w.clock.advance(Duration::days(40));
    tick(&w);
    assert_eq!(rules_fired(&w, case).len(), 3);
}

#[test]
fn a_dry_run_shows_what_a_rule_would_do_and_changes_nothing() {
    let w = service_world();
    let case = create(&w, &alex(), None, json!({ "language": "de", "segment": "gold" })).unwrap();
    let reference = w.case(case).reference;
    let before = w.snapshot();
    let rule = "id = \"vip\"\non = \"task_created\"\nif = 'segment == \"gold\"'\nactions = [{ route_to = \"Expert_group_X\" }, { set_priority = 1 }]\n";
    let trial = w.engine.try_rule(&admin(), &reference, rule, false).unwrap();
    assert_eq!(trial.subjects.len(), 1);
    let s = &trial.subjects[0];
    assert!(s.matched && s.error.is_none());
    let effects: Vec<_> = s.effects.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(effects, ["Employees_group_A → Expert_group_X", "2 → 1"]);
    // A timed rule: when it would look, and what it would do (really done, then rolled back).
    let timed = "id = \"close\"\non = \"timer\"\ntimer = { from = \"case_created\", after = { days = 30 } }\nactions = [{ close_case = { reason = \"old\" } }]\n";
    let trial = w.engine.try_rule(&admin(), &reference, timed, false).unwrap();
    assert_eq!(trial.subjects[0].due_at, Some(w.case(case).created_at + Duration::days(30)));
    assert_eq!(trial.subjects[0].effects[0].detail, "new → done: old");
    assert_eq!(w.snapshot(), before, "a dry run changes nothing");
    assert_eq!(w.case(case).status_category, StatusCategory::Open);
    // A rule that would not parse says where; only admins try rules.
    let e = w.engine.try_rule(
        &admin(),
        &reference,
        "id = \"x\"\non = \"task_created\"\nif = 'segmnt'\nactions = [{ set_priority = 1 }]\n",
        false,
    );
    assert!(e.unwrap_err().to_string().starts_with("rule:3: rule 'x': condition:"));
    assert_eq!(w.engine.try_rule(&alex(), &reference, rule, false).unwrap_err().code(), "forbidden");
}

#[test]
fn link_templates_are_filled_in_for_the_case_view() {
    let w = world();
    let r = w
        .engine
        .execute(
            &alex(),
            Command::CreateCustomer {
                name: "Maria Keller".into(),
                email: None,
                phone: None,
                external_id: Some("CRM-4711".into()),
                extra: Default::default(),
            },
        )
        .unwrap();
    let customer: Uuid = created(&r);
    let r = w
        .engine
        .execute(
            &alex(),
            Command::CreateCase {
                case_type: "technical".into(),
                intent: None,
                customer_id: Some(customer),
                subject: "No line".into(),
                description: String::new(),
                fields: obj(json!({ "device": "Modem" })),
                priority: None,
                interaction_id: None,
                contact: None,
                external_id: None,
            },
        )
        .unwrap();
    let links = w.engine.case_detail(created(&r)).unwrap().links;
    let links: Vec<(&str, &str)> = links.iter().map(|l| (l.label.as_str(), l.url.as_str())).collect();
    assert_eq!(
        links,
        [
            ("Customer in the CRM", "https://crm.example/customer/CRM-4711"),
            ("Service status for this case", "https://status.example/cases/TEC-000001"),
        ]
    );
    // Without a customer there is no customer to link to.
    let other = w.create_case(&alex(), "technical", json!({ "device": "Modem" })).unwrap();
    let links = w.engine.case_detail(other).unwrap().links;
    assert_eq!(links.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(), ["Service status for this case"]);
}

#[test]
fn workspace_timed_rules_reach_open_cases_nothing_touches_and_follow_a_changed_offset() {
    let w = service_world();
    let idle = create(&w, &alex(), None, json!({})).unwrap();
    let rules = |days: u32| {
        format!(
            "[[rules]]\nid = \"look_again\"\non = \"timer\"\ntimer = {{ from = \"case_created\", after = {{ days = {days} }} }}\nactions = [{{ add_note = \"Looked at again.\" }}]\n"
        )
    };
    let define = |source: String| {
        w.engine.execute(&admin(), Command::DefineWorkspaceRules { file_name: "rules.toml".into(), source }).unwrap();
    };
    define(rules(1));
    // The timer service sweeps the open cases: the idle one gets its timer.
    w.engine.run_due_work().unwrap();
    let notes = |w: &World| w.engine.case_detail(idle).unwrap().notes.len();
    // The admin changes the offset before it fires: the timer follows.
    define(rules(3));
    w.engine.run_due_work().unwrap();
    w.clock.advance(Duration::days(2));
    w.engine.run_due_work().unwrap();
    assert_eq!(notes(&w), 0, "not after one day any more");
    w.clock.advance(Duration::days(1) + Duration::minutes(1));
    w.engine.run_due_work().unwrap();
    assert_eq!(notes(&w), 1);
    assert_eq!(rules_fired(&w, idle).iter().filter(|r| *r == "*:look_again").count(), 1);
    w.clock.advance(Duration::days(5));
    w.engine.run_due_work().unwrap();
    assert_eq!(notes(&w), 1, "once");
}

#[test]
fn a_route_to_an_unknown_queue_is_skipped_with_the_reason() {
    let w = service_world();
    let case = create(&w, &alex(), None, json!({ "segment": "gold" })).unwrap();
    let reference = w.case(case).reference;
    let rule = "id = \"lost\"\non = \"task_created\"\nactions = [{ route_to = \"Nowhere\" }]\n";
    let trial = w.engine.try_rule(&admin(), &reference, rule, false).unwrap();
    assert_eq!(trial.subjects[0].error.as_deref(), Some("'Nowhere' is not a defined queue or workbin"));
}
