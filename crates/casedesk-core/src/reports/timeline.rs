//! A case's life read back from its events: when it opened and closed, which statuses
//! and stages it went through and for how long, whether its SLA was breached, and its
//! tasks. Every report is computed from these, so every figure has one definition.

use crate::model::{Event, StatusCategory};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A stretch of time in one status (or stage); `to` is none while it lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub name: String,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

impl Interval {
    /// Milliseconds of this interval inside `[from, to)`, counting an open one up to `to`.
    pub fn overlap_ms(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let start = self.from.max(from);
        let end = self.to.unwrap_or(to).min(to);
        (end - start).num_milliseconds().max(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskLife {
    pub id: Uuid,
    pub stage: String,
    pub step: String,
    /// Every queue (or workbin) it waited in, first to last.
    pub queues: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When it was completed, escalated or cancelled, and which.
    pub ended: Option<(DateTime<Utc>, String)>,
    /// Who completed or escalated it ("system" for an automatic escalation).
    pub ended_by: Option<String>,
    pub assignee: Option<String>,
    /// Everyone who held it, first to last.
    pub holders: Vec<String>,
    /// When its OLA breach was recorded, if it was.
    pub ola_breached_at: Option<DateTime<Utc>>,
    pub escalated: Option<String>,
    /// When it was given to another agent after one had it.
    pub reassignments: Vec<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseLife {
    pub id: Uuid,
    pub case_type: String,
    pub intent: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The last close, if the case is closed now.
    pub closed_at: Option<DateTime<Utc>>,
    pub reopened: u32,
    pub statuses: Vec<Interval>,
    pub categories: Vec<Interval>,
    pub stages: Vec<Interval>,
    pub sla_breached: bool,
    pub tasks: Vec<TaskLife>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn remember(list: &mut Vec<String>, name: Option<String>) {
    if let Some(name) = name.filter(|n| !list.contains(n)) {
        list.push(name);
    }
}

fn enter(list: &mut Vec<Interval>, name: Option<String>, at: DateTime<Utc>) {
    if let Some(last) = list.last_mut() {
        if last.to.is_none() {
            if Some(&last.name) == name.as_ref() {
                return;
            }
            last.to = Some(at);
        }
    }
    if let Some(name) = name {
        list.push(Interval { name, from: at, to: None });
    }
}

/// Reads one case's events (in order) into its life; none if they do not start with
/// its creation.
pub fn case_life(events: &[Event]) -> Option<CaseLife> {
    let first = events.first().filter(|e| e.kind == "case_created")?;
    let c = &first.after;
    let category = |v: &Value| serde_json::from_value::<StatusCategory>(v.get("category")?.clone()).ok();
    let mut life = CaseLife {
        id: first.case_id?,
        case_type: text(c, "case_type")?,
        intent: text(c, "intent"),
        created_at: first.at,
        closed_at: None,
        reopened: 0,
        statuses: vec![],
        categories: vec![],
        stages: vec![],
        sla_breached: false,
        tasks: vec![],
    };
    enter(&mut life.statuses, text(c, "status"), first.at);
    enter(&mut life.categories, text(c, "status_category"), first.at);
    let mut tasks: BTreeMap<Uuid, TaskLife> = BTreeMap::new();
    for e in &events[1..] {
        let a = &e.after;
        match e.kind.as_str() {
            "case_status_changed" | "case_reopened" | "case_closed" => {
                enter(&mut life.statuses, text(a, "status"), e.at);
                let cat = category(a).map(|c| serde_json::to_value(c).ok().and_then(|v| v.as_str().map(String::from)));
                enter(&mut life.categories, cat.flatten(), e.at);
                match e.kind.as_str() {
                    "case_closed" => life.closed_at = Some(e.at),
                    "case_reopened" => {
                        life.reopened += 1;
                        life.closed_at = None;
                    }
                    _ => {}
                }
            }
            "case_stage_changed" => enter(&mut life.stages, text(a, "stage"), e.at),
            "case_breached" => life.sla_breached = true,
            "task_created" => {
                let Some(id) = e.task_id else { continue };
                if life.stages.is_empty() {
                    enter(&mut life.stages, text(a, "stage"), life.created_at);
                }
                tasks.insert(
                    id,
                    TaskLife {
                        id,
                        stage: text(a, "stage").unwrap_or_default(),
                        step: text(a, "step").unwrap_or_default(),
                        queues: text(a, "queue").into_iter().collect(),
                        created_at: e.at,
                        ended: None,
                        ended_by: None,
                        assignee: None,
                        holders: vec![],
                        ola_breached_at: None,
                        escalated: None,
                        reassignments: vec![],
                    },
                );
            }
            kind => {
                let Some(t) = e.task_id.and_then(|id| tasks.get_mut(&id)) else { continue };
                match kind {
                    "task_assigned" => {
                        if t.assignee.is_some() {
                            t.reassignments.push(e.at);
                        }
                        t.assignee = text(a, "assignee");
                        remember(&mut t.holders, t.assignee.clone());
                    }
                    "task_requeued" => remember(&mut t.queues, text(a, "queue")),
                    "task_breached" => t.ola_breached_at = Some(e.at),
                    "task_completed" => {
                        t.ended = Some((e.at, "completed".into()));
                        t.ended_by = Some(e.actor.clone());
                    }
                    "task_cancelled" => t.ended = Some((e.at, "cancelled".into())),
                    "task_escalated" => {
                        t.ended = Some((e.at, "escalated".into()));
                        t.ended_by = Some(e.actor.clone());
                        t.escalated = Some(text(a, "how").unwrap_or_else(|| "manual".into()));
                    }
                    _ => {}
                }
            }
        }
    }
    if life.closed_at.is_some() {
        let at = life.closed_at;
        for list in [&mut life.stages] {
            if let Some(last) = list.last_mut().filter(|l| l.to.is_none()) {
                last.to = at;
            }
        }
    }
    life.tasks = tasks.into_values().collect();
    Some(life)
}

impl CaseLife {
    /// Whether the case was closed at some instant in `[from, to)` (each closing counts).
    pub fn closings_in(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> usize {
        self.categories.iter().filter(|k| k.name == "closed" && from <= k.from && k.from < to).count()
    }

    /// Whether the case was open (created, not in a closed status) just before `at`.
    pub fn open_before(&self, at: DateTime<Utc>) -> bool {
        self.created_at < at && self.categories.iter().rev().find(|k| k.from < at).is_some_and(|k| k.name != "closed")
    }

    /// Milliseconds of `stay` inside `[from, to)` while the case was not closed (the
    /// stretches between a closing and a reopening do not count).
    pub fn open_ms(&self, stay: &Interval, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let start = stay.from.max(from);
        let end = stay.to.unwrap_or(to).min(to);
        if end <= start {
            return 0;
        }
        let closed: i64 = self.categories.iter().filter(|k| k.name == "closed").map(|k| k.overlap_ms(start, end)).sum();
        (end - start).num_milliseconds() - closed
    }

    /// +1 when the case opened or reopened, -1 when it closed: each change of "open" with
    /// its instant, in order (the backlog is their running sum).
    pub fn open_changes(&self) -> impl Iterator<Item = (DateTime<Utc>, i32)> + '_ {
        let mut was_open = false;
        self.categories.iter().filter_map(move |k| {
            let open = k.name != "closed";
            let change = (open != was_open).then_some((k.from, if open { 1 } else { -1 }));
            was_open = open;
            change
        })
    }
}
