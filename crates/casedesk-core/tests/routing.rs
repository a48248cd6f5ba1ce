//! Routing through the engine: offers, accept/decline/timeout, pulls, reassignment.

mod common;

use casedesk_core::model::TaskState;
use casedesk_core::routing::{Presence, QueueConfig, QueueMode, RoutingStatus};
use casedesk_core::{Actor, Clock, Command, RouteTarget};
use common::*;
use serde_json::json;

fn chris() -> Actor {
    Actor::new("chris", &[casedesk_core::Role::Agent])
}

/// Employees_group_A pushes, with a 30 s alert; missing an offer takes the agent off queue.
fn push_world() -> World {
    let w = world();
    let queue = QueueConfig {
        mode: QueueMode::Push,
        alert_timeout_seconds: 30,
        off_queue_when_not_responding: true,
        ..QueueConfig::pull("Employees_group_A")
    };
    w.engine.execute(&admin(), Command::DefineQueue { queue }).unwrap();
    w
}

fn ready(w: &World, who: &Actor) {
    w.engine.execute(who, Command::SetPresence { presence: Presence::Available, secondary: None }).unwrap();
    w.engine.execute(who, Command::SetOnQueue { on_queue: true }).unwrap();
}

fn agent(w: &World, id: &str) -> casedesk_core::routing::Agent {
    w.engine.read(|db| db.agent(id)).unwrap().unwrap()
}

#[test]
fn a_ready_agent_is_offered_new_work_and_accepts_it() {
    let w = push_world();
    assert_eq!(agent(&w, "alex").routing_status, RoutingStatus::OffQueue);
    ready(&w, &alex());
    assert_eq!(agent(&w, "alex").routing_status, RoutingStatus::Idle);
    let case = w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    assert_eq!((task.state, task.offered_to.as_deref()), (TaskState::Offered, Some("alex")));
    assert_eq!(task.offer_expires_at, Some(w.clock.now() + chrono::Duration::seconds(30)));
    assert_eq!(agent(&w, "alex").routing_status, RoutingStatus::Interacting);
    // Only the one it is offered to may answer.
    let e = w.engine.execute(&sam(), Command::AcceptOffer { task_id: task.id }).unwrap_err();
    assert_eq!(e.code(), "conflict");
    w.engine.execute(&alex(), Command::AcceptOffer { task_id: task.id }).unwrap();
    let task = w.open_tasks(case).remove(0);
    assert_eq!((task.state, task.assignee.as_deref(), task.offered_to), (TaskState::Assigned, Some("alex"), None));
    assert_eq!(agent(&w, "alex").last_assigned_at, Some(w.clock.now()));
    // Finishing frees the agent.
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
    assert_eq!(agent(&w, "alex").routing_status, RoutingStatus::Idle);
}

#[test]
fn a_declined_or_missed_offer_sets_not_responding_and_reroutes() {
    let w = push_world();
    ready(&w, &alex());
    let case = w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    assert_eq!(task.offered_to.as_deref(), Some("alex"));
    w.engine.execute(&alex(), Command::DeclineOffer { task_id: task.id }).unwrap();
    let a = agent(&w, "alex");
    assert!(a.not_responding && !a.on_queue, "declining takes alex off queue, per the queue");
    assert_eq!(a.routing_status, RoutingStatus::OffQueue);
    let task = w.open_tasks(case).remove(0);
    assert_eq!((task.state, task.offered_to), (TaskState::Queued, None), "nobody else is ready");
    // Sam becomes ready: the waiting task goes to sam.
    ready(&w, &sam());
    let task = w.open_tasks(case).remove(0);
    assert_eq!(task.offered_to.as_deref(), Some("sam"));
    // Sam lets the alert run out.
    w.clock.advance(chrono::Duration::seconds(29));
    w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
    assert_eq!(w.open_tasks(case)[0].offered_to.as_deref(), Some("sam"), "not yet");
    w.clock.advance(chrono::Duration::seconds(1));
    let r = w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
    assert!(r.events.iter().any(|e| e.kind == "task_offer_missed"));
    assert!(agent(&w, "sam").not_responding);
    // Alex comes back: being ready again clears NOT_RESPONDING, and the task is offered.
    ready(&w, &alex());
    assert!(!agent(&w, "alex").not_responding);
    assert_eq!(w.open_tasks(case)[0].offered_to.as_deref(), Some("alex"));
}

#[test]
fn skills_decide_who_is_offered() {
    let w = push_world();
    // Sam has networking 2, alex 3: a step needing 3 goes only to alex.
    let demanding =
        casedesk_core::demo::CASE_TYPES[0].1.replace("skills = { networking = 2 }", "skills = { networking = 3 }");
    w.engine
        .execute(&admin(), Command::PublishCaseType { file_name: "technical.toml".into(), source: demanding })
        .unwrap();
    ready(&w, &sam());
    let case = w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap();
    assert_eq!(w.open_tasks(case)[0].state, TaskState::Queued, "sam lacks the skill");
    // Alex, who has the skill, becomes ready: the task is offered to alex.
    ready(&w, &alex());
    assert_eq!(w.open_tasks(case)[0].offered_to.as_deref(), Some("alex"));
}

#[test]
fn capacity_is_never_exceeded_and_one_alert_at_a_time() {
    let w = push_world();
    ready(&w, &alex());
    let cases: Vec<_> =
        (0..8).map(|_| w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap()).collect();
    let offered: Vec<_> =
        cases.iter().flat_map(|c| w.open_tasks(*c)).filter(|t| t.state == TaskState::Offered).collect();
    assert_eq!(offered.len(), 1, "one alert at a time");
    // Accepting brings the next offer, up to alex's capacity of 5.
    for _ in 0..10 {
        let Some(t) = cases.iter().flat_map(|c| w.open_tasks(*c)).find(|t| t.state == TaskState::Offered) else {
            break;
        };
        w.engine.execute(&alex(), Command::AcceptOffer { task_id: t.id }).unwrap();
    }
    let a = agent(&w, "alex");
    assert_eq!(a.total_load(), 5);
    assert!(cases.iter().flat_map(|c| w.open_tasks(*c)).all(|t| t.state != TaskState::Offered));
    let queued = cases.iter().flat_map(|c| w.open_tasks(*c)).filter(|t| t.state == TaskState::Queued).count();
    assert_eq!(queued, 3);
    // A supervisor cannot push alex over capacity either.
    let waiting = cases.iter().flat_map(|c| w.open_tasks(*c)).find(|t| t.state == TaskState::Queued).unwrap();
    let e = w
        .engine
        .execute(
            &sam(),
            Command::ReassignTasks { task_ids: vec![waiting.id], to: RouteTarget::Agent { user_id: "alex".into() } },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "alex has no free capacity for a Generic task");
}

#[test]
fn pulling_is_atomic_and_honours_no_cherry_picking() {
    let w = world();
    let queue = QueueConfig { no_cherry_picking: true, ..QueueConfig::pull("Finances_group_B") };
    w.engine.execute(&admin(), Command::DefineQueue { queue }).unwrap();
    let a = w.create_case(&bea(), "finance", json!({ "invoice_number": "INV-000001" })).unwrap();
    w.clock.advance(chrono::Duration::minutes(5));
    let b = w.create_case(&bea(), "finance", json!({ "invoice_number": "INV-000002" })).unwrap();
    let newer = w.open_tasks(b).remove(0);
    let e = w.engine.execute(&bea(), Command::AssignTask { task_id: newer.id, assignee: "bea".into() }).unwrap_err();
    assert!(e.to_string().contains("no cherry picking"), "{e}");
    // Two pulls: the older task first, then the other; a third finds nothing.
    let first = w.engine.execute(&bea(), Command::PullNextTask { queue: None }).unwrap();
    assert_eq!(first.created_id, Some(w.open_tasks(a)[0].id.to_string()));
    let second = w.engine.execute(&sam(), Command::PullNextTask { queue: Some("Finances_group_B".into()) }).unwrap();
    assert_eq!(second.created_id, Some(newer.id.to_string()));
    let e = w.engine.execute(&bea(), Command::PullNextTask { queue: None }).unwrap_err();
    assert_eq!(e.code(), "conflict");
    let e = w.engine.execute(&alex(), Command::PullNextTask { queue: Some("Finances_group_B".into()) }).unwrap_err();
    assert_eq!(e.to_string(), "queue: alex is not a member of queue 'Finances_group_B'");
}

#[test]
fn two_agents_pulling_at_once_get_different_tasks() {
    let w = world();
    for i in 0..2 {
        w.create_case(&bea(), "finance", json!({ "invoice_number": format!("INV-00000{i}") })).unwrap();
    }
    let engine = &w.engine;
    let got: Vec<String> = std::thread::scope(|s| {
        let h1 = s.spawn(|| engine.execute(&bea(), Command::PullNextTask { queue: None }).unwrap().created_id.unwrap());
        let h2 = s.spawn(|| {
            engine
                .execute(&sam(), Command::PullNextTask { queue: Some("Finances_group_B".into()) })
                .unwrap()
                .created_id
                .unwrap()
        });
        vec![h1.join().unwrap(), h2.join().unwrap()]
    });
    assert_ne!(got[0], got[1]);
}

#[test]
fn supervisors_reassign_one_many_or_everything_of_an_agent() {
    let w = world();
    let cases: Vec<_> = (0..3)
        .map(|i| w.create_case(&bea(), "finance", json!({ "invoice_number": format!("INV-00000{i}") })).unwrap())
        .collect();
    let tasks: Vec<_> = cases.iter().map(|c| w.open_tasks(*c)[0].id).collect();
    w.engine
        .execute(
            &sam(),
            Command::ReassignTasks { task_ids: tasks.clone(), to: RouteTarget::Agent { user_id: "bea".into() } },
        )
        .unwrap();
    assert!(tasks.iter().all(|t| w.engine.read(|db| db.task(*t)).unwrap().unwrap().assignee.as_deref() == Some("bea")));
    // Bea is away: everything of hers goes back to the workbin.
    let r = w
        .engine
        .execute(
            &sam(),
            Command::ReassignAllOf {
                user_id: "bea".into(),
                to: RouteTarget::Queue { queue: "Team_Supervisor".into() },
            },
        )
        .unwrap();
    assert_eq!(r.events.iter().filter(|e| e.kind == "task_requeued").count(), 3);
    let t = w.engine.read(|db| db.task(tasks[0])).unwrap().unwrap();
    assert_eq!((t.state, t.assignee, t.queue.as_deref()), (TaskState::Queued, None, Some("Team_Supervisor")));
    w.engine.execute(&sam(), Command::ChangeTaskPriority { task_ids: vec![tasks[0]], priority: 1 }).unwrap();
    assert_eq!(w.engine.read(|db| db.task(tasks[0])).unwrap().unwrap().priority, 1);
    // Agents do not reassign.
    let e = w
        .engine
        .execute(
            &bea(),
            Command::ReassignAllOf {
                user_id: "alex".into(),
                to: RouteTarget::Queue { queue: "Team_Supervisor".into() },
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

#[test]
fn bad_routing_input_is_refused_and_changes_nothing() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.finish(task.id, &alex(), "fixed", json!({}), None).unwrap();
    let other = w.create_case(&alex(), "technical", json!({ "device": "Modem" })).unwrap();
    let open = w.open_tasks(other).remove(0);
    let snap = w.snapshot();
    let profile = |skills: serde_json::Value, queues: serde_json::Value| {
        serde_json::from_value(json!({ "skills": skills, "queues": queues })).unwrap()
    };
    let cases = [
        (
            Command::SetAgentProfile { user_id: "nobody".into(), profile: profile(json!({}), json!([])) },
            "user_id: user 'nobody' does not exist",
        ),
        (
            Command::SetAgentProfile { user_id: "alex".into(), profile: profile(json!({ "juggling": 3 }), json!([])) },
            "skills.juggling: is not a defined skill",
        ),
        (
            Command::SetAgentProfile { user_id: "alex".into(), profile: profile(json!({ "routers": 6 }), json!([])) },
            "skills.routers: proficiency must be 0 to 5, not 6",
        ),
        (
            Command::SetAgentProfile { user_id: "alex".into(), profile: profile(json!({}), json!(["Nowhere"])) },
            "queues: queue 'Nowhere' is not defined",
        ),
        (
            Command::ReassignTasks { task_ids: vec![open.id], to: RouteTarget::Queue { queue: "Nowhere".into() } },
            "to.queue: queue 'Nowhere' is not defined",
        ),
        (
            Command::ReassignTasks { task_ids: vec![open.id], to: RouteTarget::Agent { user_id: "ada".into() } },
            "to.user_id: 'ada' is not an agent",
        ),
        (
            Command::ReassignAllOf {
                user_id: "ghost".into(),
                to: RouteTarget::Queue { queue: "Team_Supervisor".into() },
            },
            "user_id: 'ghost' is not an agent",
        ),
        (
            Command::SetPresence { presence: Presence::Meal, secondary: Some("Dinner".into()) },
            "secondary: 'Dinner' is not a label under Meal",
        ),
        (
            Command::ChangeTaskPriority { task_ids: vec![task.id], priority: 9 },
            "priority: must be 1 (highest) to 5 (lowest)",
        ),
    ];
    for (command, message) in cases {
        let actor = if matches!(command, Command::SetAgentProfile { .. }) {
            admin()
        } else if matches!(command, Command::SetPresence { .. }) {
            alex()
        } else {
            sam()
        };
        let e = w.engine.execute(&actor, command.clone()).unwrap_err();
        assert!(e.to_string().starts_with(message), "{command:?}: {e}");
        assert_eq!(snap, w.snapshot(), "{command:?} changed something");
    }
    // Reassigning a finished task names the rule.
    let e = w
        .engine
        .execute(
            &sam(),
            Command::ReassignTasks { task_ids: vec![task.id], to: RouteTarget::Agent { user_id: "bea".into() } },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    assert!(e.to_string().ends_with("(it is finished)"), "{e}");
    // Presence labels from the admin's list are accepted.
    w.engine
        .execute(&chris(), Command::SetPresence { presence: Presence::Meal, secondary: Some("Lunch".into()) })
        .unwrap();
}

#[test]
fn pulls_follow_priority_plus_waiting_time() {
    let w = world();
    let new = |inv: &str| w.create_case(&bea(), "finance", json!({ "invoice_number": inv })).unwrap();
    let old_low = new("INV-000001");
    w.clock.advance(chrono::Duration::minutes(150));
    let mid = new("INV-000002");
    w.clock.advance(chrono::Duration::minutes(10));
    let new_high = new("INV-000003");
    let id = |c| w.open_tasks(c)[0].id;
    // P1 now vs P3 waiting 160 min: two levels are 120 min, so the old one still leads;
    // the P3 of 10 minutes ago trails the P1.
    w.engine.execute(&sam(), Command::ChangeTaskPriority { task_ids: vec![id(new_high)], priority: 1 }).unwrap();
    let order: Vec<String> = (0..3)
        .map(|_| {
            w.engine
                .execute(&sam(), Command::PullNextTask { queue: Some("Finances_group_B".into()) })
                .unwrap()
                .created_id
                .unwrap()
        })
        .collect();
    assert_eq!(order, [id(old_low), id(new_high), id(mid)].map(|t| t.to_string()));
}

/// Employees_group_A pushes, waiting two minutes for a task's preferred agent; sam is ready.
fn preferred_window_world() -> World {
    let w = world();
    let queue =
        QueueConfig { mode: QueueMode::Push, preferred_agent_seconds: 120, ..QueueConfig::pull("Employees_group_A") };
    w.engine.execute(&admin(), Command::DefineQueue { queue }).unwrap();
    ready(&w, &sam());
    w
}

#[test]
fn the_preferred_agent_comes_first_for_the_window_then_anyone() {
    let w = preferred_window_world();
    // Alex owns the case: only alex may have its task for two minutes.
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    assert_eq!((task.state, task.preferred_agent.as_deref()), (TaskState::Queued, Some("alex")));
    let due = w.engine.next_routing_due().unwrap();
    assert_eq!(due, Some(task.queued_at.unwrap() + chrono::Duration::seconds(120)));
    w.clock.advance(chrono::Duration::seconds(119));
    w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
    assert_eq!(w.open_tasks(case)[0].state, TaskState::Queued);
    // The window ends: the timer's tick routes the task to sam.
    w.clock.advance(chrono::Duration::seconds(1));
    w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
    assert_eq!(w.open_tasks(case)[0].offered_to.as_deref(), Some("sam"));
    assert_eq!(w.engine.next_routing_due().unwrap(), w.open_tasks(case)[0].offer_expires_at);
}

/// Tasks whose windows end at the same instant are offered most urgent first: the one
/// agent free gets the task that should not wait, whatever order they were made in.
#[test]
fn tasks_routable_together_go_to_the_agent_most_urgent_first() {
    let w = preferred_window_world();
    let cases: Vec<_> =
        (0..3).map(|_| w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap()).collect();
    let tasks: Vec<_> = cases.iter().map(|c| w.open_tasks(*c).remove(0).id).collect();
    for (task, priority) in tasks.iter().zip([4, 1, 3]) {
        w.engine.execute(&sam(), Command::ChangeTaskPriority { task_ids: vec![*task], priority }).unwrap();
    }
    w.clock.advance(chrono::Duration::seconds(120));
    w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
    let offered: Vec<_> = cases.iter().map(|c| w.open_tasks(*c)[0].offered_to.clone()).collect();
    assert_eq!(offered, [None, Some("sam".to_string()), None], "sam gets the priority 1 task");
}

#[test]
fn bullseye_rings_widen_the_search_when_their_time_comes() {
    let w = world();
    let queue = QueueConfig {
        mode: QueueMode::Push,
        rings: vec![casedesk_core::routing::Ring { after_seconds: 300, relax_proficiency: 1, drop_skills: vec![] }],
        ..QueueConfig::pull("Employees_group_A")
    };
    w.engine.execute(&admin(), Command::DefineQueue { queue }).unwrap();
    let demanding =
        casedesk_core::demo::CASE_TYPES[0].1.replace("skills = { networking = 2 }", "skills = { networking = 3 }");
    w.engine
        .execute(&admin(), Command::PublishCaseType { file_name: "technical.toml".into(), source: demanding })
        .unwrap();
    ready(&w, &sam()); // networking 2
    let case = w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap();
    assert_eq!(w.open_tasks(case)[0].state, TaskState::Queued);
    w.clock.advance(chrono::Duration::seconds(300));
    w.engine.execute(&Actor::system(), Command::RoutingTick).unwrap();
    assert_eq!(w.open_tasks(case)[0].offered_to.as_deref(), Some("sam"), "the ring asks for networking 2 now");
}

#[test]
fn a_supervisor_parks_work_in_an_agents_personal_workbin() {
    let w = world();
    let case = w.create_case(&bea(), "finance", json!({ "invoice_number": "INV-000001" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    let to = RouteTarget::Queue { queue: "personal:bea".into() };
    w.engine.execute(&sam(), Command::ReassignTasks { task_ids: vec![task.id], to }).unwrap();
    // Only bea takes from it.
    let e = w.engine.execute(&sam(), Command::PullNextTask { queue: Some("personal:bea".into()) }).unwrap_err();
    assert_eq!(e.code(), "invalid_field");
    let got = w.engine.execute(&bea(), Command::PullNextTask { queue: None }).unwrap();
    assert_eq!(got.created_id, Some(task.id.to_string()));
    let e = w
        .engine
        .execute(
            &sam(),
            Command::ReassignTasks {
                task_ids: vec![task.id],
                to: RouteTarget::Queue { queue: "personal:ghost".into() },
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "to.queue: queue 'personal:ghost' is not defined");
}

#[test]
fn bad_configuration_is_refused_and_changes_nothing() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    let snap = w.snapshot();
    let ring =
        |after_seconds| casedesk_core::routing::Ring { after_seconds, relax_proficiency: 1, drop_skills: vec![] };
    let bad_rings = QueueConfig { rings: vec![ring(300), ring(60)], ..QueueConfig::pull("Employees_group_A") };
    let no_alert = QueueConfig { alert_timeout_seconds: 0, ..QueueConfig::pull("Employees_group_A") };
    let unknown_skill = QueueConfig {
        rings: vec![casedesk_core::routing::Ring {
            after_seconds: 60,
            relax_proficiency: 0,
            drop_skills: vec!["juggling".into()],
        }],
        ..QueueConfig::pull("Employees_group_A")
    };
    let mut bad_calendar = casedesk_core::calendar::CalendarDef::demo_office();
    bad_calendar.time_zone = "Europe/Atlantis".into();
    let cases: Vec<(Command, casedesk_core::Actor, &str)> = vec![
        (Command::DefineQueue { queue: bad_rings }, admin(), "rings: rings must be listed with growing after_seconds"),
        (Command::DefineQueue { queue: no_alert }, admin(), "alert_timeout_seconds: must be at least 1 second"),
        (Command::DefineQueue { queue: unknown_skill }, admin(), "rings.drop_skills.juggling: is not a defined skill"),
        (
            Command::DefineQueue { queue: QueueConfig::pull("Finances_group_B") },
            alex(),
            "alex may not change the workspace configuration",
        ),
        (
            Command::DefinePresenceLabels { labels: [(Presence::Meal, vec![" ".to_string()])].into() },
            admin(),
            "labels.Meal: label ' ' must be 1 to 40 characters",
        ),
        (
            Command::DefineSkills { skills: vec!["Fibre Optics".into()] },
            admin(),
            "skills[0]: 'Fibre Optics' must be lower-case",
        ),
        (
            Command::DefineCalendar { calendar: bad_calendar },
            admin(),
            "time_zone: 'Europe/Atlantis' is not an IANA time zone",
        ),
        (Command::OpenTaskOnScreen { task_id: task.id }, bea(), "bea may not work this task"),
    ];
    for (command, actor, message) in cases {
        let e = w.engine.execute(&actor, command.clone()).unwrap_err();
        assert!(e.to_string().starts_with(message), "{command:?}: {e}");
        assert_eq!(snap, w.snapshot(), "{command:?} changed something");
    }
}

#[test]
fn a_team_workbin_lists_its_open_work_for_its_team_only() {
    let dir = tempfile::tempdir().unwrap();
    let engine =
        casedesk_core::Engine::open(dir.path(), std::sync::Arc::new(casedesk_core::SystemClock), Default::default())
            .unwrap();
    assert!(casedesk_core::demo::seed(&engine).unwrap());
    let user = |id: &str| engine.users().unwrap().into_iter().find(|u| u.id == id).unwrap();
    // The finance back office's open work (waiting tasks first), among it the billing
    // check bea holds.
    let page = engine.workbin(&user("bea"), "Finances_group_B", 0, 100).unwrap();
    let work = page.tasks;
    assert!(!work.is_empty());
    assert_eq!(page.total as usize, work.len());
    assert!(work.iter().all(|w| w.task.queue.as_deref() == Some("Finances_group_B") && w.task.state.is_open()));
    let waiting_first = work.iter().skip_while(|w| w.task.state == TaskState::Queued);
    assert!(waiting_first.clone().all(|w| w.task.state != TaskState::Queued));
    assert!(work.iter().any(|w| w.case_reference == "FIN-000001" && w.task.assignee.as_deref() == Some("bea")));
    // The supervisor of the team sees the same; an agent of another team is refused.
    assert_eq!(engine.workbin(&user("sam"), "Finances_group_B", 0, 100).unwrap().tasks.len(), work.len());
    // Read a task at a time, the pages make up the same list in the same order.
    let one_by_one: Vec<_> = (0..page.total)
        .flat_map(|offset| engine.workbin(&user("bea"), "Finances_group_B", offset, 1).unwrap().tasks)
        .map(|w| w.task.id)
        .collect();
    assert_eq!(one_by_one, work.iter().map(|w| w.task.id).collect::<Vec<_>>());
    assert!(engine.workbin(&user("bea"), "Finances_group_B", page.total, 10).unwrap().tasks.is_empty());
    let refused = engine.workbin(&user("alex"), "Finances_group_B", 0, 100).unwrap_err();
    assert_eq!(refused.code(), "forbidden");
    assert!(refused.to_string().contains("not one of alex's teams"), "{refused}");
}
