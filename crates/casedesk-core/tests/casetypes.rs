mod common;

use casedesk_core::casetype::load_case_type;
use casedesk_core::demo;
use casedesk_core::{Command, Error};
use common::*;
use serde_json::json;

fn err(file: &str, src: &str) -> (usize, String) {
    match load_case_type(file, src) {
        Err(Error::CaseTypeFile { file: f, line, rule }) => {
            assert_eq!(f, file);
            (line, rule)
        }
        other => panic!("expected a case-type error, got {other:?}"),
    }
}

const TECH: &str = demo::CASE_TYPES[0].1;

#[test]
fn every_demo_type_loads() {
    for (file, src) in demo::CASE_TYPES {
        let def = load_case_type(file, src).unwrap_or_else(|e| panic!("{e}"));
        assert!(!def.stages.is_empty());
    }
    let names: Vec<_> = demo::CASE_TYPES.iter().map(|(f, s)| load_case_type(f, s).unwrap().name).collect();
    assert_eq!(names, ["Technical", "Finance", "Replacement", "Refund", "Business account opening", "Urgent callback"]);
}

#[test]
fn demo_types_match_the_brief() {
    let load = |i: usize| load_case_type(demo::CASE_TYPES[i].0, demo::CASE_TYPES[i].1).unwrap();
    let tech = load(0);
    assert_eq!(
        (tech.sla.duration, tech.sla.unit, tech.sla.time),
        (16, casedesk_core::casetype::DurationUnit::Hours, casedesk_core::casetype::TimeBasis::OpenOffice)
    );
    assert_eq!(tech.stages[0].steps[0].queue, "Employees_group_A");
    assert_eq!(tech.stages[0].steps[0].ola.as_ref().unwrap().duration, 12);
    assert_eq!(tech.stages[0].steps[0].escalation.as_deref(), Some("Expert_group_X"));
    let fin = load(1);
    assert_eq!((fin.sla.duration, fin.sla.unit), (3, casedesk_core::casetype::DurationUnit::Days));
    assert_eq!(fin.stages[0].steps[0].queue, "Finances_group_B");
    assert_eq!(fin.stages[0].steps[0].escalation.as_deref(), Some("Team_Supervisor"));
    let rep = load(2);
    assert_eq!(rep.sla.time, casedesk_core::casetype::TimeBasis::Calendar);
    assert_eq!(rep.stages[0].steps[0].ola.as_ref().unwrap().duration, 8);
    assert_eq!(rep.stages[0].steps[0].escalation.as_deref(), Some("Express_delivery_team"));
    let bao = load(4);
    assert!(bao.stages[0].parallel && bao.stages[0].steps.len() == 2);
    assert!(bao.stages.iter().flat_map(|s| &s.steps).any(|s| s.kind == casedesk_core::model::TaskKind::Approval));
    assert!(load(3).stages[0].steps[0].fields.len() >= 5);
}

#[test]
fn syntax_errors_name_file_and_line() {
    let (line, rule) = err("broken.toml", "id = \"x\"\nname = \"X\"\nreference_prefix = \n");
    assert_eq!(line, 3);
    assert!(rule.contains("string values") || rule.contains("value"), "{rule}");
}

#[test]
fn unknown_fields_are_refused_with_their_line() {
    let src = TECH.replace("default_priority = 3", "default_priority = 3\ncolour = \"red\"");
    let (line, rule) = err("tech.toml", &src);
    assert_eq!(line, src.lines().position(|l| l.starts_with("colour")).unwrap() + 1);
    assert!(rule.contains("unknown field `colour`"), "{rule}");
}

#[test]
fn semantic_rules_point_at_the_offending_key() {
    // An outcome leading to a step that does not exist.
    let src = TECH.replace("step = \"triage\"", "step = \"triaje\"");
    let (line, rule) = err("tech.toml", &src);
    assert_eq!(src.lines().nth(line - 1).unwrap(), "step = \"triaje\"");
    assert!(rule.contains("'triaje', which is not defined"), "{rule}");

    // A status transition to nowhere.
    let src = TECH.replace("next = [\"in_progress\", \"waiting_customer\", \"cancelled\"]", "next = [\"in_progres\"]");
    let (line, rule) = err("tech.toml", &src);
    assert_eq!(src.lines().nth(line - 1).unwrap(), "next = [\"in_progres\"]");
    assert!(rule.contains("'in_progres', which is not defined"));

    // A bad regex in a field.
    let src = TECH.replace("pattern = \"[A-Z0-9]{8,12}\"", "pattern = \"[A-Z0-9\"");
    let (line, rule) = err("tech.toml", &src);
    assert!(src.lines().nth(line - 1).unwrap().starts_with("pattern"));
    assert!(rule.contains("not a valid regular expression"));

    // Escalating without a target.
    let src = TECH.replacen("escalation = \"Expert_group_X\"\nescalation_chain = [\"Team_Supervisor\"]\n", "", 1);
    let (_, rule) = err("tech.toml", &src);
    assert!(rule.contains("names no escalation target"), "{rule}");

    // A chain without its first level.
    let src = TECH.replacen("escalation = \"Expert_group_X\"\n", "", 1);
    let (line, rule) = err("tech.toml", &src);
    assert!(src.lines().nth(line - 1).unwrap().starts_with("escalation_chain"));
    assert_eq!(rule, "step 'triage': an escalation chain needs a first escalation target");

    // Sending back to a later step.
    let src = TECH.replace("step = \"triage\"", "step = \"repair\"");
    let (_, rule) = err("tech.toml", &src);
    assert!(rule.contains("leads to itself") || rule.contains("not an earlier step"), "{rule}");

    // A closed initial status.
    let src = TECH.replace("initial = \"new\"", "initial = \"resolved\"");
    let (line, rule) = err("tech.toml", &src);
    assert_eq!(src.lines().nth(line - 1).unwrap(), "initial = \"resolved\"");
    assert!(rule.contains("must not be in the closed category"));

    // Open-office time without a calendar.
    let src = TECH.replacen("calendar = \"office\"\nat_risk_percent = 80", "at_risk_percent = 80", 1);
    let (line, rule) = err("tech.toml", &src);
    assert_eq!(src.lines().nth(line - 1).unwrap(), "time = \"open_office\"");
    assert_eq!(rule, "open_office time needs a calendar");

    // An empty escalation target.
    let src = TECH.replacen("escalation = \"Expert_group_X\"", "escalation = \"\"", 1);
    let (_, rule) = err("tech.toml", &src);
    assert_eq!(rule, "step 'triage': escalation must name a queue or group");

    // A bound that is not a number.
    let src = demo::CASE_TYPES[1].1.replace("min = 0.01", "min = nan");
    let (line, rule) = err("finance.toml", &src);
    assert_eq!(src.lines().nth(line - 1).unwrap(), "min = nan");
    assert_eq!(rule, "field 'disputed_amount': min and max must be finite numbers");

    // Wrong enum value.
    let src = TECH.replace("kind = \"generic\"", "kind = \"magic\"");
    let (line, rule) = err("tech.toml", &src);
    assert_eq!(src.lines().nth(line - 1).unwrap(), "kind = \"magic\"");
    assert!(rule.contains("unknown variant `magic`"), "{rule}");
}

#[test]
fn approval_steps_need_approve_and_reject() {
    let src = demo::CASE_TYPES[3].1.replace("code = \"reject\"", "code = \"refuse\"");
    let (_, rule) = err("refund.toml", &src);
    assert!(rule.contains("needs an outcome with code 'reject'"), "{rule}");
}

#[test]
fn publishing_makes_immutable_versions_and_cases_pin_theirs() {
    let w = world();
    let before = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    // Same content again: no new version.
    let r = w
        .engine
        .execute(&admin(), Command::PublishCaseType { file_name: "technical.toml".into(), source: TECH.into() })
        .unwrap();
    assert!(r.events.is_empty());
    // Changed content: version 2; the open case keeps version 1.
    let v2 = TECH.replace("name = \"Technical\"", "name = \"Technical support\"");
    let r = w
        .engine
        .execute(&admin(), Command::PublishCaseType { file_name: "technical.toml".into(), source: v2 })
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("technical@2"));
    let after = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    assert_eq!((w.case(before).type_version, w.case(before).type_name.as_str()), (1, "Technical"));
    assert_eq!((w.case(after).type_version, w.case(after).type_name.as_str()), (2, "Technical support"));
    // The database itself refuses to change a published version.
    let e =
        w.engine.read(|db| Ok(db.connection_ref().execute("UPDATE case_type_versions SET name = 'x'", []))).unwrap();
    assert!(e.unwrap_err().to_string().contains("immutable"));
}

#[test]
fn only_admins_publish_and_a_bad_file_changes_nothing() {
    let w = world();
    let e = w
        .engine
        .execute(&alex(), Command::PublishCaseType { file_name: "t.toml".into(), source: TECH.into() })
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let snap = w.snapshot();
    let e = w
        .engine
        .execute(&admin(), Command::PublishCaseType { file_name: "t.toml".into(), source: "id = 3".into() })
        .unwrap_err();
    assert_eq!(e.code(), "case_type_invalid");
    assert_eq!(snap, w.snapshot());
}

#[test]
fn an_ola_that_ends_after_the_case_sla_is_published_with_a_warning() {
    let w = world();
    let publish = |src: String| {
        w.engine
            .execute(&admin(), Command::PublishCaseType { file_name: "technical.toml".into(), source: src })
            .unwrap()
    };
    let fine = publish(TECH.replace("name = \"Technical\"", "name = \"Technical (v2)\""));
    assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
    let late = TECH.replacen("ola = { duration = 12, unit = \"hours\"", "ola = { duration = 20, unit = \"hours\"", 1);
    let r = publish(late);
    assert_eq!(
        r.warnings,
        ["step 'triage': its OLA (20 Hours) ends after the case SLA (16 Hours); the case would breach first"]
    );
    assert_eq!(r.events[0].after["warnings"][0], r.warnings[0]);
}
