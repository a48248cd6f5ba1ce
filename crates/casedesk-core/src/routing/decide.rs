//! The routing decisions, as pure functions: who is eligible for a task, which agent
//! gets it, which task an agent gets next.

use super::model::*;
use crate::model::{Priority, TaskKind};
use chrono::{DateTime, Utc};
use std::cmp::Reverse;
use uuid::Uuid;

/// A task waiting in a queue, as routing sees it.
#[derive(Debug, Clone)]
pub struct Waiting<'a> {
    pub id: Uuid,
    pub kind: TaskKind,
    pub priority: Priority,
    pub queue: &'a str,
    pub queued_at: DateTime<Utc>,
    pub requirements: &'a Requirements,
    /// The case owner or the original advisor, waited for during the queue's window.
    pub preferred_agent: Option<&'a str>,
}

/// An eligible agent and how well they fit.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub agent: &'a Agent,
    pub skill_score: u32,
}

/// The requirements after the bullseye rings that `waited_seconds` has reached.
pub fn effective_requirements(req: &Requirements, queue: &QueueConfig, waited_seconds: i64) -> Requirements {
    let reached = queue.rings.iter().filter(|r| i64::from(r.after_seconds) <= waited_seconds);
    let mut out = req.clone();
    for ring in reached {
        for s in &ring.drop_skills {
            out.skills.remove(s);
        }
        for min in out.skills.values_mut() {
            *min = min.saturating_sub(ring.relax_proficiency);
        }
    }
    out
}

/// Whether `agent` may take `task` now (skills, language, capacity, membership, the
/// preferred-agent window); with their skill score. Readiness is the caller's: routing
/// pushes only to agents who `can_be_offered`, pulling is the agent's own choice.
pub fn eligible<'a>(
    agent: &'a Agent,
    task: &Waiting,
    queue: &QueueConfig,
    now: DateTime<Utc>,
) -> Option<Candidate<'a>> {
    if !agent.has_room_for(task.kind) || !agent.profile.works_in(&agent.user_id, task.queue) {
        return None;
    }
    let waited = (now - task.queued_at).num_seconds();
    if let Some(preferred) = task.preferred_agent {
        if waited < i64::from(queue.preferred_agent_seconds) && agent.user_id != preferred {
            return None;
        }
    }
    if let Some(lang) = &task.requirements.language {
        if !agent.profile.languages.iter().any(|l| l == lang) {
            return None;
        }
    }
    if queue.skill_evaluation == SkillEvaluation::IgnoreSkills {
        return Some(Candidate { agent, skill_score: 0 });
    }
    let req = effective_requirements(task.requirements, queue, waited);
    let mut score = 0;
    for (skill, min) in &req.skills {
        let have = agent.profile.skills.get(skill).copied()?;
        if have < *min {
            return None;
        }
        score += u32::from(have);
    }
    let skill_score = if queue.skill_evaluation == SkillEvaluation::BestAvailableSkills { score } else { 0 };
    Some(Candidate { agent, skill_score })
}

/// Skill first, then fairness: least recently assigned (never first), lowest load, id.
type AgentKey<'a> = (u32, Reverse<Option<DateTime<Utc>>>, Reverse<u32>, Reverse<&'a str>);

fn agent_key<'a>(c: &Candidate<'a>) -> AgentKey<'a> {
    (c.skill_score, Reverse(c.agent.last_assigned_at), Reverse(c.agent.total_load()), Reverse(c.agent.user_id.as_str()))
}

/// The agent who should be offered `task`, among `agents`.
pub fn best_agent<'a>(
    agents: impl IntoIterator<Item = &'a Agent>,
    task: &Waiting,
    queue: &QueueConfig,
    now: DateTime<Utc>,
) -> Option<&'a Agent> {
    agents
        .into_iter()
        .filter(|a| a.can_be_offered())
        .filter_map(|a| eligible(a, task, queue, now))
        .max_by(|x, y| agent_key(x).cmp(&agent_key(y)))
        .map(|c| c.agent)
}

/// The next instant after `now` at which more agents may become eligible for a waiting
/// task: the end of the preferred-agent window, or the next bullseye ring.
pub fn next_widening(task: &Waiting, queue: &QueueConfig, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let window = task
        .preferred_agent
        .map(|_| task.queued_at + chrono::Duration::seconds(i64::from(queue.preferred_agent_seconds)));
    let rings = queue.rings.iter().map(|r| task.queued_at + chrono::Duration::seconds(i64::from(r.after_seconds)));
    window.into_iter().chain(rings).filter(|t| *t > now).min()
}

/// How urgent a waiting task is under its queue's ordering, higher first. Waiting time
/// grows alike for every task, so the order never changes while tasks wait: the rank
/// can be computed once, when the task is queued, and kept in an index.
pub fn rank(priority: Priority, queued_at: DateTime<Utc>, queue: &QueueConfig) -> i64 {
    let level = 5 - i64::from(priority.clamp(1, 5));
    let level_weight = match queue.ordering {
        // `wait_minutes_per_priority` minutes of waiting count as one priority level.
        QueueOrdering::PriorityPlusWait => i64::from(queue.wait_minutes_per_priority) * 60_000,
        // Any difference in priority outweighs any waiting time.
        QueueOrdering::StrictPriority => 1 << 42,
    };
    level * level_weight - queued_at.timestamp_millis()
}

/// The task `agent` should get next among `tasks`: the most urgent one they are eligible
/// for. Tasks they cannot take are skipped, so an urgent task nobody ready can do never
/// holds up the rest of the backlog.
pub fn best_task<'a, 'q>(
    agent: &Agent,
    tasks: impl IntoIterator<Item = &'a Waiting<'a>>,
    queue_of: impl Fn(&str) -> &'q QueueConfig,
    now: DateTime<Utc>,
) -> Option<&'a Waiting<'a>> {
    tasks
        .into_iter()
        .filter(|t| eligible(agent, t, queue_of(t.queue), now).is_some())
        .max_by_key(|t| (rank(t.priority, t.queued_at, queue_of(t.queue)), Reverse(t.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
    }

    pub fn agent(id: &str, skills: &[(&str, u8)]) -> Agent {
        Agent {
            user_id: id.into(),
            presence: Presence::Available,
            secondary: None,
            on_queue: true,
            not_responding: false,
            routing_status: RoutingStatus::Idle,
            profile: AgentProfile {
                skills: skills.iter().map(|(s, p)| (s.to_string(), *p)).collect(),
                languages: vec!["en".into()],
                capacity: Capacity { total: 2, per_kind: BTreeMap::from([(TaskKind::Form, 1)]) },
                queues: vec!["q".into()],
            },
            last_assigned_at: None,
            load: BTreeMap::new(),
            pending_offers: 0,
        }
    }

    fn queue(eval: SkillEvaluation) -> QueueConfig {
        QueueConfig { skill_evaluation: eval, mode: QueueMode::Push, ..QueueConfig::pull("q") }
    }

    fn req(skills: &[(&str, u8)]) -> Requirements {
        Requirements { skills: skills.iter().map(|(s, p)| (s.to_string(), *p)).collect(), language: None }
    }

    fn waiting<'a>(r: &'a Requirements, priority: Priority, queued_at: DateTime<Utc>) -> Waiting<'a> {
        Waiting {
            id: Uuid::now_v7(),
            kind: TaskKind::Generic,
            priority,
            queue: "q",
            queued_at,
            requirements: r,
            preferred_agent: None,
        }
    }

    #[test]
    fn skills_proficiency_and_fairness_decide() {
        let r = req(&[("billing", 3)]);
        let task = waiting(&r, 3, t0());
        let mut a = agent("a", &[("billing", 3)]);
        let b = agent("b", &[("billing", 5)]);
        let c = agent("c", &[("billing", 2)]);
        let all = queue(SkillEvaluation::AllSkillsMatching);
        let best = queue(SkillEvaluation::BestAvailableSkills);
        assert!(eligible(&c, &task, &all, t0()).is_none(), "below the minimum");
        assert_eq!(best_agent([&a, &b, &c], &task, &best, t0()).unwrap().user_id, "b", "best skills win");
        // All-matching: skill level does not count, fairness does: the one never assigned.
        let mut b2 = b.clone();
        b2.last_assigned_at = Some(t0());
        assert_eq!(best_agent([&a, &b2, &c], &task, &all, t0()).unwrap().user_id, "a");
        a.last_assigned_at = Some(t0() + chrono::Duration::seconds(1));
        assert_eq!(best_agent([&a, &b2, &c], &task, &all, t0()).unwrap().user_id, "b", "least recently assigned");
        // Ignore skills: even c qualifies, and the longest idle wins.
        assert_eq!(best_agent([&a, &b2, &c], &task, &queue(SkillEvaluation::IgnoreSkills), t0()).unwrap().user_id, "c");
    }

    #[test]
    fn capacity_readiness_membership_and_language() {
        let r = req(&[]);
        let mut form = waiting(&r, 3, t0());
        form.kind = TaskKind::Form;
        let q = queue(SkillEvaluation::AllSkillsMatching);
        let mut a = agent("a", &[]);
        assert!(eligible(&a, &form, &q, t0()).is_some());
        a.load.insert(TaskKind::Form, 1);
        assert!(eligible(&a, &form, &q, t0()).is_none(), "per-kind capacity");
        a.load = BTreeMap::from([(TaskKind::Generic, 2)]);
        assert!(eligible(&a, &waiting(&r, 3, t0()), &q, t0()).is_none(), "total capacity");
        let mut b = agent("b", &[]);
        let task = waiting(&r, 3, t0());
        b.not_responding = true;
        assert!(best_agent([&b], &task, &q, t0()).is_none(), "not responding: no push");
        b.not_responding = false;
        b.presence = Presence::Break;
        assert!(best_agent([&b], &task, &q, t0()).is_none(), "on a break: no push");
        b.presence = Presence::Available;
        b.pending_offers = 1;
        assert!(best_agent([&b], &task, &q, t0()).is_none(), "one alert at a time");
        let mut c = agent("c", &[]);
        c.profile.queues.clear();
        assert!(eligible(&c, &waiting(&r, 3, t0()), &q, t0()).is_none(), "not a member of the queue");
        let german = Requirements { skills: BTreeMap::new(), language: Some("de".into()) };
        assert!(eligible(&agent("d", &[]), &waiting(&german, 3, t0()), &q, t0()).is_none());
    }

    #[test]
    fn bullseye_rings_relax_requirements_over_time() {
        let r = req(&[("networking", 4), ("fiber", 3)]);
        let mut q = queue(SkillEvaluation::AllSkillsMatching);
        q.rings = vec![
            Ring { after_seconds: 60, relax_proficiency: 1, drop_skills: vec![] },
            Ring { after_seconds: 300, relax_proficiency: 0, drop_skills: vec!["fiber".into()] },
        ];
        let junior = agent("j", &[("networking", 3)]);
        let task = waiting(&r, 3, t0());
        assert!(eligible(&junior, &task, &q, t0()).is_none());
        assert!(eligible(&junior, &task, &q, t0() + chrono::Duration::seconds(61)).is_none(), "still lacks fiber");
        assert!(eligible(&junior, &task, &q, t0() + chrono::Duration::seconds(301)).is_some());
    }

    #[test]
    fn the_preferred_agent_is_waited_for_then_anyone() {
        let r = req(&[]);
        let mut task = waiting(&r, 3, t0());
        task.preferred_agent = Some("owner");
        let mut q = queue(SkillEvaluation::AllSkillsMatching);
        q.preferred_agent_seconds = 120;
        let other = agent("other", &[]);
        assert!(eligible(&other, &task, &q, t0() + chrono::Duration::seconds(60)).is_none());
        assert!(eligible(&other, &task, &q, t0() + chrono::Duration::seconds(121)).is_some());
        assert!(eligible(&agent("owner", &[]), &task, &q, t0()).is_some());
    }

    #[test]
    fn ordering_and_no_head_of_line_blocking() {
        let easy = req(&[]);
        let hard = req(&[("legal", 5)]);
        let q = queue(SkillEvaluation::AllSkillsMatching);
        let urgent_hard = waiting(&hard, 1, t0());
        let old_low = waiting(&easy, 5, t0() - chrono::Duration::minutes(500));
        let new_high = waiting(&easy, 2, t0());
        let a = agent("a", &[]);
        let tasks = [urgent_hard.clone(), old_low.clone(), new_high.clone()];
        // The urgent task needs a skill nobody ready has: the agent gets the next one.
        let got = best_task(&a, tasks.iter(), |_| &q, t0()).unwrap();
        // Priority plus wait: 500 minutes of waiting outweigh 3 priority levels (180 min).
        assert_eq!(got.id, old_low.id);
        let strict = QueueConfig { ordering: QueueOrdering::StrictPriority, ..q.clone() };
        assert_eq!(best_task(&a, tasks.iter(), |_| &strict, t0()).unwrap().id, new_high.id);
    }
}
