//! Desktops joined to a hub: they pull the hub's rows, work offline, push, and end up
//! holding exactly the hub's data, with their references unchanged.

mod common;

use casedesk_core::engine::{sync_once, ChangePage, HubLink, PushOutcome, PushedCommand, ReferenceBlock};
use casedesk_core::{Actor, Clock, Command, Engine, OpenOptions};
use common::*;
use std::cell::Cell;

/// The hub reached in memory; `offline` makes every call fail as a lost network would.
struct Link<'a> {
    hub: &'a Engine,
    actor: Actor,
    client_id: String,
    offline: Cell<bool>,
}

/// An online link to `hub` for `client_id`, signed in as `actor`.
fn online_link<'a>(hub: &'a Engine, actor: Actor, client_id: &str) -> Link<'a> {
    Link { hub, actor, client_id: client_id.into(), offline: Cell::new(false) }
}

impl Link<'_> {
    fn check(&self) -> casedesk_core::Result<()> {
        if self.offline.get() {
            return Err(casedesk_core::Error::Io("the hub cannot be reached".into()));
        }
        Ok(())
    }
}

impl HubLink for Link<'_> {
    fn push(&self, batch: &[PushedCommand]) -> casedesk_core::Result<Vec<PushOutcome>> {
        self.check()?;
        batch.iter().map(|p| self.hub.apply_pushed(&self.actor, p.clone())).collect()
    }
    fn pull(&self, cursor: i64, limit: i64) -> casedesk_core::Result<ChangePage> {
        self.check()?;
        self.hub.changes_after(&self.actor, cursor, limit)
    }
    fn reserve(&self, prefix: &str, size: i64, held: Option<i64>) -> casedesk_core::Result<ReferenceBlock> {
        self.check()?;
        self.hub.reserve_for_client(&self.actor, &self.client_id, prefix, size, held)
    }
    fn user(&self) -> &str {
        &self.actor.user_id
    }
}

struct Desk<'a> {
    engine: Engine,
    link: Link<'a>,
    _dir: tempfile::TempDir,
}

fn desk<'a>(w: &'a World, client_id: &str, actor: Actor) -> Desk<'a> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), w.clock.clone(), OpenOptions::default()).unwrap();
    engine.join_hub(client_id).unwrap();
    let link = online_link(&w.engine, actor, client_id);
    Desk { engine, link, _dir: dir }
}

impl Desk<'_> {
    fn sync(&self) {
        sync_once(&self.engine, &self.link).unwrap();
    }
}

fn user(engine: &Engine, id: &str) -> casedesk_core::model::User {
    engine.read(|db| db.user(id)).unwrap().unwrap()
}

#[test]
fn a_first_sync_brings_the_hub_s_rows_and_nothing_else() {
    let w = world();
    w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
    let secrets: i64 = a
        .engine
        .read(|db| Ok(db.connection_ref().query_row("SELECT count(*) FROM credentials", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(secrets, 0, "passwords never leave the hub");
}

#[test]
fn a_case_made_offline_keeps_its_id_and_reference_on_the_hub() {
    let w = world();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    a.link.offline.set(true);
    let made = a.engine.submit(&alex(), new_case("Made on the train")).unwrap();
    let reference = made.reference.clone().unwrap();
    let id: uuid::Uuid = made.created_id.as_deref().unwrap().parse().unwrap();
    assert!(sync_once(&a.engine, &a.link).is_err(), "offline");
    assert_eq!(a.engine.sync_status(&user(&a.engine, "alex")).unwrap().waiting, 1);
    assert_eq!(a.engine.case_detail(id).unwrap().case.reference, reference, "shown at once, offline");

    a.link.offline.set(false);
    a.sync();
    assert_eq!(a.engine.sync_status(&user(&a.engine, "alex")).unwrap().waiting, 0);
    assert_eq!(w.engine.case_detail(id).unwrap().case.reference, reference, "the hub has the same case");
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
}

#[test]
fn work_made_offline_on_two_desktops_converges() {
    let w = world();
    let a = desk(&w, "desk-a", alex());
    let b = desk(&w, "desk-b", bea());
    a.sync();
    b.sync();
    a.link.offline.set(true);
    b.link.offline.set(true);
    let from_a = a.engine.submit(&alex(), new_case("From A")).unwrap();
    let from_b = b.engine.submit(&bea(), new_case("From B")).unwrap();
    let case_a: uuid::Uuid = from_a.created_id.as_deref().unwrap().parse().unwrap();
    a.engine.submit(&alex(), Command::AddNote { case_id: case_a, body: "Second thoughts".into() }).unwrap();
    assert_ne!(from_a.reference, from_b.reference, "blocks never overlap");
    a.link.offline.set(false);
    b.link.offline.set(false);
    a.sync();
    b.sync();
    a.sync();
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
    assert_eq!(replicated(&b.engine), replicated(&w.engine));
    assert_eq!(w.engine.case_detail(case_a).unwrap().notes.len(), 1);
}

#[test]
fn a_hub_restored_from_an_older_backup_gets_what_it_lost_again() {
    let w = world();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    let backup = w.backup();
    let made = a.engine.submit(&alex(), new_case("Lost in the restore")).unwrap();
    a.sync();
    let id: uuid::Uuid = made.created_id.as_deref().unwrap().parse().unwrap();

    let restored = backup.open(w.clock.clone());
    assert!(restored.case_detail(id).is_err(), "the backup is older than the case");
    let link = online_link(&restored, alex(), "desk-a");
    let round = sync_once(&a.engine, &link).unwrap();
    assert!(round.started_over);
    assert_eq!(restored.case_detail(id).unwrap().case.reference, made.reference.unwrap());
    assert_eq!(replicated(&a.engine), replicated(&restored));
}

fn complete(task_id: uuid::Uuid, outcome: &str) -> Command {
    Command::CompleteTask { task_id, outcome: outcome.into(), form_values: Default::default(), reason: None }
}

fn assign(task_id: uuid::Uuid, to: &str) -> Command {
    Command::AssignTask { task_id, assignee: to.into() }
}

/// The hub's conflict records, as (actor, kind, code).
fn conflicts(engine: &Engine) -> Vec<(String, String, String)> {
    engine
        .read(|db| {
            let mut st = db.connection_ref().prepare("SELECT actor, kind, code FROM conflicts ORDER BY push_seq")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap()
}

#[test]
fn an_offline_completion_by_the_assignee_beats_a_later_reassignment() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&sam(), assign(task.id, "alex")).unwrap();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    a.link.offline.set(true);
    a.engine.submit(&alex(), complete(task.id, "needs_fix")).unwrap();
    // Meanwhile the supervisor, not knowing, gives the task to Bea.
    w.engine.execute(&sam(), assign(task.id, "bea")).unwrap();
    a.link.offline.set(false);
    a.sync();
    let done = w.tasks(case).into_iter().find(|t| t.id == task.id).unwrap();
    assert_eq!((done.assignee.as_deref(), done.outcome.as_deref()), (Some("alex"), Some("needs_fix")));
    assert_eq!(conflicts(&w.engine), [("alex".into(), "overrode".into(), "completed_over_reassignment".into())]);
    assert_eq!(a.engine.sync_status(&user(&a.engine, "alex")).unwrap().conflicts, 1, "the desktop shows it");
    let seen_by = |who: &str| {
        let user = a.engine.read(|db| db.user(who)).unwrap().unwrap();
        a.engine.conflicts(&user, 10).unwrap().len()
    };
    assert_eq!((seen_by("alex"), seen_by("sam"), seen_by("bea")), (1, 1, 0), "the actor and the supervisor");
    let shown = a.engine.conflicts(&a.engine.read(|db| db.user("alex")).unwrap().unwrap(), 1).unwrap().remove(0);
    assert_eq!(shown.ours["assignee"], "bea", "what stood is kept");
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
}

#[test]
fn the_first_completion_stands_and_a_second_is_kept_as_superseded() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&sam(), assign(task.id, "alex")).unwrap();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    a.link.offline.set(true);
    a.engine.submit(&alex(), complete(task.id, "needs_fix")).unwrap();
    w.engine.execute(&sam(), assign(task.id, "bea")).unwrap();
    w.engine.execute(&bea(), complete(task.id, "fixed")).unwrap();
    a.link.offline.set(false);
    a.sync();
    let done = w.tasks(case).into_iter().find(|t| t.id == task.id).unwrap();
    assert_eq!((done.assignee.as_deref(), done.outcome.as_deref()), (Some("bea"), Some("fixed")));
    let kept: (String, String) = w
        .engine
        .read(|db| {
            let sql = "SELECT theirs, ours FROM conflicts WHERE kind = 'superseded'";
            Ok(db.connection_ref().query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?)
        })
        .unwrap();
    assert!(kept.0.contains("needs_fix") && kept.1.contains("fixed"), "both values are kept: {kept:?}");
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
    let shown = a.engine.read(|db| db.task(task.id)).unwrap().unwrap();
    assert_eq!(shown.outcome.as_deref(), Some("fixed"), "the desktop shows the result that stands");
}

#[test]
fn a_note_made_offline_applies_even_to_a_case_closed_meanwhile() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    a.link.offline.set(true);
    a.engine.submit(&alex(), Command::AddNote { case_id: case, body: "Customer called again".into() }).unwrap();
    w.engine
        .execute(
            &sam(),
            Command::ChangeCaseStatus { case_id: case, status: "cancelled".into(), reason: Some("duplicate".into()) },
        )
        .unwrap();
    a.link.offline.set(false);
    a.sync();
    assert_eq!(w.engine.case_detail(case).unwrap().notes.len(), 1);
    assert!(conflicts(&w.engine).is_empty());
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
}

#[test]
fn an_agent_offline_for_thirty_days_with_ten_thousand_changes_reconnects_and_converges() {
    const CHANGES: usize = 10_000;
    let w = world();
    let shared = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    a.link.offline.set(true);
    let start = w.clock.now();
    let mut made: Vec<(uuid::Uuid, String)> = vec![];
    let mut hub_notes = 0;
    for n in 0..CHANGES {
        // A third of the changes each day, for thirty days.
        if n % (CHANGES / 30) == 0 {
            w.clock.advance(chrono::Duration::days(1));
        }
        if n % 40 == 0 {
            let e = a.engine.submit(&alex(), new_case(&format!("Made offline, #{n}"))).unwrap();
            made.push((created(&e), e.reference.unwrap()));
        } else {
            let case_id = if n % 3 == 0 { shared } else { made[n % made.len()].0 };
            a.engine.submit(&alex(), Command::AddNote { case_id, body: format!("offline note #{n}") }).unwrap();
        }
        // The desk keeps trying; the hub's day goes on without it.
        if n % 1_000 == 999 {
            assert!(sync_once(&a.engine, &a.link).is_err(), "still offline");
            w.engine
                .execute(&bea(), Command::AddNote { case_id: shared, body: format!("from the office #{n}") })
                .unwrap();
            hub_notes += 1;
        }
    }
    assert!(w.clock.now() - start >= chrono::Duration::days(30));
    assert_eq!(a.engine.sync_status(&user(&a.engine, "alex")).unwrap().waiting, CHANGES as i64);

    a.link.offline.set(false);
    let back = sync_once(&a.engine, &a.link).unwrap();
    assert_eq!(back.pushed, CHANGES);
    assert_eq!(a.engine.sync_status(&user(&a.engine, "alex")).unwrap().waiting, 0);
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
    assert!(conflicts(&w.engine).is_empty(), "notes and new cases always apply");
    for (id, reference) in &made {
        assert_eq!(&w.engine.case_detail(*id).unwrap().case.reference, reference, "a reference shown stays");
    }
    let offline_notes = (CHANGES - made.len()) as i64;
    assert_eq!(count(&w.engine, "SELECT count(*) FROM notes"), offline_notes + hub_notes);
}

#[test]
fn a_block_reserved_after_the_hub_s_backup_stays_the_desk_s_on_the_restored_hub() {
    let w = world();
    let backup = w.backup();
    // The desk's block and its case come after the backup.
    let a = desk(&w, "desk-a", alex());
    a.sync();
    let made = a.engine.submit(&alex(), new_case("Made after the backup")).unwrap();
    a.sync();
    let id = created(&made);

    let restored = backup.open(w.clock.clone());
    let link = online_link(&restored, alex(), "desk-a");
    assert!(sync_once(&a.engine, &link).unwrap().started_over);
    assert_eq!(restored.case_detail(id).unwrap().case.reference, made.reference.clone().unwrap(), "the same reference");
    assert!(conflicts(&restored).is_empty());

    // Numbers the restored hub gives now are not the desk's.
    let b_dir = tempfile::tempdir().unwrap();
    let b = Engine::open(b_dir.path(), w.clock.clone(), OpenOptions::default()).unwrap();
    b.join_hub("desk-b").unwrap();
    let link_b = online_link(&restored, bea(), "desk-b");
    sync_once(&b, &link_b).unwrap();
    let from_b = b.submit(&bea(), new_case("From B")).unwrap();
    let on_hub = restored.execute(&alex(), new_case("On the hub")).unwrap();
    let references = [made.reference.unwrap(), from_b.reference.unwrap(), on_hub.reference.unwrap()];
    assert!(references[0] != references[1] && references[0] != references[2] && references[1] != references[2]);
    sync_once(&b, &link_b).unwrap();
    sync_once(&a.engine, &link).unwrap();
    assert!(conflicts(&restored).is_empty(), "{:?}", conflicts(&restored));
    assert_eq!(replicated(&a.engine), replicated(&restored));
    assert_eq!(replicated(&b), replicated(&restored));
}

#[test]
fn a_command_is_pushed_only_while_the_person_who_made_it_is_signed_in() {
    let w = world();
    let case = w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).unwrap();
    let a = desk(&w, "desk-a", alex());
    a.sync();
    a.link.offline.set(true);
    a.engine.submit(&alex(), Command::AddNote { case_id: case, body: "by Alex, offline".into() }).unwrap();
    // The next shift signs in to the same desk as Bea.
    let as_bea = online_link(&w.engine, bea(), "desk-a");
    a.engine.submit(&bea(), Command::AddNote { case_id: case, body: "by Bea".into() }).unwrap();
    sync_once(&a.engine, &as_bea).unwrap();
    let notes = |engine: &Engine| -> Vec<(String, String)> {
        engine.case_detail(case).unwrap().notes.into_iter().map(|n| (n.author, n.body)).collect()
    };
    assert_eq!(notes(&w.engine), [("bea".to_string(), "by Bea".to_string())], "never under Bea's name");
    assert_eq!(notes(&a.engine).len(), 2, "Alex's note still shows on the desk");
    a.link.offline.set(false);
    a.sync();
    let mut on_hub = notes(&w.engine);
    on_hub.sort();
    assert_eq!(on_hub, [("alex".into(), "by Alex, offline".into()), ("bea".into(), "by Bea".into())]);
    assert_eq!(replicated(&a.engine), replicated(&w.engine));
}

#[test]
fn a_block_past_the_last_reference_number_is_refused_and_the_sequence_stays_whole() {
    let w = world();
    let reserve = |held: Option<i64>| w.engine.reserve_for_client(&alex(), "desk-a", "TEC", 1, held);
    for beyond in [i64::MAX, i64::MAX - 1, 1_000_000_000_000] {
        let refused = reserve(Some(beyond)).unwrap_err();
        assert_eq!(refused.code(), "invalid_field", "{beyond}: {refused}");
        assert!(refused.to_string().contains("first"), "{refused}");
    }
    // The last number can be held; after it the sequence is used up, refused clearly.
    let last = reserve(Some(999_999_999_999)).unwrap();
    assert_eq!((last.first, last.last), (999_999_999_999, 999_999_999_999));
    let used_up = reserve(None).unwrap_err();
    assert_eq!(used_up.code(), "conflict", "{used_up}");
    assert!(w.create_case(&alex(), "technical", serde_json::json!({ "device": "Router" })).is_err());
    let before = count(&w.engine, "SELECT count(*) FROM cases");
    assert!(reserve(None).is_err());
    assert_eq!(count(&w.engine, "SELECT count(*) FROM cases"), before, "nothing written");
}
