//! Routing under random presence changes, new tasks, offers, accepts, declines,
//! timeouts, completions and pulls; and fairness over many equal tasks.

mod common;

use casedesk_core::model::TaskState;
use casedesk_core::routing::{
    best_agent, eligible, Agent, AgentProfile, Capacity, Presence, QueueConfig, QueueMode, Requirements, Waiting,
};
use casedesk_core::{Actor, Command};
use chrono::{Duration, TimeZone, Utc};
use common::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Presence { who: usize, presence: usize },
    OnQueue { who: usize, on: bool },
    NewCase { demanding: bool },
    Accept { pick: usize },
    Decline { pick: usize },
    Wait { seconds: i64 },
    Complete { pick: usize },
    Pull { who: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..3usize, 0..3usize).prop_map(|(who, presence)| Op::Presence { who, presence }),
        2 => (0..3usize, any::<bool>()).prop_map(|(who, on)| Op::OnQueue { who, on }),
        4 => any::<bool>().prop_map(|demanding| Op::NewCase { demanding }),
        4 => any::<usize>().prop_map(|pick| Op::Accept { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Decline { pick }),
        1 => (1..60i64).prop_map(|seconds| Op::Wait { seconds }),
        3 => any::<usize>().prop_map(|pick| Op::Complete { pick }),
        1 => (0..3usize).prop_map(|who| Op::Pull { who }),
    ]
}

const PEOPLE: [&str; 3] = ["alex", "sam", "chris"];

fn actor(id: &str) -> Actor {
    Actor::new(id, &[casedesk_core::Role::Agent])
}

fn setup() -> World {
    let w = world();
    let push =
        QueueConfig { mode: QueueMode::Push, alert_timeout_seconds: 30, ..QueueConfig::pull("Employees_group_A") };
    w.engine.execute(&admin(), Command::DefineQueue { queue: push }).unwrap();
    // Chris joins group A with a small capacity; technical triage needs networking 2.
    let profile = AgentProfile {
        skills: [("networking".to_string(), 5)].into(),
        languages: vec!["en".into()],
        capacity: Capacity { total: 2, per_kind: BTreeMap::new() },
        queues: vec!["Employees_group_A".into(), "Finances_group_B".into()],
    };
    w.engine.execute(&admin(), Command::SetAgentProfile { user_id: "chris".into(), profile }).unwrap();
    let demanding = casedesk_core::demo::CASE_TYPES[0]
        .1
        .replace("id = \"technical\"", "id = \"technical_hard\"")
        .replace("reference_prefix = \"TEC\"", "reference_prefix = \"TEH\"")
        .replace("skills = { networking = 2 }", "skills = { networking = 4 }");
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "hard.toml".into(), source: demanding }).unwrap();
    w
}

fn agents(w: &World) -> Vec<Agent> {
    w.engine.read(|db| db.agents()).unwrap()
}

fn all_tasks(w: &World) -> Vec<casedesk_core::model::Task> {
    w.engine.case_summaries(10_000, 0).unwrap().iter().flat_map(|c| w.tasks(c.id)).collect()
}

fn check_invariants(w: &World) {
    let agents = agents(w);
    let tasks = all_tasks(w);
    let queue = w.engine.read(|db| db.queues()).unwrap().into_iter().find(|q| q.id == "Employees_group_A").unwrap();
    for a in &agents {
        let cap = &a.profile.capacity;
        assert!(a.total_load() <= cap.total, "{} over capacity: {:?}", a.user_id, a.load);
        assert!(a.pending_offers <= 1, "{} has {} alerts at once", a.user_id, a.pending_offers);
        assert_eq!(a.routing_status, a.derived_status(), "{}'s routing status is stale", a.user_id);
    }
    for t in &tasks {
        assert_eq!(t.state == TaskState::Offered, t.offered_to.is_some(), "offer fields of {t:?}");
        if let Some(who) = &t.offered_to {
            let a = agents.iter().find(|a| &a.user_id == who).unwrap();
            for (skill, min) in &t.requirements.skills {
                assert!(
                    a.profile.skills.get(skill).is_some_and(|p| p >= min),
                    "{who} offered a task needing {skill} {min}"
                );
            }
        }
    }
    // Liveness: no task waits in the push queue while a ready agent could take it.
    let now = w.clock.now();
    for t in tasks.iter().filter(|t| t.state == TaskState::Queued && t.queue.as_deref() == Some("Employees_group_A")) {
        let view = Waiting {
            id: t.id,
            kind: t.kind,
            priority: t.priority,
            queue: "Employees_group_A",
            queued_at: t.queued_at.unwrap(),
            requirements: &t.requirements,
            preferred_agent: t.preferred_agent.as_deref(),
        };
        let waiting_for = agents.iter().find(|a| a.can_be_offered() && eligible(a, &view, &queue, now).is_some());
        assert!(waiting_for.is_none(), "task {} waits although {} could take it", t.id, waiting_for.unwrap().user_id);
    }
}

use casedesk_core::Clock;

fn apply(w: &World, op: &Op) {
    let tasks = all_tasks(w);
    let pick = |i: usize, state: TaskState| {
        let list: Vec<_> = tasks.iter().filter(|t| t.state == state).collect();
        (!list.is_empty()).then(|| list[i % list.len()].clone())
    };
    let _ = match op {
        Op::Presence { who, presence } => {
            let p = [Presence::Available, Presence::Break, Presence::Offline][*presence];
            w.engine.execute(&actor(PEOPLE[*who]), Command::SetPresence { presence: p, secondary: None })
        }
        Op::OnQueue { who, on } => w.engine.execute(&actor(PEOPLE[*who]), Command::SetOnQueue { on_queue: *on }),
        Op::NewCase { demanding } => w
            .create_case(&bea(), if *demanding { "technical_hard" } else { "technical" }, json!({ "device": "Router" }))
            .map(|_| casedesk_core::Executed { events: vec![], created_id: None, reference: None, warnings: vec![] }),
        Op::Accept { pick: i } => match pick(*i, TaskState::Offered) {
            Some(t) => {
                w.engine.execute(&actor(t.offered_to.as_deref().unwrap()), Command::AcceptOffer { task_id: t.id })
            }
            None => return,
        },
        Op::Decline { pick: i } => match pick(*i, TaskState::Offered) {
            Some(t) => {
                w.engine.execute(&actor(t.offered_to.as_deref().unwrap()), Command::DeclineOffer { task_id: t.id })
            }
            None => return,
        },
        Op::Wait { seconds } => {
            w.clock.advance(Duration::seconds(*seconds));
            w.engine.execute(&Actor::system(), Command::RoutingTick)
        }
        Op::Complete { pick: i } => match pick(*i, TaskState::Assigned) {
            Some(t) => w.engine.execute(
                &actor(t.assignee.as_deref().unwrap()),
                Command::CompleteTask {
                    task_id: t.id,
                    outcome: "fixed".into(),
                    form_values: obj(json!({})),
                    reason: None,
                },
            ),
            None => return,
        },
        Op::Pull { who } => w.engine.execute(&actor(PEOPLE[*who]), Command::PullNextTask { queue: None }),
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn routing_keeps_its_rules(ops in prop::collection::vec(op(), 1..80)) {
        let w = setup();
        for op in &ops {
            apply(&w, op);
            check_invariants(&w);
        }
    }
}

/// 10,000 equal tasks over 50 equal agents, arriving every 3 s and worked for 30–150 s:
/// least-recently-assigned fairness gives each agent within ±5% of the mean.
#[test]
fn fairness_over_many_equal_tasks() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let queue = QueueConfig { mode: QueueMode::Push, ..QueueConfig::pull("q") };
    let mut agents: Vec<Agent> = (0..50)
        .map(|i| Agent {
            user_id: format!("agent{i:02}"),
            presence: Presence::Available,
            secondary: None,
            on_queue: true,
            not_responding: false,
            routing_status: casedesk_core::routing::RoutingStatus::Idle,
            profile: AgentProfile {
                capacity: Capacity { total: 1, per_kind: BTreeMap::new() },
                queues: vec!["q".into()],
                ..AgentProfile::default()
            },
            last_assigned_at: None,
            load: BTreeMap::new(),
            pending_offers: 0,
        })
        .collect();
    let mut busy_until = vec![t0; 50];
    let mut counts = [0u32; 50];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let req = Requirements::default();
    let mut backlog = std::collections::VecDeque::new();
    for i in 0..10_000 {
        let now = t0 + Duration::seconds(3 * i);
        for (a, until) in agents.iter_mut().zip(&busy_until) {
            if *until <= now {
                a.load.clear();
            }
        }
        backlog.push_back(now);
        while let Some(&queued_at) = backlog.front() {
            let task = Waiting {
                id: uuid::Uuid::nil(),
                kind: casedesk_core::model::TaskKind::Generic,
                priority: 3,
                queue: "q",
                queued_at,
                requirements: &req,
                preferred_agent: None,
            };
            let Some(chosen) = best_agent(agents.iter(), &task, &queue, now).map(|a| a.user_id.clone()) else { break };
            let k = agents.iter().position(|a| a.user_id == chosen).unwrap();
            agents[k].last_assigned_at = Some(now);
            agents[k].load.insert(casedesk_core::model::TaskKind::Generic, 1);
            busy_until[k] = now + Duration::seconds(rng.random_range(30..=150));
            counts[k] += 1;
            backlog.pop_front();
        }
    }
    let total: u32 = counts.iter().sum();
    let mean = f64::from(total) / 50.0;
    let (min, max) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
    assert!(total >= 9_990, "nearly every task was routed ({total})");
    assert!(f64::from(min) >= mean * 0.95 && f64::from(max) <= mean * 1.05, "spread {min}..{max} around {mean}");
}
