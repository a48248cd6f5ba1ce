//! Every report of a [`HistoricalReport`] as a CSV file (one table each), so a figure
//! can go into a spreadsheet as the app shows it.

use crate::engine::HistoricalReport;
use crate::error::{Error, Result};

fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<String> {
    let mut w = csv::Writer::from_writer(vec![]);
    let failed = |e: csv::Error| Error::Storage(format!("writing CSV: {e}"));
    w.write_record(header).map_err(failed)?;
    for row in rows {
        w.write_record(&row).map_err(failed)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Storage(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Storage(e.to_string()))
}

fn num(v: f64) -> String {
    format!("{v:.2}")
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

fn time_in(t: &crate::reports::TimeIn) -> Vec<String> {
    vec![t.name.clone(), num(t.total_hours), t.cases.to_string(), num(t.mean_hours)]
}

/// (file name, CSV text) for each report.
pub fn files(r: &HistoricalReport) -> Result<Vec<(String, String)>> {
    let s = &r.sla;
    Ok(vec![
        (
            "sla-adherence.csv".into(),
            table(
                &["what", "finished", "within", "percent"],
                [
                    vec![
                        "cases".into(),
                        s.cases_closed.to_string(),
                        s.cases_within_sla.to_string(),
                        opt(s.case_percent),
                    ],
                    vec![
                        "tasks".into(),
                        s.tasks_finished.to_string(),
                        s.tasks_within_ola.to_string(),
                        opt(s.task_percent),
                    ],
                ],
            )?,
        ),
        (
            "breaches-by-step.csv".into(),
            table(
                &["stage", "step", "breaches"],
                s.breaches_by_step.iter().map(|b| vec![b.stage.clone(), b.step.clone(), b.count.to_string()]),
            )?,
        ),
        (
            "resolution-time.csv".into(),
            table(
                &["case_type", "cases", "mean_hours", "p50_hours", "p90_hours"],
                r.resolution.iter().map(|t| {
                    vec![
                        t.case_type.clone(),
                        t.cases.to_string(),
                        num(t.mean_hours),
                        num(t.p50_hours),
                        num(t.p90_hours),
                    ]
                }),
            )?,
        ),
        (
            "time-in-status.csv".into(),
            table(&["status", "total_hours", "cases", "mean_hours"], r.time_in_status.iter().map(time_in))?,
        ),
        (
            "time-in-stage.csv".into(),
            table(&["stage", "total_hours", "cases", "mean_hours"], r.time_in_stage.iter().map(time_in))?,
        ),
        (
            "volume-by-day.csv".into(),
            table(
                &["day", "opened", "closed", "backlog"],
                r.volume.iter().map(|v| {
                    vec![v.day.to_string(), v.opened.to_string(), v.closed.to_string(), v.backlog.to_string()]
                }),
            )?,
        ),
        (
            "volume-by-week.csv".into(),
            table(
                &["week_of", "opened", "closed", "backlog"],
                r.weekly.iter().map(|v| {
                    vec![v.day.to_string(), v.opened.to_string(), v.closed.to_string(), v.backlog.to_string()]
                }),
            )?,
        ),
        (
            "escalations.csv".into(),
            table(
                &["case_type", "manual", "automatic", "reassignments"],
                r.escalations.iter().map(|e| {
                    vec![
                        e.case_type.clone(),
                        e.manual.to_string(),
                        e.automatic.to_string(),
                        e.reassignments.to_string(),
                    ]
                }),
            )?,
        ),
        (
            "work-by-agent.csv".into(),
            table(
                &["agent", "tasks_completed", "escalations", "auto_escalated"],
                r.work_by_agent.iter().map(|w| {
                    vec![
                        w.user_id.clone(),
                        w.tasks_completed.to_string(),
                        w.escalations.to_string(),
                        w.auto_escalated.to_string(),
                    ]
                }),
            )?,
        ),
        (
            "task-aging.csv".into(),
            table(&["age", "open_tasks"], r.task_aging.iter().map(|a| vec![a.label.clone(), a.tasks.to_string()]))?,
        ),
        (
            "agent-time.csv".into(),
            table(
                &["agent", "kind", "state", "hours"],
                r.agent_time.iter().flat_map(|a| {
                    let presence =
                        a.presence.iter().map(|(k, h)| vec![a.user_id.clone(), "presence".into(), k.clone(), num(*h)]);
                    let routing = a
                        .routing_status
                        .iter()
                        .map(|(k, h)| vec![a.user_id.clone(), "routing_status".into(), k.clone(), num(*h)]);
                    presence.chain(routing).collect::<Vec<_>>()
                }),
            )?,
        ),
    ])
}
