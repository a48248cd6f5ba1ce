//! Service-level clocks in commands: start a case's SLA and a task's OLA, pause while the
//! case waits on the customer, resume or reset on reopening, recompute when a supervisor
//! changes an OLA. The arithmetic is `crate::calendar`'s.

use super::permissions::{require, Action};
use super::Ctx;
use crate::calendar::{deadlines, Calendar, CalendarDef};
use crate::casetype::{ServiceLevel, TimeBasis};
use crate::error::{Error, Result};
use crate::model::SlaClock;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

pub fn define_calendar(ctx: &mut Ctx, calendar: CalendarDef) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    calendar.compile()?;
    let before = ctx.tx.calendar(&calendar.id)?;
    if before.as_ref() == Some(&calendar) {
        return Ok(());
    }
    ctx.tx.put_calendar(&calendar, ctx.now)?;
    ctx.created_id = Some(calendar.id.clone());
    ctx.emit("calendar_defined", None, None, serde_json::to_value(before)?, serde_json::to_value(&calendar)?)
}

fn calendar_for(ctx: &Ctx, sl: &ServiceLevel) -> Result<Option<Calendar>> {
    match (&sl.time, &sl.calendar) {
        (TimeBasis::Calendar, _) => Ok(None),
        (TimeBasis::OpenOffice, None) => Err(Error::field("calendar", "open-office time needs a calendar")),
        (TimeBasis::OpenOffice, Some(id)) => match ctx.tx.calendar(id)? {
            Some(def) => Ok(Some(def.compile()?)),
            None => Err(Error::field("calendar", format!("calendar '{id}' is not defined"))),
        },
    }
}

/// A clock started at `start`, having been paused for `paused_ms`.
fn clock(ctx: &Ctx, sl: &ServiceLevel, start: DateTime<Utc>, paused_ms: i64) -> Result<SlaClock> {
    let cal = calendar_for(ctx, sl)?;
    let (due, risk) = deadlines(sl, cal.as_ref(), start, Duration::milliseconds(paused_ms))?;
    Ok(SlaClock {
        started_at: start,
        paused_ms,
        paused_since: None,
        due_at: Some(due),
        at_risk_at: Some(risk),
        at_risk_noted: false,
        breach_noted: false,
    })
}

/// Steps whose OLA would end after the case SLA, both started together on a Monday at
/// 09:00 (in each calendar's zone): the case would breach before the task. Also names
/// calendars that are not defined yet.
pub fn ola_warnings(ctx: &Ctx, def: &crate::casetype::CaseTypeDef) -> Result<Vec<String>> {
    let start =
        chrono::DateTime::parse_from_rfc3339("2027-01-11T08:00:00Z").expect("a valid instant").with_timezone(&Utc);
    let due = |sl: &ServiceLevel| -> Result<Option<DateTime<Utc>>> {
        match calendar_for(ctx, sl) {
            Ok(cal) => Ok(Some(deadlines(sl, cal.as_ref(), start, Duration::zero())?.0)),
            Err(Error::InvalidField { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let mut out = vec![];
    let Some(case_due) = due(&def.sla)? else {
        return Ok(vec![format!("case type '{}': the SLA's calendar is not defined yet", def.id)]);
    };
    for step in def.stages.iter().flat_map(|s| &s.steps) {
        let Some(ola) = &step.ola else { continue };
        match due(ola)? {
            None => out.push(format!("step '{}': the OLA's calendar is not defined yet", step.id)),
            Some(d) if d > case_due => out.push(format!(
                "step '{}': its OLA ({} {:?}) ends after the case SLA ({} {:?}); the case would breach first",
                step.id, ola.duration, ola.unit, def.sla.duration, def.sla.unit
            )),
            Some(_) => {}
        }
    }
    Ok(out)
}

pub fn start(ctx: &Ctx, sl: &ServiceLevel) -> Result<SlaClock> {
    clock(ctx, sl, ctx.now, 0)
}

/// Stops the clock (the case waits on the customer, or is closed).
pub fn pause(ctx: &Ctx, c: &mut SlaClock) {
    if c.paused_since.is_none() {
        c.paused_since = Some(ctx.now);
        c.due_at = None;
        c.at_risk_at = None;
    }
}

/// Starts a paused clock again; the paused time, measured the way the clock counts
/// (open hours or all hours), moves the deadlines.
pub fn resume(ctx: &Ctx, sl: &ServiceLevel, c: &mut SlaClock) -> Result<()> {
    let Some(since) = c.paused_since.take() else { return Ok(()) };
    let paused = match calendar_for(ctx, sl)? {
        Some(cal) => cal.open_time_between(since, ctx.now),
        None => ctx.now - since,
    };
    *c = clock(ctx, sl, c.started_at, c.paused_ms + paused.num_milliseconds())?;
    Ok(())
}

/// A supervisor gives tasks another OLA; their deadlines are recomputed from when each
/// task began.
pub fn change_ola(ctx: &mut Ctx, task_ids: Vec<Uuid>, ola: ServiceLevel) -> Result<()> {
    require(ctx.actor, Action::AssignOthers)?;
    if ola.duration == 0 {
        return Err(Error::field("ola.duration", "must be above 0"));
    }
    if !(1..=99).contains(&ola.at_risk_percent) {
        return Err(Error::field("ola.at_risk_percent", format!("must be 1 to 99, not {}", ola.at_risk_percent)));
    }
    if task_ids.is_empty() {
        return Err(Error::field("task_ids", "name at least one task"));
    }
    for id in task_ids {
        let mut task = ctx.task(id)?;
        super::tasks::require_open(&task, "a new OLA")?;
        let before = json!({ "ola": task.ola, "due_at": task.ola_clock.as_ref().and_then(|c| c.due_at) });
        task.ola_clock = Some(clock(ctx, &ola, task.created_at, 0)?);
        task.ola = Some(ola.clone());
        task.updated_at = ctx.now;
        ctx.tx.put_task(&task)?;
        if let Some(clock) = &task.ola_clock {
            ctx.timers.push((clock.clone(), super::TimerSubject::Task(task.id)));
        }
        let after = json!({ "ola": task.ola, "due_at": task.ola_clock.as_ref().and_then(|c| c.due_at) });
        ctx.emit("task_ola_changed", Some(task.case_id), Some(task.id), before, after)?;
    }
    Ok(())
}
