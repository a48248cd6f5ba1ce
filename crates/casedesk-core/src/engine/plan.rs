//! The case plan at work: which tasks a stage creates, where each outcome leads, and how
//! a case closes. The invariant kept here: a closed case has no open task.

use super::Ctx;
use crate::casetype::{CaseTypeDef, Outcome, Then};
use crate::error::Result;
use crate::model::*;
use serde_json::{json, Map, Value};

/// Starts a stage: all its steps at once when parallel, else its first step. The caller
/// writes the case row afterwards if its stage changed.
pub fn enter_stage(ctx: &mut Ctx, case: &mut Case, def: &CaseTypeDef, stage: usize) -> Result<()> {
    let st = &def.stages[stage];
    if case.stage.as_deref() != Some(&st.id) {
        let before = json!({ "stage": case.stage });
        case.stage = Some(st.id.clone());
        case.updated_at = ctx.now;
        ctx.emit("case_stage_changed", Some(case.id), None, before, json!({ "stage": st.id }))?;
    }
    let steps = if st.parallel { 0..st.steps.len() } else { 0..1 };
    for step in steps {
        create_task(ctx, case, def, (stage, step), Placement::default())?;
    }
    Ok(())
}

/// Where a new task goes, when not simply to its step's queue.
#[derive(Debug, Default)]
pub struct Placement {
    /// The agent considered first for the queue's preferred-agent window (default: the
    /// case owner); e.g. the original advisor, for verification.
    pub preferred: Option<String>,
    /// A queue other than the step's: an escalation target.
    pub queue: Option<String>,
    pub escalation_level: u32,
    /// A priority other than the step's (an escalation raises it).
    pub priority: Option<Priority>,
}

/// Creates the task of one step, queued for routing; business rules may add to it first.
pub fn create_task(
    ctx: &mut Ctx,
    case: &mut Case,
    def: &CaseTypeDef,
    (stage, step): (usize, usize),
    placement: Placement,
) -> Result<Task> {
    let st = &def.stages[stage];
    let s = &st.steps[step];
    let Placement { preferred, queue, escalation_level, priority } = placement;
    let origin =
        super::automation::TaskOrigin { explicit_queue: queue.is_some(), explicit_preferred: preferred.is_some() };
    let task = Task {
        id: ctx.new_id(),
        case_id: case.id,
        stage: st.id.clone(),
        step: s.id.clone(),
        name: s.name.clone(),
        kind: s.kind,
        state: TaskState::Queued,
        queue: Some(queue.unwrap_or_else(|| s.queue.clone())),
        assignee: None,
        priority: priority.unwrap_or_else(|| s.priority.unwrap_or(case.priority).min(case.priority)),
        escalation_level,
        outcome: None,
        form_values: Map::new(),
        reason: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        completed_at: None,
        requirements: crate::routing::Requirements { skills: s.skills.clone(), language: s.language.clone() },
        offered_to: None,
        offer_expires_at: None,
        // End-to-end ownership: the case owner is considered first, unless told otherwise.
        preferred_agent: preferred.or_else(|| case.owner.clone()),
        queued_at: Some(ctx.now),
        route_rank: None,
        reroute_at: None,
        on_screen_by: None,
        ola: s.ola.clone(),
        ola_clock: s.ola.as_ref().map(|o| super::sla::start(ctx, o)).transpose()?,
    };
    let mut task = task;
    // Business rules add routing requirements, a queue, a preferred agent, a priority.
    let fired = super::automation::on_task_created(ctx, case, def, &mut task, &origin)?;
    super::routing::place(ctx, &mut task)?;
    ctx.tx.put_task(&task)?;
    ctx.route_tasks.push(task.id);
    if let Some(clock) = &task.ola_clock {
        ctx.timers.push((clock.clone(), super::TimerSubject::Task(task.id)));
    }
    ctx.emit("task_created", Some(case.id), Some(task.id), Value::Null, serde_json::to_value(&task)?)?;
    super::automation::record(ctx, case, Some(task.id), fired)?;
    if case.stage.as_deref() != Some(&st.id) {
        let before = json!({ "stage": case.stage });
        case.stage = Some(st.id.clone());
        ctx.emit("case_stage_changed", Some(case.id), None, before, json!({ "stage": st.id }))?;
    }
    Ok(task)
}

/// Follows an outcome of a finished task (already written as completed or escalated).
pub fn follow(ctx: &mut Ctx, case: &mut Case, def: &CaseTypeDef, task: &Task, outcome: &Outcome) -> Result<()> {
    let here = def.locate_step(&task.step).expect("tasks belong to steps of their pinned version");
    match outcome.then {
        Then::Next => {
            let stage = &def.stages[here.0];
            if stage.parallel {
                let others_open =
                    ctx.tx.tasks_of_case(case.id)?.iter().any(|t| t.stage == stage.id && t.state.is_open());
                if !others_open {
                    advance(ctx, case, def, here.0 + 1)?;
                }
            } else if here.1 + 1 < stage.steps.len() {
                create_task(ctx, case, def, (here.0, here.1 + 1), Placement::default())?;
            } else {
                advance(ctx, case, def, here.0 + 1)?;
            }
        }
        Then::Close => {
            let status = outcome.status.clone().unwrap_or_else(|| def.statuses.on_complete.clone());
            close_case(ctx, case, &status, task.reason.clone())?;
        }
        Then::Escalate => {
            let step = &def.stages[here.0].steps[here.1];
            let level = task.escalation_level + 1;
            let Some(target) = step.escalation_target(level).cloned() else {
                return Err(crate::error::Error::Conflict(format!(
                    "step '{}' has no escalation level {level}: the chain ends at level {}",
                    step.id,
                    level - 1
                )));
            };
            let placement = Placement { queue: Some(target), escalation_level: level, ..Placement::default() };
            create_task(ctx, case, def, here, placement)?;
        }
        Then::SendBack => {
            let target = outcome.step.as_deref().expect("checked on load");
            let at = def.locate_step(target).expect("checked on load");
            // Verification goes first to the person who did that step last.
            let advisor = ctx
                .tx
                .tasks_of_case(case.id)?
                .into_iter()
                .rfind(|t| t.step == target && t.state == TaskState::Completed)
                .and_then(|t| t.assignee);
            leave_stage(ctx, case, &def.stages[here.0].id, at.0 != here.0)?;
            create_task(ctx, case, def, at, Placement { preferred: advisor, ..Placement::default() })?;
        }
        Then::Goto => {
            let at = def.locate_step(outcome.step.as_deref().expect("checked on load")).expect("checked on load");
            leave_stage(ctx, case, &def.stages[here.0].id, at.0 != here.0)?;
            create_task(ctx, case, def, at, Placement::default())?;
        }
    }
    Ok(())
}

/// Work jumps to another stage: what is still open in the stage it leaves (the other
/// branches of a parallel stage) is cancelled, so the plan never runs twice.
fn leave_stage(ctx: &mut Ctx, case: &Case, stage: &str, leaving: bool) -> Result<()> {
    if !leaving {
        return Ok(());
    }
    let open = ctx.tx.tasks_of_case(case.id)?.into_iter().filter(|t| t.stage == stage && t.state.is_open());
    for t in open.collect::<Vec<_>>() {
        cancel_task(ctx, t, "the work moved to another stage")?;
    }
    Ok(())
}

fn cancel_task(ctx: &mut Ctx, mut t: Task, because: &str) -> Result<()> {
    ctx.route_agents.extend(t.assignee.clone().into_iter().chain(t.offered_to.take()));
    t.offer_expires_at = None;
    let before = json!({ "state": t.state });
    t.state = TaskState::Cancelled;
    t.updated_at = ctx.now;
    t.completed_at = Some(ctx.now);
    ctx.tx.put_task(&t)?;
    ctx.emit("task_cancelled", Some(t.case_id), Some(t.id), before, json!({ "state": t.state, "because": because }))
}

fn advance(ctx: &mut Ctx, case: &mut Case, def: &CaseTypeDef, next_stage: usize) -> Result<()> {
    if next_stage < def.stages.len() {
        enter_stage(ctx, case, def, next_stage)
    } else {
        close_case(ctx, case, &def.statuses.on_complete.clone(), None)
    }
}

/// Puts the case in a closed status and cancels every task still open.
pub fn close_case(ctx: &mut Ctx, case: &mut Case, status: &str, reason: Option<String>) -> Result<()> {
    for t in ctx.tx.tasks_of_case(case.id)?.into_iter().filter(|t| t.state.is_open()) {
        cancel_task(ctx, t, "case closed")?;
    }
    let before = json!({ "status": case.status, "category": case.status_category });
    if let Some(clock) = &mut case.sla {
        super::sla::pause(ctx, clock);
    }
    case.status = status.to_string();
    case.status_category = StatusCategory::Closed;
    case.closed_at = Some(ctx.now);
    case.updated_at = ctx.now;
    ctx.tx.put_case(case)?;
    ctx.emit(
        "case_closed",
        Some(case.id),
        None,
        before,
        json!({ "status": status, "category": case.status_category, "reason": reason }),
    )
}
