//! Checking rules when they are saved: every expression compiles with only the variables
//! its trigger provides, every action fits its trigger and names what exists, and the
//! limits hold. A problem names where it is (for the file's line) and the rule broken.

use super::{expr, Action, Anchor, Check, LinkTemplate, Rule, Text, Trigger, MAX_ACTIONS, MAX_RULES};
use crate::casetype::{CaseTypeDef, Problem, Seg};
use crate::fields::{is_identifier, FieldDef, FieldKind};
use crate::model::StatusCategory;
use crate::notify::rules as notify_rules;
use crate::notify::template::{self, FieldScope};
use std::collections::HashSet;

use Seg::{Index as I, Key as K};

/// Where rules live: in a case type (they see its fields by name), or in the
/// workspace-wide set (fields only through the `fields` map).
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    CaseType(&'a CaseTypeDef),
    Workspace,
}

/// The problem a rule file has, without its line (the loader finds it from the path).
pub type RuleProblem = Problem;

/// The variables every rule sees (besides the fields of its case type, by name).
pub const CASE_VARIABLES: &[&str] = &[
    "now",
    "today",
    "reference",
    "case_type",
    "intent",
    "priority",
    "status",
    "status_category",
    "stage",
    "owner",
    "subject",
    "description",
    "channel",
    "created_at",
    "status_since",
    "sla_due",
    "customer",
    "fields",
];

/// The variable of task rules (a map: id, step, stage, name, kind, state, queue,
/// priority, assignee, escalation_level, created_at, due_at, language, skills).
pub const TASK_VARIABLE: &str = "task";

/// The variables a rule on `scope` with a task (or not) may use.
pub fn variables<'a>(scope: Scope<'a>, task: bool) -> Vec<&'a str> {
    let mut out: Vec<&str> = CASE_VARIABLES.to_vec();
    if task {
        out.push(TASK_VARIABLE);
    }
    if let Scope::CaseType(def) = scope {
        out.extend(def.fields.iter().map(|f| f.id.as_str()).filter(|f| !is_reserved(f)));
    }
    out
}

fn is_reserved(name: &str) -> bool {
    CASE_VARIABLES.contains(&name) || name == TASK_VARIABLE
}

fn fail<T>(path: Vec<Seg>, rule: String) -> Result<T, Problem> {
    Err(Problem { path, rule })
}

fn at(base: &[Seg], more: impl IntoIterator<Item = Seg>) -> Vec<Seg> {
    base.iter().cloned().chain(more).collect()
}

/// Checks a file's `rules` (at `base`, e.g. `["rules"]`).
pub fn check_rules(rules: &[Rule], scope: Scope, base: &[Seg]) -> Result<(), Problem> {
    if rules.len() > MAX_RULES {
        return fail(base.to_vec(), format!("a file may hold at most {MAX_RULES} rules, not {}", rules.len()));
    }
    if let Scope::CaseType(def) = scope {
        if !rules.is_empty() {
            if let Some((i, f)) = def.fields.iter().enumerate().find(|(_, f)| is_reserved(&f.id)) {
                return fail(
                    vec![K("fields"), I(i), K("id")],
                    format!("field '{}' has the name of a rule variable; rename it to use rules in this type", f.id),
                );
            }
        }
    }
    let mut seen = HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let here = at(base, [I(i)]);
        if !seen.insert(rule.id.as_str()) {
            return fail(at(&here, [K("id")]), format!("rule '{}' is defined twice", rule.id));
        }
        check_rule(rule, scope, &here)?;
    }
    Ok(())
}

/// Checks one rule (at `here`, the path of the rule itself).
pub fn check_rule(rule: &Rule, scope: Scope, here: &[Seg]) -> Result<(), Problem> {
    let id = &rule.id;
    if !is_identifier(&rule.id) {
        return fail(at(here, [K("id")]), format!("rule id '{id}' must be lower-case letters, digits and '_'"));
    }
    let task = match (rule.on, &rule.timer) {
        (Trigger::Timer, None) => {
            return fail(
                at(here, [K("on")]),
                format!("rule '{id}': a timer rule needs a [timer] with from and after or before"),
            )
        }
        (Trigger::Timer, Some(t)) => {
            check_timer(rule, t, scope, &at(here, [K("timer")]))?;
            t.from.is_task()
        }
        (_, Some(_)) => return fail(at(here, [K("timer")]), format!("rule '{id}': only timer rules have a timer")),
        (Trigger::TaskCreated, None) => true,
        (Trigger::CaseCreated, None) => false,
    };
    let vars = variables(scope, task);
    if !rule.condition.trim().is_empty() {
        expr::compile(&rule.condition, &vars)
            .map_err(|e| Problem { path: at(here, [K("if")]), rule: format!("rule '{id}': condition: {e}") })?;
    }
    if rule.actions.is_empty() || rule.actions.len() > MAX_ACTIONS {
        return fail(at(here, [K("actions")]), format!("rule '{id}' needs 1 to {MAX_ACTIONS} actions"));
    }
    for (i, action) in rule.actions.iter().enumerate() {
        let path = at(here, [K("actions"), I(i)]);
        if !action.fits(rule.on, task) {
            let subject = match (rule.on, task) {
                (Trigger::CaseCreated, _) => "on case creation",
                (Trigger::TaskCreated, _) => "on task creation",
                (Trigger::Timer, false) => "in a timer rule on a case",
                (Trigger::Timer, true) => "in a timer rule on a task",
            };
            return fail(path, format!("rule '{id}': {} cannot be used {subject}", action.name()));
        }
        check_action(rule, action, scope, &vars, &path)?;
    }
    Ok(())
}

fn check_timer(rule: &Rule, t: &super::TimerSpec, scope: Scope, here: &[Seg]) -> Result<(), Problem> {
    let id = &rule.id;
    if t.after.is_some() && t.before.is_some() {
        return fail(at(here, [K("before")]), format!("rule '{id}': give after or before, not both"));
    }
    match (t.from, &t.field) {
        (Anchor::CaseField, None) => {
            return fail(at(here, [K("from")]), format!("rule '{id}': from = \"case_field\" needs the date field"))
        }
        (Anchor::CaseField, Some(f)) => {
            if let Scope::CaseType(def) = scope {
                match def.fields.iter().find(|d| &d.id == f) {
                    Some(FieldDef { kind: FieldKind::Date, .. }) => {}
                    Some(_) => {
                        return fail(at(here, [K("field")]), format!("rule '{id}': field '{f}' is not a date field"))
                    }
                    None => {
                        return fail(at(here, [K("field")]), format!("rule '{id}': '{f}' is not a field of this type"))
                    }
                }
            }
        }
        (_, Some(_)) => {
            return fail(at(here, [K("field")]), format!("rule '{id}': field applies only to from = \"case_field\""))
        }
        _ => {}
    }
    if t.offset().num_days().abs() > 3650 {
        return fail(at(here, [K("after")]), format!("rule '{id}': the offset may be at most ten years"));
    }
    Ok(())
}

fn check_text(rule: &Rule, text: &Text, vars: &[&str], path: &[Seg]) -> Result<(), Problem> {
    match text {
        Text::Literal(s) if s.trim().is_empty() => {
            fail(path.to_vec(), format!("rule '{}': the value is empty", rule.id))
        }
        Text::Literal(_) => Ok(()),
        Text::Expr { expr: source } => expr::compile(source, vars)
            .map(|_| ())
            .map_err(|e| Problem { path: path.to_vec(), rule: format!("rule '{}': expression: {e}", rule.id) }),
    }
}

fn check_action(rule: &Rule, action: &Action, scope: Scope, vars: &[&str], path: &[Seg]) -> Result<(), Problem> {
    let id = &rule.id;
    let def = match scope {
        Scope::CaseType(def) => Some(def),
        Scope::Workspace => None,
    };
    match action {
        Action::SetCaseType(t) if !is_identifier(t) => {
            fail(path.to_vec(), format!("rule '{id}': set_case_type needs a case type id, not '{t}'"))
        }
        Action::SetIntent(intent) => match def {
            Some(def) if !def.intents.iter().any(|i| &i.id == intent) => {
                fail(path.to_vec(), format!("rule '{id}': '{intent}' is not an intent of {}", def.name))
            }
            _ => Ok(()),
        },
        Action::SetPriority(p) if !(1..=5).contains(p) => {
            fail(path.to_vec(), format!("rule '{id}': set_priority must be 1 (highest) to 5 (lowest)"))
        }
        Action::RaisePriority(n) if !(1..=4).contains(n) => {
            fail(path.to_vec(), format!("rule '{id}': raise_priority must be 1 to 4 levels"))
        }
        Action::RequireSkill { skill, min } => {
            if skill.trim().is_empty() || *min > 5 {
                return fail(
                    path.to_vec(),
                    format!("rule '{id}': require_skill needs a skill and a minimum of 0 to 5"),
                );
            }
            Ok(())
        }
        Action::SetOwner(t) | Action::RequireLanguage(t) | Action::RouteTo(t) | Action::PreferAgent(t) => {
            check_text(rule, t, vars, path)
        }
        Action::Notify { channel, .. } => {
            let as_rule = action.as_notification_rule(id.clone(), def.map(|d| d.id.clone())).expect("a notify action");
            if *channel == crate::notify::Channel::Webhook {
                return fail(
                    path.to_vec(),
                    format!("rule '{id}': notify goes to people; webhooks are notification rules"),
                );
            }
            let fields = FieldScope {
                ids: def.map(|d| d.fields.iter().map(|f| f.id.clone()).collect()).unwrap_or_default(),
                source: def.map_or("the workspace rules".to_string(), |d| format!("case type '{}'", d.id)),
            };
            notify_rules::check(&as_rule, &fields)
                .map_err(|e| Problem { path: path.to_vec(), rule: format!("rule '{id}': notify: {e}") })
        }
        Action::ChangeStatus { status, .. } => match def {
            Some(def) if def.status(status).is_none() => {
                fail(path.to_vec(), format!("rule '{id}': '{status}' is not a status of {}", def.name))
            }
            _ => Ok(()),
        },
        Action::CloseCase { status, reason } => {
            if reason.trim().is_empty() {
                return fail(path.to_vec(), format!("rule '{id}': close_case needs a reason"));
            }
            match (def, status) {
                (Some(def), Some(s)) if def.status(s).is_none_or(|s| s.category != StatusCategory::Closed) => {
                    fail(path.to_vec(), format!("rule '{id}': '{s}' is not a closed status of {}", def.name))
                }
                _ => Ok(()),
            }
        }
        Action::AddNote(body) if body.trim().is_empty() || body.chars().count() > 20_000 => {
            fail(path.to_vec(), format!("rule '{id}': add_note needs 1 to 20000 characters"))
        }
        _ => Ok(()),
    }
}

/// Checks a form's cross-field checks against its fields.
pub fn check_checks(checks: &[Check], fields: &[FieldDef], base: &[Seg]) -> Result<(), Problem> {
    let mut vars: Vec<&str> = fields.iter().map(|f| f.id.as_str()).collect();
    vars.extend(["now", "today"]);
    for (i, c) in checks.iter().enumerate() {
        if !fields.iter().any(|f| f.id == c.field) {
            return fail(at(base, [I(i), K("field")]), format!("check on '{}': not a field of this form", c.field));
        }
        if c.message.trim().is_empty() {
            return fail(at(base, [I(i), K("message")]), format!("check on '{}' needs a message", c.field));
        }
        expr::compile(&c.rule, &vars)
            .map_err(|e| Problem { path: at(base, [I(i), K("rule")]), rule: format!("check on '{}': {e}", c.field) })?;
    }
    Ok(())
}

/// Checks link templates: an http(s) address with the templates' variables.
pub fn check_links(links: &[LinkTemplate], fields: &[FieldDef], base: &[Seg]) -> Result<(), Problem> {
    let scope = FieldScope { ids: fields.iter().map(|f| f.id.clone()).collect(), source: "this case type".into() };
    for (i, l) in links.iter().enumerate() {
        if l.label.trim().is_empty() {
            return fail(at(base, [I(i), K("label")]), "a link needs a label".into());
        }
        if !(l.url.starts_with("https://") || l.url.starts_with("http://")) {
            return fail(at(base, [I(i), K("url")]), format!("link '{}' must start with https:// or http://", l.label));
        }
        template::check("url", &l.url, &scope)
            .map_err(|e| Problem { path: at(base, [I(i), K("url")]), rule: format!("link '{}': {e}", l.label) })?;
    }
    Ok(())
}
