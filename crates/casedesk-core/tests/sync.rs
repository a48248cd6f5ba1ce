mod common;

use casedesk_core::engine::{PushOutcome, PushedCommand};
use casedesk_core::hlc::HlcTime;
use casedesk_core::Command;
use common::*;
use uuid::Uuid;

fn push(seq: i64, command: Command) -> PushedCommand {
    PushedCommand {
        client_id: "desk-bea".into(),
        client_seq: seq,
        command_id: Uuid::now_v7(),
        seen_cursor: 0,
        hlc: HlcTime { millis: 1_790_000_000_000 + seq, counter: 0 },
        command,
        reference: None,
    }
}

fn note(case_id: Uuid, body: &str) -> Command {
    Command::AddNote { case_id, body: body.into() }
}

#[test]
fn a_repeated_push_changes_nothing_and_gets_the_same_answer() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let first = push(1, note(case, "Called back, router replaced"));
    let applied = w.engine.apply_pushed(&bea(), first.clone()).unwrap();
    assert_eq!((applied.push_seq, &applied.conflict, applied.repeated), (1, &None, false));
    let after = w.snapshot();
    let again = w.engine.apply_pushed(&bea(), first).unwrap();
    assert_eq!(again, PushOutcome { repeated: true, ..applied });
    assert_eq!(w.snapshot(), after, "nothing changed");
    assert_eq!(w.engine.case_detail(case).unwrap().notes.len(), 1);
}

#[test]
fn a_refused_command_is_consumed_as_a_conflict_in_the_same_gap_free_order() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let outcomes: Vec<_> = [
        push(1, note(case, "first")),
        push(2, note(Uuid::nil(), "on a case that does not exist")),
        push(3, note(case, "")),
        push(4, note(case, "third")),
    ]
    .into_iter()
    .map(|p| w.engine.apply_pushed(&bea(), p).unwrap())
    .collect();
    assert_eq!(outcomes.iter().map(|o| o.push_seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(outcomes[0].conflict, None);
    assert_eq!(outcomes[1].conflict.as_ref().map(|c| c.code.as_str()), Some("not_found"));
    assert_eq!(outcomes[2].conflict.as_ref().map(|c| c.code.as_str()), Some("invalid_field"));
    assert_eq!(outcomes[3].conflict, None);
    // The refused ones left nothing but their conflict record.
    let notes: Vec<_> = w.engine.case_detail(case).unwrap().notes.into_iter().map(|n| n.body).collect();
    assert_eq!(notes, ["first", "third"]);
}

#[test]
fn a_client_sequence_number_belongs_to_one_command() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    w.engine.apply_pushed(&bea(), push(1, note(case, "one"))).unwrap();
    let before = w.snapshot();
    let reused = w.engine.apply_pushed(&bea(), push(1, note(case, "another"))).unwrap_err();
    assert_eq!(reused.to_string(), "client_seq: 1 of client desk-bea was already used by another command");
    assert_eq!(w.snapshot(), before);
    let unnumbered = w.engine.apply_pushed(&bea(), push(0, note(case, "x"))).unwrap_err();
    assert!(unnumbered.to_string().starts_with("client_seq: "), "{unnumbered}");
}

#[test]
fn the_same_push_arriving_twice_at_once_is_applied_once() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    for seq in 1..=40 {
        // A desk retried while its first request was still being applied.
        let p = push(seq, note(case, &format!("retried {seq}")));
        let both = std::sync::Barrier::new(2);
        let outcomes: Vec<PushOutcome> = std::thread::scope(|s| {
            let copies: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        both.wait();
                        w.engine.apply_pushed(&bea(), p.clone())
                    })
                })
                .collect();
            copies.into_iter().map(|c| c.join().unwrap().expect("a retry is answered, not refused")).collect()
        });
        assert_eq!(outcomes.iter().filter(|o| o.repeated).count(), 1, "push {seq}: one applied, one a repeat");
        assert_eq!(outcomes[0].push_seq, outcomes[1].push_seq);
    }
    assert_eq!(w.engine.case_detail(case).unwrap().notes.len(), 40);
}
