//! Routing benchmark (a bench binary that prints its figures):
//!   cargo bench -p casedesk-core --bench routing
//!
//! 10,000 agents, 100,000 waiting tasks, 200 skills, 100 queues (each agent in 3, with
//! the two skills of each of their queues at a random proficiency 1–5; a task needs up to
//! its queue's two skills at a minimum of 1–3).
//! 1. In memory, one core: decisions with the engine's rules (`routing::eligible`,
//!    `routing::rank`, `routing::best_agent`) over per-queue indexes in rank order, the
//!    structure the engine keeps in SQLite: "next task for an agent who became free"
//!    and "best agent for a new task".
//! 2. The memory those routing structures take.
//! 3. Through the engine, each decision committed to SQLite: `PullNextTask` commands
//!    (read the queue index, decide, assign, write events, commit).

use casedesk_core::model::{Role, TaskKind};
use casedesk_core::routing::{
    best_agent, eligible, rank, Agent, AgentProfile, Capacity, Presence, QueueConfig, QueueMode, Requirements,
    RoutingStatus, Waiting,
};
use casedesk_core::{Actor, Command, Engine, OpenOptions, SystemClock};
use chrono::{Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

#[path = "support/heap.rs"]
mod heap;

const AGENTS: usize = 10_000;
const TASKS: usize = 100_000;
const SKILLS: usize = 200;
const QUEUES: usize = 100;

struct Task {
    queue: usize,
    priority: u8,
    queued_at: chrono::DateTime<Utc>,
    requirements: Requirements,
}

struct State {
    queues: Vec<QueueConfig>,
    agents: Vec<Agent>,
    agent_queues: Vec<Vec<usize>>,
    members: Vec<Vec<usize>>,
    tasks: HashMap<Uuid, Task>,
    waiting: Vec<BTreeSet<(Reverse<i64>, Uuid)>>,
}

fn skill(i: usize) -> String {
    format!("skill_{i:03}")
}

/// Each queue has two skills of its own (200 in all); its tasks need up to both.
fn queue_skill(queue: usize, k: usize) -> String {
    skill(queue * 2 + k)
}

fn new_task(rng: &mut StdRng, now: chrono::DateTime<Utc>) -> Task {
    let queue = rng.random_range(0..QUEUES);
    let mut skills = BTreeMap::new();
    for k in 0..rng.random_range(0..=2) {
        skills.insert(queue_skill(queue, k), rng.random_range(1..=3));
    }
    Task {
        queue,
        priority: rng.random_range(1..=5),
        queued_at: now - Duration::seconds(rng.random_range(0..8 * 3600)),
        requirements: Requirements { skills, language: None },
    }
}

fn build(rng: &mut StdRng, now: chrono::DateTime<Utc>) -> State {
    let queues: Vec<QueueConfig> = (0..QUEUES)
        .map(|i| QueueConfig { mode: QueueMode::Push, ..QueueConfig::pull(&format!("queue_{i:03}")) })
        .collect();
    let mut members = vec![vec![]; QUEUES];
    let mut agent_queues = vec![];
    let agents = (0..AGENTS)
        .map(|i| {
            let qs: Vec<usize> = (0..3).map(|_| rng.random_range(0..QUEUES)).collect();
            for &q in &qs {
                members[q].push(i);
            }
            agent_queues.push(qs.clone());
            Agent {
                user_id: format!("agent_{i:05}"),
                presence: Presence::Available,
                secondary: None,
                on_queue: true,
                not_responding: false,
                routing_status: RoutingStatus::Idle,
                profile: AgentProfile {
                    // The skills of the agent's queues, at a random proficiency.
                    skills: qs
                        .iter()
                        .flat_map(|&q| [queue_skill(q, 0), queue_skill(q, 1)])
                        .map(|s| (s, rng.random_range(1..=5)))
                        .collect(),
                    languages: vec!["en".into()],
                    capacity: Capacity { total: 3, per_kind: BTreeMap::new() },
                    queues: qs.iter().map(|q| queues[*q].id.clone()).collect(),
                },
                last_assigned_at: None,
                load: BTreeMap::new(),
                pending_offers: 0,
            }
        })
        .collect();
    let mut state =
        State { queues, agents, agent_queues, members, tasks: HashMap::new(), waiting: vec![BTreeSet::new(); QUEUES] };
    for _ in 0..TASKS {
        let t = new_task(rng, now);
        enqueue(&mut state, Uuid::new_v4(), t);
    }
    state
}

fn enqueue(s: &mut State, id: Uuid, t: Task) {
    let r = rank(t.priority, t.queued_at, &s.queues[t.queue]);
    s.waiting[t.queue].insert((Reverse(r), id));
    s.tasks.insert(id, t);
}

fn view<'a>(s: &'a State, id: Uuid, t: &'a Task) -> Waiting<'a> {
    Waiting {
        id,
        kind: TaskKind::Generic,
        priority: t.priority,
        queue: &s.queues[t.queue].id,
        queued_at: t.queued_at,
        requirements: &t.requirements,
        preferred_agent: None,
    }
}

/// The engine's choice: each of the agent's queues in rank order, first task they may take.
fn next_task_for(s: &State, agent: usize, now: chrono::DateTime<Utc>) -> Option<Uuid> {
    let mut best: Option<(Reverse<i64>, Uuid)> = None;
    for &q in &s.agent_queues[agent] {
        for &(r, id) in &s.waiting[q] {
            if best.is_some_and(|b| (r, id) > b) {
                break;
            }
            if eligible(&s.agents[agent], &view(s, id, &s.tasks[&id]), &s.queues[q], now).is_some() {
                best = Some((r, id));
                break;
            }
        }
    }
    best.map(|(_, id)| id)
}

fn percentile(sorted: &[std::time::Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e6
}

fn in_memory() {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    let mut rng = StdRng::seed_from_u64(42);
    let before = heap::live();
    let mut s = build(&mut rng, now);
    let bytes = heap::live() - before;
    println!(
        "\n2. memory of the routing state: {:.1} MiB ({AGENTS} agents, {TASKS} waiting tasks, {QUEUES} queue indexes)",
        bytes as f64 / (1 << 20) as f64
    );

    // Agent-driven: an agent becomes free and gets the best task they may take; the task
    // leaves its queue and a new one arrives, so the backlog stays at 100,000.
    let n = 200_000;
    let mut times = Vec::with_capacity(n);
    let mut routed = 0;
    let start = Instant::now();
    for i in 0..n {
        let agent = rng.random_range(0..AGENTS);
        let t0 = Instant::now();
        let chosen = next_task_for(&s, agent, now);
        times.push(t0.elapsed());
        if let Some(id) = chosen {
            let t = s.tasks.remove(&id).unwrap();
            s.waiting[t.queue].remove(&(Reverse(rank(t.priority, t.queued_at, &s.queues[t.queue])), id));
            s.agents[agent].last_assigned_at = Some(now + Duration::milliseconds(i as i64));
            routed += 1;
            let fresh = new_task(&mut rng, now);
            enqueue(&mut s, Uuid::new_v4(), fresh);
        }
    }
    let elapsed = start.elapsed();
    times.sort();
    println!("\n1a. next task for an agent who became free ({n} decisions, {routed} found a task):");
    println!(
        "    {:.0} decisions/s (incl. queue upkeep)   p50 {:.1} µs   p99 {:.1} µs   max {:.1} µs",
        n as f64 / elapsed.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap().as_secs_f64() * 1e6
    );

    // Task-driven: a new task arrives and goes to the best ready member of its queue
    // (about 300 members per queue; one in ten has a free slot).
    for (i, a) in s.agents.iter_mut().enumerate() {
        if i % 10 != 0 {
            a.load.insert(TaskKind::Generic, 3);
        }
    }
    let mut times = Vec::with_capacity(n);
    let start = Instant::now();
    let mut placed = 0;
    for _ in 0..n {
        let t = new_task(&mut rng, now);
        let id = Uuid::new_v4();
        let t0 = Instant::now();
        let task = view(&s, id, &t);
        let queue = &s.queues[t.queue];
        let chosen = best_agent(s.members[t.queue].iter().map(|&a| &s.agents[a]), &task, queue, now).is_some();
        times.push(t0.elapsed());
        placed += usize::from(chosen);
    }
    let elapsed = start.elapsed();
    times.sort();
    println!("\n1b. best agent for a new task ({n} decisions, {placed} placed):");
    println!(
        "    {:.0} decisions/s   p50 {:.1} µs   p99 {:.1} µs   max {:.1} µs",
        n as f64 / elapsed.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap().as_secs_f64() * 1e6
    );
}

/// A case type per queue, with one pull step requiring the queue's first skill.
fn case_type(i: usize, skill_name: &str) -> String {
    format!(
        r#"id = "type_{i:03}"
name = "Type {i}"
reference_prefix = "T{i:03}"
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
[[statuses.status]]
id = "done"
label = "Done"
category = "closed"
[[stages]]
id = "work"
name = "Work"
[[stages.steps]]
id = "work"
name = "Work"
kind = "generic"
queue = "queue_{i:03}"
skills = {{ {skill_name} = 1 }}
[[stages.steps.outcomes]]
code = "done"
label = "Done"
then = "next"
"#
    )
}

fn committed(tasks: usize, decisions: usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-routing");
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::open(&dir, Arc::new(SystemClock), OpenOptions::default()).unwrap();
    let admin = Actor::system();
    let mut rng = StdRng::seed_from_u64(7);
    let skills: Vec<String> = (0..SKILLS).map(skill).collect();
    engine.execute(&admin, Command::DefineSkills { skills: skills.clone() }).unwrap();
    for i in 0..QUEUES {
        engine.execute(&admin, Command::DefineQueue { queue: QueueConfig::pull(&format!("queue_{i:03}")) }).unwrap();
        engine
            .execute(
                &admin,
                Command::PublishCaseType { file_name: format!("t{i}.toml"), source: case_type(i, &queue_skill(i, 0)) },
            )
            .unwrap();
    }
    let start = Instant::now();
    for i in 0..AGENTS {
        let id = format!("agent_{i:05}");
        engine
            .execute(
                &admin,
                Command::CreateUser { id: id.clone(), name: id.clone(), roles: vec![Role::Agent], teams: vec![] },
            )
            .unwrap();
        let queues: Vec<usize> = (0..3).map(|_| rng.random_range(0..QUEUES)).collect();
        let profile = AgentProfile {
            skills: queues
                .iter()
                .flat_map(|&q| [queue_skill(q, 0), queue_skill(q, 1)])
                .map(|s| (s, rng.random_range(1..=5)))
                .collect(),
            languages: vec!["en".into()],
            capacity: Capacity { total: 3, per_kind: BTreeMap::new() },
            queues: queues.iter().map(|q| format!("queue_{q:03}")).collect(),
        };
        engine.execute(&admin, Command::SetAgentProfile { user_id: id, profile }).unwrap();
    }
    let creator = Actor::new("agent_00000", &[Role::Agent]);
    for i in 0..tasks {
        let command = Command::CreateCase {
            case_type: format!("type_{:03}", i % QUEUES),
            intent: None,
            customer_id: None,
            subject: format!("case {i}"),
            description: String::new(),
            fields: Default::default(),
            priority: Some(rng.random_range(1..=5)),
            interaction_id: None,
            contact: None,
            external_id: None,
        };
        engine.execute(&creator, command).unwrap();
    }
    eprintln!("   (set-up: {AGENTS} agents and {tasks} waiting tasks in {:.0} s)", start.elapsed().as_secs_f64());
    let mut times = Vec::with_capacity(decisions);
    let start = Instant::now();
    let mut assigned = 0;
    for i in 0..decisions {
        let who = Actor::new(format!("agent_{:05}", (i * 7919) % AGENTS), &[Role::Agent]);
        let t0 = Instant::now();
        let r = engine.execute(&who, Command::PullNextTask { queue: None });
        times.push(t0.elapsed());
        assigned += usize::from(r.is_ok());
    }
    let elapsed = start.elapsed();
    times.sort();
    println!("\n3. decisions committed to SQLite: PullNextTask over {tasks} waiting tasks, {decisions} decisions ({assigned} assigned)");
    println!(
        "    {:.0} decisions/s   p50 {:.1} µs   p99 {:.1} µs",
        decisions as f64 / elapsed.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    println!("casedesk routing benchmark: {AGENTS} agents, {TASKS} waiting tasks, {SKILLS} skills, {QUEUES} queues");
    in_memory();
    let tasks = std::env::var("BENCH_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(TASKS);
    committed(tasks, 10_000);
}
