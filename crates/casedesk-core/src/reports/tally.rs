//! Every figure of a historical report, added up one case life at a time, so a report
//! reads each life once and keeps no more than the figures in memory.

use super::timeline::{CaseLife, Ending, Names, Stay, Sym};
use super::*;
use std::collections::HashMap;

/// The figures of one report, as the engine returns them.
pub struct Figures {
    pub sla: SlaAdherence,
    pub resolution: Vec<ResolutionTime>,
    pub time_in_status: Vec<TimeIn>,
    pub time_in_stage: Vec<TimeIn>,
    pub volume: Vec<DayVolume>,
    pub escalations: Vec<TypeEscalations>,
    pub work_by_agent: Vec<AgentWork>,
    pub task_aging: Vec<AgeBucket>,
}

#[derive(Default)]
struct TimeTotals {
    /// Per name: milliseconds, and the cases with any.
    totals: HashMap<Sym, (i64, u32)>,
    /// One case's stays by name, reused from case to case.
    case: Vec<(Sym, i64)>,
}

impl TimeTotals {
    fn add(&mut self, sel: &Selection, c: &CaseLife, stay: Stay) {
        self.case.clear();
        for s in c.in_(stay) {
            let ms = c.open_ms(s, sel.from, sel.end);
            if ms > 0 {
                match self.case.iter_mut().find(|(n, _)| *n == s.name) {
                    Some((_, total)) => *total += ms,
                    None => self.case.push((s.name, ms)),
                }
            }
        }
        for (name, ms) in &self.case {
            let t = self.totals.entry(*name).or_default();
            t.0 += ms;
            t.1 += 1;
        }
    }

    fn finish(self, names: &Names) -> Vec<TimeIn> {
        let mut out: Vec<TimeIn> = self
            .totals
            .into_iter()
            .map(|(name, (ms, cases))| TimeIn {
                name: names.name(name).to_string(),
                total_hours: hours(ms),
                cases,
                mean_hours: hours(ms) / f64::from(cases),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// Adds lives into every figure of a report for one selection.
pub struct Tally<'n> {
    sel: Selection<'n>,
    cases_closed: u32,
    cases_within_sla: u32,
    tasks_finished: u32,
    tasks_within_ola: u32,
    breaches: HashMap<(Sym, Sym), u32>,
    resolution: HashMap<Sym, Vec<f64>>,
    status: TimeTotals,
    stage: TimeTotals,
    first_day: Ms,
    opened: Vec<u32>,
    closed: Vec<u32>,
    /// Changes of the backlog per day, and before the first day (its starting level).
    change: Vec<i64>,
    before: i64,
    /// Per case type: by hand, automatic, reassignments.
    escalations: HashMap<Sym, (u32, u32, u32)>,
    /// Per agent: completed, escalated by hand, escalated automatically while held.
    work: HashMap<Sym, (u32, u32, u32)>,
    aging: [u32; AGES.len() + 1],
}

impl<'n> Tally<'n> {
    pub fn new(sel: Selection<'n>) -> Self {
        let (first_day, days) = sel.days();
        Tally {
            sel,
            cases_closed: 0,
            cases_within_sla: 0,
            tasks_finished: 0,
            tasks_within_ola: 0,
            breaches: HashMap::new(),
            resolution: HashMap::new(),
            status: TimeTotals::default(),
            stage: TimeTotals::default(),
            first_day,
            opened: vec![0; days],
            closed: vec![0; days],
            change: vec![0; days],
            before: 0,
            escalations: HashMap::new(),
            work: HashMap::new(),
            aging: [0; AGES.len() + 1],
        }
    }

    pub fn add(&mut self, c: &CaseLife) {
        let sel = &self.sel;
        if !sel.selects(c) {
            return;
        }
        // Cases: SLA and resolution of those closed in the range.
        if let Some(closed) = c.closed_at.filter(|at| sel.covers(*at)) {
            self.cases_closed += 1;
            self.cases_within_sla += u32::from(!c.sla_breached);
            self.resolution.entry(c.case_type).or_default().push(hours(closed - c.created_at));
        }
        self.status.add(sel, c, Stay::Status);
        self.stage.add(sel, c, Stay::Stage);
        // Volume: each opening and closing on its day; the backlog is their running sum.
        let (first_day, days) = (self.first_day, self.opened.len());
        let day = |at: Ms| -> Option<usize> {
            let i = (at - first_day).div_euclid(DAY);
            (at >= first_day && (i as usize) < days).then_some(i as usize)
        };
        if let Some(i) = day(c.created_at) {
            self.opened[i] += 1;
        }
        for (at, delta) in c.open_changes() {
            match day(at) {
                Some(i) => {
                    self.change[i] += i64::from(delta);
                    self.closed[i] += u32::from(delta < 0);
                }
                None if at < first_day => self.before += i64::from(delta),
                None => {}
            }
        }
        // Tasks.
        for t in c.tasks.iter().filter(|t| sel.selects_task(t)) {
            if t.ola_breached_at.is_some_and(|at| sel.covers(at)) {
                *self.breaches.entry((t.stage, t.step)).or_default() += 1;
            }
            if let Some((at, how)) = t.ended {
                if how != Ending::Cancelled && sel.covers(at) {
                    self.tasks_finished += 1;
                    self.tasks_within_ola += u32::from(t.ola_breached_at.is_none());
                }
            }
            let row = self.escalations.entry(c.case_type).or_default();
            row.2 += t.reassignments.iter().filter(|at| sel.covers(**at)).count() as u32;
            match sel.escalation(t) {
                Some(true) => row.1 += 1,
                Some(false) => row.0 += 1,
                None => {}
            }
            if let Some((who, how, automatic)) = sel.credit(t) {
                let w = self.work.entry(who).or_default();
                match (how, automatic) {
                    (Ending::Completed, _) => w.0 += 1,
                    (Ending::Escalated, false) => w.1 += 1,
                    (Ending::Escalated, true) => w.2 += 1,
                    (Ending::Cancelled, _) => {}
                }
            }
            if let Some(i) = sel.age_bucket(t) {
                self.aging[i] += 1;
            }
        }
    }

    pub fn finish(self) -> Figures {
        let names = self.sel.names;
        let name = |s: Sym| names.name(s).to_string();
        let percent = |part: u32, whole: u32| (whole > 0).then(|| 100.0 * f64::from(part) / f64::from(whole));
        let mut breaches_by_step: Vec<StepCount> = self
            .breaches
            .into_iter()
            .map(|((stage, step), count)| StepCount { stage: name(stage), step: name(step), count })
            .collect();
        breaches_by_step
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.stage, &a.step).cmp(&(&b.stage, &b.step))));
        let mut resolution: Vec<ResolutionTime> = self
            .resolution
            .into_iter()
            .map(|(case_type, mut h)| {
                h.sort_by(f64::total_cmp);
                ResolutionTime {
                    case_type: name(case_type),
                    cases: h.len() as u32,
                    mean_hours: h.iter().sum::<f64>() / h.len() as f64,
                    p50_hours: nearest_rank(&h, 0.5),
                    p90_hours: nearest_rank(&h, 0.9),
                }
            })
            .collect();
        resolution.sort_by(|a, b| a.case_type.cmp(&b.case_type));
        let mut backlog = self.before;
        let volume = (0..self.opened.len())
            .map(|i| {
                backlog += self.change[i];
                DayVolume {
                    day: day_of(self.first_day + i as i64 * DAY),
                    opened: self.opened[i],
                    closed: self.closed[i],
                    backlog: backlog.max(0) as u32,
                }
            })
            .collect();
        let mut escalations: Vec<TypeEscalations> = self
            .escalations
            .into_iter()
            .map(|(t, (manual, automatic, reassignments))| TypeEscalations {
                case_type: name(t),
                manual,
                automatic,
                reassignments,
            })
            .collect();
        escalations.sort_by(|a, b| a.case_type.cmp(&b.case_type));
        let mut work_by_agent: Vec<AgentWork> = self
            .work
            .into_iter()
            .map(|(who, (tasks_completed, escalations, auto_escalated))| AgentWork {
                user_id: name(who),
                tasks_completed,
                escalations,
                auto_escalated,
            })
            .collect();
        work_by_agent.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        let labels = AGES.iter().map(|(l, _)| *l).chain([OVER_AGES]);
        Figures {
            sla: SlaAdherence {
                cases_closed: self.cases_closed,
                cases_within_sla: self.cases_within_sla,
                case_percent: percent(self.cases_within_sla, self.cases_closed),
                tasks_finished: self.tasks_finished,
                tasks_within_ola: self.tasks_within_ola,
                task_percent: percent(self.tasks_within_ola, self.tasks_finished),
                breaches_by_step,
            },
            resolution,
            time_in_status: self.status.finish(names),
            time_in_stage: self.stage.finish(names),
            volume,
            escalations,
            work_by_agent,
            task_aging: labels.zip(self.aging).map(|(label, tasks)| AgeBucket { label: label.into(), tasks }).collect(),
        }
    }
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}
