//! A case's life read back from its events: when it opened and closed, which statuses
//! and stages it went through and for how long, whether its SLA was breached, and its
//! tasks. Every report is computed from these, so every figure has one definition.
//!
//! A life is compact, since a report reads one per case: names (statuses, stages,
//! queues, people) are symbols of a [`Names`] table and instants are Unix milliseconds.

use crate::model::{Event, StatusCategory};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smallvec::SmallVec;
use std::collections::HashMap;
use uuid::Uuid;

/// A name (status, stage, step, queue, case type, intent, person) in a [`Names`] table.
pub type Sym = u32;
/// An instant, in Unix milliseconds.
pub type Ms = i64;
/// A short list kept inline (a task's queues and holders are one or two), so reading a
/// life from the store allocates only its stays and its tasks.
pub type Few<T, const N: usize> = SmallVec<[T; N]>;

/// The names lives refer to, each with its symbol.
#[derive(Debug, Default, Clone)]
pub struct Names {
    names: Vec<String>,
    symbols: HashMap<String, Sym>,
}

impl Names {
    /// The table of `names`, in symbol order.
    pub fn from_list(names: Vec<String>) -> Self {
        let symbols = names.iter().enumerate().map(|(i, n)| (n.clone(), i as Sym)).collect();
        Names { names, symbols }
    }

    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(s) = self.symbols.get(name) {
            return *s;
        }
        let s = self.names.len() as Sym;
        self.names.push(name.to_string());
        self.symbols.insert(name.to_string(), s);
        s
    }

    pub fn find(&self, name: &str) -> Option<Sym> {
        self.symbols.get(name).copied()
    }

    pub fn name(&self, s: Sym) -> &str {
        self.names.get(s as usize).map_or("", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names from symbol `from` on (those added since the table had `from`).
    pub fn since(&self, from: usize) -> &[String] {
        &self.names[from.min(self.names.len())..]
    }
}

/// What a stay is a stay in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stay {
    Status,
    Stage,
    /// Closed, from a closing to a reopening (its name is not used).
    Closed,
}

/// A stretch of time in one status, stage, or closed; `to` is none while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub stay: Stay,
    pub name: Sym,
    pub from: Ms,
    pub to: Option<Ms>,
}

/// Milliseconds of `[from, to)` (none: still lasting) inside `[start, end)`.
pub fn overlap(from: Ms, to: Option<Ms>, start: Ms, end: Ms) -> i64 {
    (to.unwrap_or(end).min(end) - from.max(start)).max(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ending {
    Completed,
    Escalated,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLife {
    pub stage: Sym,
    pub step: Sym,
    /// Every queue (or workbin) it waited in, first to last.
    pub queues: Few<Sym, 2>,
    pub created_at: Ms,
    /// When it was completed, escalated or cancelled, and which.
    pub ended: Option<(Ms, Ending)>,
    /// Who completed or escalated it by hand; none for the system.
    pub ended_by: Option<Sym>,
    pub assignee: Option<Sym>,
    /// Everyone who held it, first to last.
    pub holders: Few<Sym, 2>,
    /// When its OLA breach was recorded, if it was.
    pub ola_breached_at: Option<Ms>,
    /// Escalated by the timer service (not by hand).
    pub escalated_automatically: bool,
    /// When it was given to another agent after one had it.
    pub reassignments: Few<Ms, 1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseLife {
    pub id: Uuid,
    pub case_type: Sym,
    pub intent: Option<Sym>,
    pub created_at: Ms,
    /// The last close, if the case is closed now.
    pub closed_at: Option<Ms>,
    /// Its statuses, stages and closed stretches, each kind in order (one list, so
    /// reading a life allocates little).
    pub stays: Vec<Interval>,
    pub sla_breached: bool,
    pub tasks: Vec<TaskLife>,
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn remember<const N: usize>(list: &mut Few<Sym, N>, name: Option<Sym>) {
    if let Some(name) = name.filter(|n| !list.contains(n)) {
        list.push(name);
    }
}

/// Ends the current stay of this kind and starts one in `name` (none: in nothing).
fn enter(stays: &mut Vec<Interval>, stay: Stay, name: Option<Sym>, at: Ms) {
    if let Some(last) = stays.iter_mut().rev().find(|i| i.stay == stay) {
        if last.to.is_none() {
            if Some(last.name) == name {
                return;
            }
            last.to = Some(at);
        }
    }
    if let Some(name) = name {
        stays.push(Interval { stay, name, from: at, to: None });
    }
}

/// Moves the case into or out of a closed stretch as its status category says.
fn close_or_open(stays: &mut Vec<Interval>, category: Option<StatusCategory>, at: Ms) {
    match category {
        Some(StatusCategory::Closed) => enter(stays, Stay::Closed, Some(0), at),
        Some(_) => enter(stays, Stay::Closed, None, at),
        None => {}
    }
}

/// Reads one case's events (in order) into its life; none if they do not start with
/// its creation.
pub fn case_life(events: &[Event], names: &mut Names) -> Option<CaseLife> {
    let first = events.first().filter(|e| e.kind == "case_created")?;
    let c = &first.after;
    let category = |v: &Value, key: &str| serde_json::from_value::<StatusCategory>(v.get(key)?.clone()).ok();
    let at = |e: &Event| e.at.timestamp_millis();
    let created = at(first);
    let mut life = CaseLife {
        id: first.case_id?,
        case_type: names.intern(text(c, "case_type")?),
        intent: text(c, "intent").map(|i| names.intern(i)),
        created_at: created,
        closed_at: None,
        stays: Vec::with_capacity(8),
        sla_breached: false,
        tasks: vec![],
    };
    enter(&mut life.stays, Stay::Status, text(c, "status").map(|s| names.intern(s)), created);
    close_or_open(&mut life.stays, category(c, "status_category"), created);
    // Tasks by id, in the order they were created.
    let mut task_index: HashMap<Uuid, usize> = HashMap::new();
    for e in &events[1..] {
        let a = &e.after;
        let when = at(e);
        match e.kind.as_str() {
            "case_status_changed" | "case_reopened" | "case_closed" => {
                enter(&mut life.stays, Stay::Status, text(a, "status").map(|s| names.intern(s)), when);
                close_or_open(&mut life.stays, category(a, "category"), when);
                match e.kind.as_str() {
                    "case_closed" => life.closed_at = Some(when),
                    "case_reopened" => life.closed_at = None,
                    _ => {}
                }
            }
            "case_stage_changed" => {
                enter(&mut life.stays, Stay::Stage, text(a, "stage").map(|s| names.intern(s)), when)
            }
            "case_breached" => life.sla_breached = true,
            "task_created" => {
                let Some(id) = e.task_id else { continue };
                let stage = names.intern(text(a, "stage").unwrap_or_default());
                if life.in_(Stay::Stage).next().is_none() {
                    enter(&mut life.stays, Stay::Stage, Some(stage), life.created_at);
                }
                task_index.insert(id, life.tasks.len());
                life.tasks.push(TaskLife {
                    stage,
                    step: names.intern(text(a, "step").unwrap_or_default()),
                    queues: text(a, "queue").map(|q| names.intern(q)).into_iter().collect(),
                    created_at: when,
                    ended: None,
                    ended_by: None,
                    assignee: None,
                    holders: Few::new(),
                    ola_breached_at: None,
                    escalated_automatically: false,
                    reassignments: Few::new(),
                });
            }
            kind => {
                let Some(t) = e.task_id.and_then(|id| task_index.get(&id)).map(|i| &mut life.tasks[*i]) else {
                    continue;
                };
                let by = || (e.actor != "system").then_some(e.actor.as_str());
                match kind {
                    "task_assigned" => {
                        if t.assignee.is_some() {
                            t.reassignments.push(when);
                        }
                        t.assignee = text(a, "assignee").map(|s| names.intern(s));
                        remember(&mut t.holders, t.assignee);
                    }
                    "task_requeued" => remember(&mut t.queues, text(a, "queue").map(|q| names.intern(q))),
                    "task_breached" => t.ola_breached_at = Some(when),
                    "task_completed" => {
                        t.ended = Some((when, Ending::Completed));
                        t.ended_by = by().map(|b| names.intern(b));
                    }
                    "task_cancelled" => t.ended = Some((when, Ending::Cancelled)),
                    "task_escalated" => {
                        t.ended = Some((when, Ending::Escalated));
                        t.ended_by = by().map(|b| names.intern(b));
                        t.escalated_automatically = text(a, "how") == Some("automatic");
                    }
                    _ => {}
                }
            }
        }
    }
    // A stage lasts until the case's last closing (what follows is closed time).
    if let Some(closed) = life.closed_at {
        if let Some(last) = life.stays.iter_mut().rev().find(|i| i.stay == Stay::Stage && i.to.is_none()) {
            last.to = Some(closed);
        }
    }
    life.stays.shrink_to_fit();
    Some(life)
}

impl CaseLife {
    /// Its stays of one kind, in order.
    pub fn in_(&self, stay: Stay) -> impl Iterator<Item = &Interval> {
        self.stays.iter().filter(move |i| i.stay == stay)
    }

    /// Closings in `[from, to)` (each closing counts).
    pub fn closings_in(&self, from: Ms, to: Ms) -> usize {
        self.in_(Stay::Closed).filter(|k| from <= k.from && k.from < to).count()
    }

    /// Whether the case was open (created, not closed) just before `at`.
    pub fn open_before(&self, at: Ms) -> bool {
        self.created_at < at && !self.in_(Stay::Closed).any(|k| k.from < at && k.to.is_none_or(|to| to >= at))
    }

    /// Milliseconds of `stay` inside `[from, to)` while the case was not closed (the
    /// stretches between a closing and a reopening do not count).
    pub fn open_ms(&self, stay: &Interval, from: Ms, to: Ms) -> i64 {
        let start = stay.from.max(from);
        let end = stay.to.unwrap_or(to).min(to);
        if end <= start {
            return 0;
        }
        let closed: i64 = self.in_(Stay::Closed).map(|k| overlap(k.from, k.to, start, end)).sum();
        end - start - closed
    }

    /// +1 when the case opened or reopened, -1 when it closed: each change of "open" with
    /// its instant, in order (the backlog is their running sum).
    pub fn open_changes(&self) -> impl Iterator<Item = (Ms, i32)> + '_ {
        let initially_closed = self.in_(Stay::Closed).next().is_some_and(|k| k.from == self.created_at);
        let opened = (!initially_closed).then_some((self.created_at, 1));
        let changes = self.in_(Stay::Closed).enumerate().flat_map(move |(i, k)| {
            let closing = (!(i == 0 && initially_closed)).then_some((k.from, -1));
            closing.into_iter().chain(k.to.map(|to| (to, 1)))
        });
        opened.into_iter().chain(changes)
    }
}
