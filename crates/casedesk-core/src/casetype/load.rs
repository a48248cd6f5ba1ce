//! Loading a case-type file: TOML → [`CaseTypeDef`], then every rule of a valid plan.
//! Errors name the file, the line and the rule.

use super::{CaseTypeDef, ServiceLevel, Then, TimeBasis};
use crate::error::{Error, Result};
use crate::fields::{is_identifier, FieldDef};
use crate::model::{StatusCategory, TaskKind};
use crate::rules;
use std::collections::HashSet;

/// A step of the path from the document root to the key a rule concerns.
#[derive(Debug, Clone)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// A broken rule and where it is.
#[derive(Debug)]
pub struct Problem {
    pub path: Vec<Seg>,
    pub rule: String,
}

pub fn load_case_type(file: &str, source: &str) -> Result<CaseTypeDef> {
    let def: CaseTypeDef = toml::from_str(source).map_err(|e| Error::CaseTypeFile {
        file: file.to_string(),
        line: e.span().map(|s| line_at(source, s.start)).unwrap_or(1),
        rule: e.message().trim().to_string(),
    })?;
    check(&def).map_err(|p| Error::CaseTypeFile {
        file: file.to_string(),
        line: line_of(source, &p.path),
        rule: p.rule,
    })?;
    Ok(def)
}

fn line_at(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// The line of the deepest part of `path` that the document has.
fn line_of(source: &str, path: &[Seg]) -> usize {
    let Ok(doc) = toml_edit::Document::parse(source) else { return 1 };
    let mut item = doc.as_item();
    let mut span = None;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => item.as_table_like().and_then(|t| t.get_key_value(k)).map(|(key, v)| {
                span = key.span().or_else(|| v.span()).or(span.clone());
                v
            }),
            Seg::Index(i) => item.get(*i).inspect(|v| span = v.span().or(span.clone())),
        };
        match next {
            Some(n) => item = n,
            None => break,
        }
    }
    span.map(|s| line_at(source, s.start)).unwrap_or(1)
}

/// Builds a [`Problem`] at a path; keeps the rule checks below short.
macro_rules! bail {
    ([$($seg:expr),*], $($fmt:tt)+) => {
        return Err(Problem { path: vec![$($seg),*], rule: format!($($fmt)+) })
    };
}

use Seg::{Index as I, Key as K};

fn check(def: &CaseTypeDef) -> Result<(), Problem> {
    if !is_identifier(&def.id) {
        bail!([K("id")], "id '{}' must be lower-case letters, digits and '_', starting with a letter", def.id);
    }
    if def.name.trim().is_empty() {
        bail!([K("name")], "name must not be empty");
    }
    let p = &def.reference_prefix;
    if !(2..=6).contains(&p.len()) || !p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        bail!([K("reference_prefix")], "reference_prefix '{p}' must be 2 to 6 upper-case letters or digits");
    }
    if !(1..=5).contains(&def.default_priority) {
        bail!([K("default_priority")], "default_priority must be 1 (highest) to 5 (lowest)");
    }
    check_service_level(&def.sla, vec![K("sla")])?;
    unique(def.intents.iter().map(|i| i.id.as_str()), |i, id| Problem {
        path: vec![K("intents"), I(i), K("id")],
        rule: format!("intent '{id}' is defined twice"),
    })?;
    for (i, intent) in def.intents.iter().enumerate() {
        if !is_identifier(&intent.id) {
            bail!(
                [K("intents"), I(i), K("id")],
                "intent id '{}' must be lower-case letters, digits and '_'",
                intent.id
            );
        }
    }
    check_fields(&def.fields, vec![K("fields")])?;
    check_statuses(def)?;
    check_stages(def)?;
    rules::check_checks(&def.checks, &def.fields, &[K("checks")])?;
    rules::check_links(&def.links, &def.fields, &[K("links")])?;
    rules::check_rules(&def.rules, rules::Scope::CaseType(def), &[K("rules")])
}

/// Loads one rule written alone (for a dry run), checked as it would be in its file.
pub fn load_rule(file: &str, source: &str, scope: rules::Scope) -> Result<rules::Rule> {
    let rule: rules::Rule = toml::from_str(source).map_err(|e| Error::CaseTypeFile {
        file: file.to_string(),
        line: e.span().map(|s| line_at(source, s.start)).unwrap_or(1),
        rule: e.message().trim().to_string(),
    })?;
    rules::check_rule(&rule, scope, &[]).map_err(|p| Error::CaseTypeFile {
        file: file.to_string(),
        line: line_of(source, &p.path),
        rule: p.rule,
    })?;
    Ok(rule)
}

/// Loads the workspace-wide rules file (`[[rules]]` for every case type).
pub fn load_rule_set(file: &str, source: &str) -> Result<crate::rules::RuleSet> {
    let set: crate::rules::RuleSet = toml::from_str(source).map_err(|e| Error::CaseTypeFile {
        file: file.to_string(),
        line: e.span().map(|s| line_at(source, s.start)).unwrap_or(1),
        rule: e.message().trim().to_string(),
    })?;
    rules::check_rules(&set.rules, rules::Scope::Workspace, &[K("rules")]).map_err(|p| Error::CaseTypeFile {
        file: file.to_string(),
        line: line_of(source, &p.path),
        rule: p.rule,
    })?;
    Ok(set)
}

fn check_service_level(sl: &ServiceLevel, at: Vec<Seg>) -> Result<(), Problem> {
    let with = |k| at.iter().cloned().chain([K(k)]).collect::<Vec<_>>();
    if sl.duration == 0 {
        return Err(Problem { path: with("duration"), rule: "duration must be greater than 0".into() });
    }
    if sl.time == TimeBasis::OpenOffice && sl.calendar.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(Problem { path: with("time"), rule: "open_office time needs a calendar".into() });
    }
    if !(1..=99).contains(&sl.at_risk_percent) {
        return Err(Problem { path: with("at_risk_percent"), rule: "at_risk_percent must be between 1 and 99".into() });
    }
    Ok(())
}

fn check_fields(fields: &[FieldDef], at: Vec<Seg>) -> Result<(), Problem> {
    let path = |i: usize, k: &'static str| at.iter().cloned().chain([I(i), K(k)]).collect::<Vec<_>>();
    unique(fields.iter().map(|f| f.id.as_str()), |i, id| Problem {
        path: path(i, "id"),
        rule: format!("field '{id}' is defined twice"),
    })?;
    for (i, f) in fields.iter().enumerate() {
        f.check_definition().map_err(|d| Problem { path: path(i, d.key), rule: d.rule })?;
    }
    crate::fields::check_references(fields).map_err(|(i, d)| Problem { path: path(i, d.key), rule: d.rule })?;
    Ok(())
}

fn check_statuses(def: &CaseTypeDef) -> Result<(), Problem> {
    let list = &def.statuses.list;
    let at = |i: usize, k: &'static str| vec![K("statuses"), K("status"), I(i), K(k)];
    if list.is_empty() {
        bail!([K("statuses")], "at least one status is needed");
    }
    unique(list.iter().map(|s| s.id.as_str()), |i, id| Problem {
        path: at(i, "id"),
        rule: format!("status '{id}' is defined twice"),
    })?;
    for (i, s) in list.iter().enumerate() {
        if let Some(n) = s.next.iter().find(|n| def.status(n).is_none()) {
            return Err(Problem {
                path: at(i, "next"),
                rule: format!("status '{}' lists next status '{n}', which is not defined", s.id),
            });
        }
    }
    match def.status(&def.statuses.initial) {
        None => bail!([K("statuses"), K("initial")], "initial status '{}' is not defined", def.statuses.initial),
        Some(s) if s.category == StatusCategory::Closed => {
            bail!([K("statuses"), K("initial")], "initial status '{}' must not be in the closed category", s.id)
        }
        _ => {}
    }
    match def.status(&def.statuses.on_complete) {
        None => {
            bail!([K("statuses"), K("on_complete")], "on_complete status '{}' is not defined", def.statuses.on_complete)
        }
        Some(s) if s.category != StatusCategory::Closed => {
            bail!([K("statuses"), K("on_complete")], "on_complete status '{}' must be in the closed category", s.id)
        }
        _ => Ok(()),
    }
}

fn check_stages(def: &CaseTypeDef) -> Result<(), Problem> {
    if def.stages.is_empty() {
        bail!([K("stages")], "a case type needs at least one stage");
    }
    unique(def.stages.iter().map(|s| s.id.as_str()), |i, id| Problem {
        path: vec![K("stages"), I(i), K("id")],
        rule: format!("stage '{id}' is defined twice"),
    })?;
    let all_steps =
        def.stages.iter().enumerate().flat_map(|(si, st)| st.steps.iter().enumerate().map(move |(pi, s)| (si, pi, s)));
    let mut seen = HashSet::new();
    for (si, pi, step) in all_steps {
        if !seen.insert(step.id.as_str()) {
            bail!(
                [K("stages"), I(si), K("steps"), I(pi), K("id")],
                "step '{}' is defined twice (step ids are unique across stages)",
                step.id
            );
        }
    }
    for (si, stage) in def.stages.iter().enumerate() {
        if !is_identifier(&stage.id) {
            bail!([K("stages"), I(si), K("id")], "stage id '{}' must be lower-case letters, digits and '_'", stage.id);
        }
        if stage.steps.is_empty() {
            bail!([K("stages"), I(si)], "stage '{}' needs at least one step", stage.id);
        }
        for (pi, step) in stage.steps.iter().enumerate() {
            check_step(def, si, pi, step)?;
        }
    }
    Ok(())
}

fn check_step(def: &CaseTypeDef, si: usize, pi: usize, step: &super::Step) -> Result<(), Problem> {
    let base = || vec![K("stages"), I(si), K("steps"), I(pi)];
    let at = |k: &'static str| base().into_iter().chain([K(k)]).collect::<Vec<_>>();
    let fail = |path: Vec<Seg>, rule: String| Err(Problem { path, rule });
    let sid = &step.id;
    if !is_identifier(sid) {
        return fail(at("id"), format!("step id '{sid}' must be lower-case letters, digits and '_'"));
    }
    if step.queue.trim().is_empty() {
        return fail(at("queue"), format!("step '{sid}' needs a queue"));
    }
    if let Some(p) = step.priority.filter(|p| !(1..=5).contains(p)) {
        return fail(at("priority"), format!("step '{sid}': priority {p} must be 1 to 5"));
    }
    if step.escalation.is_none() && !step.escalation_chain.is_empty() {
        return fail(
            at("escalation_chain"),
            format!("step '{sid}': an escalation chain needs a first escalation target"),
        );
    }
    if step.escalation.iter().chain(&step.escalation_chain).any(|e| e.trim().is_empty()) {
        return fail(at("escalation"), format!("step '{sid}': escalation must name a queue or group"));
    }
    if let Some(ola) = &step.ola {
        check_service_level(ola, at("ola"))?;
    }
    match (step.kind, step.fields.is_empty()) {
        (TaskKind::Form, true) => return fail(at("kind"), format!("form step '{sid}' needs fields")),
        (TaskKind::Approval | TaskKind::Generic, false) => {
            return fail(at("fields"), format!("step '{sid}': only form steps have fields"));
        }
        _ => {}
    }
    check_fields(&step.fields, at("fields"))?;
    rules::check_checks(&step.checks, &step.fields, &at("checks"))?;
    if let Some((skill, p)) = step.skills.iter().find(|(_, p)| **p > 5) {
        return fail(at("skills"), format!("step '{sid}': skill '{skill}' needs proficiency 0 to 5, not {p}"));
    }
    if step.outcomes.is_empty() {
        return fail(at("outcomes"), format!("step '{sid}' needs at least one outcome"));
    }
    let out = |i: usize, k: &'static str| base().into_iter().chain([K("outcomes"), I(i), K(k)]).collect::<Vec<_>>();
    unique(step.outcomes.iter().map(|o| o.code.as_str()), |i, c| Problem {
        path: out(i, "code"),
        rule: format!("step '{sid}': outcome '{c}' is defined twice"),
    })?;
    if step.kind == TaskKind::Approval {
        for needed in ["approve", "reject"] {
            if !step.outcomes.iter().any(|o| o.code == needed) {
                return fail(at("outcomes"), format!("approval step '{sid}' needs an outcome with code '{needed}'"));
            }
        }
    }
    let here = (si, pi);
    for (i, o) in step.outcomes.iter().enumerate() {
        let needs_step = matches!(o.then, Then::SendBack | Then::Goto);
        match (&o.step, needs_step) {
            (None, true) => {
                return fail(out(i, "then"), format!("outcome '{}' of step '{sid}' needs a target 'step'", o.code))
            }
            (Some(_), false) => {
                return fail(
                    out(i, "step"),
                    format!("outcome '{}' of step '{sid}': 'step' applies only to send_back and goto", o.code),
                )
            }
            (Some(target), true) => match def.locate_step(target) {
                None => {
                    return fail(
                        out(i, "step"),
                        format!("outcome '{}' of step '{sid}' leads to step '{target}', which is not defined", o.code),
                    )
                }
                Some(t) if o.then == Then::SendBack && !is_earlier(def, t, here) => {
                    return fail(
                        out(i, "step"),
                        format!(
                            "outcome '{}' of step '{sid}' sends back to '{target}', which is not an earlier step",
                            o.code
                        ),
                    )
                }
                Some(t) if t == here => {
                    return fail(out(i, "step"), format!("outcome '{}' of step '{sid}' leads to itself", o.code))
                }
                _ => {}
            },
            (None, false) => {}
        }
        if o.then == Then::Escalate && step.escalation.is_none() {
            return fail(
                out(i, "then"),
                format!("outcome '{}' escalates, but step '{sid}' names no escalation target", o.code),
            );
        }
        if let Some(status) = &o.status {
            if o.then != Then::Close {
                return fail(
                    out(i, "status"),
                    format!("outcome '{}' of step '{sid}': 'status' applies only to close", o.code),
                );
            }
            match def.status(status) {
                Some(s) if s.category == StatusCategory::Closed => {}
                _ => {
                    return fail(
                        out(i, "status"),
                        format!(
                            "outcome '{}' of step '{sid}': status '{status}' is not a defined closed status",
                            o.code
                        ),
                    )
                }
            }
        }
    }
    Ok(())
}

/// An earlier step: in an earlier stage, or before it in the same sequential stage.
fn is_earlier(def: &CaseTypeDef, target: (usize, usize), here: (usize, usize)) -> bool {
    target.0 < here.0 || (target.0 == here.0 && !def.stages[here.0].parallel && target.1 < here.1)
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>, dup: impl Fn(usize, &str) -> Problem) -> Result<(), Problem> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            return Err(dup(i, id));
        }
    }
    Ok(())
}
