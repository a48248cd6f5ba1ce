//! Intent suggestion: accuracy on a generated labelled set with a held-out fifth, the
//! demo's phrases in a real workspace, learning from closed cases, and bad input.

mod common;

#[path = "../benches/support/intents.rs"]
mod generated;

use casedesk_core::Command;
use common::*;

#[test]
fn on_a_held_out_fifth_it_beats_guessing_the_most_common_intent_by_a_wide_margin() {
    let samples = generated::generate(2_500, 42);
    let (train, test) = samples.split_at(2_000);
    let a = generated::evaluate(train, test);
    println!(
        "held-out {}: top-1 {:.1}%, top-3 {:.1}%, most-common baseline {:.1}%, suggestion given {:.1}%",
        test.len(),
        100.0 * a.top1,
        100.0 * a.top3,
        100.0 * a.most_common,
        100.0 * a.answered
    );
    // One label in twenty is random, so no model can pass about 95%; these bounds sit
    // a few points under what this model reaches, to catch a real regression.
    assert!(a.top1 >= 0.90, "top-1 {}", a.top1);
    assert!(a.top3 >= 0.93, "top-3 {}", a.top3);
    assert!(a.top1 >= 3.0 * a.most_common && a.top1 - a.most_common >= 0.5);
}

#[test]
fn the_demo_workspace_suggests_finance_for_a_double_charge() {
    let w = world();
    let s = w.engine.suggest_intents("my card was charged twice").unwrap();
    let first = &s.suggestions[0];
    assert_eq!((first.case_type_name.as_str(), first.intent_label.as_str()), ("Finance", "Billing dispute"));
    assert!(s.suggestions.len() <= 3);
    assert!(s.suggestions.windows(2).all(|p| p[0].confidence >= p[1].confidence));
    let s = w.engine.suggest_intents("my internet keeps dropping every evening").unwrap();
    assert_eq!(s.suggestions[0].intent, "connectivity");
}

#[test]
fn a_closed_case_teaches_its_words_and_final_intent() {
    let w = world();
    let novel = "the fibre splice box in the basement is flooded";
    assert!(w.engine.suggest_intents(novel).unwrap().suggestions.first().is_none_or(|s| s.intent != "device_fault"));
    for _ in 0..3 {
        let r = w
            .engine
            .execute(
                &alex(),
                Command::CreateCase {
                    case_type: "technical".into(),
                    intent: Some("device_fault".into()),
                    customer_id: None,
                    subject: "Splice box flooded".into(),
                    description: novel.into(),
                    fields: obj(serde_json::json!({ "device": "Other" })),
                    priority: None,
                    interaction_id: None,
                    contact: None,
                    external_id: None,
                },
            )
            .unwrap();
        let case = created(&r);
        // Only a closed case teaches: its intent is final then.
        let task = w.open_tasks(case).remove(0);
        w.finish(task.id, &alex(), "fixed", serde_json::json!({}), None).unwrap();
    }
    let s = w.engine.suggest_intents("splice box flooded").unwrap();
    assert_eq!(s.suggestions[0].intent, "device_fault", "{s:?}");
    // A second engine on the same file learns the same from the store.
    let again = w.reopen();
    assert_eq!(again.suggest_intents("splice box flooded").unwrap().suggestions[0].intent, "device_fault");
}

#[test]
fn bad_input_gets_a_sensible_answer() {
    let w = world();
    let empty = w.engine.suggest_intents("   ").unwrap();
    assert!(empty.suggestions.is_empty() && empty.reason.is_some());
    let unknown = w.engine.suggest_intents("zebra xylophone quokka").unwrap();
    assert!(unknown.suggestions.is_empty());
    assert_eq!(unknown.reason.as_deref(), Some("none of these words is known yet"));
    let huge = "refund ".repeat(100_000 / 7);
    assert_eq!(w.engine.suggest_intents(&huge).unwrap().suggestions[0].intent, "refund_request");
    for text in ["Моя карта списана дважды", "请给我回电话", "🙂🙂🙂", "\u{0}\u{feff}", "مرحبا"]
    {
        let s = w.engine.suggest_intents(text).unwrap();
        assert!(s.suggestions.is_empty() == s.reason.is_some(), "{text}: {s:?}");
    }
}

#[test]
fn an_intent_a_new_version_drops_is_no_longer_offered_without_a_restart() {
    let w = world();
    let asked = "can I pay in instalments";
    assert_eq!(w.engine.suggest_intents(asked).unwrap().suggestions[0].intent, "payment_plan");
    let source = casedesk_core::demo::CASE_TYPES.iter().find(|(f, _)| *f == "finance.toml").unwrap().1;
    let start = source.find("[[intents]]\nid = \"payment_plan\"").unwrap();
    let end = start + source[start..].find("[[fields]]").unwrap();
    let without = format!("{}{}", &source[..start], &source[end..]);
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "finance.toml".into(), source: without }).unwrap();
    let s = w.engine.suggest_intents(asked).unwrap();
    assert!(s.suggestions.iter().all(|x| x.intent != "payment_plan"), "{s:?}");
    assert!(s.suggestions.is_empty() == s.reason.is_some());
}
