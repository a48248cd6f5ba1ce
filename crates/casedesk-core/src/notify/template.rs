//! The words of a notification: Jinja-style templates (`{{ case.reference }}`) through
//! minijinja. Every variable a template names is checked when its rule is saved, so an
//! unknown one is refused then, not discovered when a message should go out.

use crate::casetype::{CaseTypeDef, DurationUnit, TimeBasis};
use crate::error::{Error, Result};
use crate::model::{Case, Customer, Event, Task};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The variables under `case.`.
pub const CASE_VARIABLES: &[&str] = &[
    "reference",
    "external_id",
    "type",
    "description",
    "subject",
    "status",
    "priority",
    "owner",
    "intent",
    "sla",
    "sla_unit",
    "sla_kind",
    "target",
    "created",
    "created_date",
    "created_time",
    "assignee",
];
pub const TASK_VARIABLES: &[&str] = &["name", "queue", "assignee", "state", "escalation_level"];
pub const CUSTOMER_VARIABLES: &[&str] = &["name", "email", "phone", "external_id"];
pub const EVENT_VARIABLES: &[&str] = &["kind", "actor", "at"];

/// The form fields a template may name under `fields.`, and where they come from (for
/// the error message).
pub struct FieldScope {
    pub ids: BTreeSet<String>,
    pub source: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A variable that is not there is an error, never a silent blank.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Email, SMS and desktop text are plain text, not HTML.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env
}

fn syntax(field: &str, e: &minijinja::Error) -> Error {
    let line = e.line().map(|l| format!("line {l}: ")).unwrap_or_default();
    let detail = e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string());
    Error::field(field, format!("{line}{detail}"))
}

/// Refuses a template that does not parse or names a variable that does not exist.
pub fn check(field: &str, source: &str, scope: &FieldScope) -> Result<()> {
    let env = environment();
    let template = env.template_from_str(source).map_err(|e| syntax(field, &e))?;
    let used: BTreeSet<String> = template.undeclared_variables(true).into_iter().collect();
    for path in used {
        let parts: Vec<&str> = path.split('.').collect();
        let known: &[&str] = match parts[0] {
            "case" => CASE_VARIABLES,
            "task" => TASK_VARIABLES,
            "customer" => CUSTOMER_VARIABLES,
            "event" => EVENT_VARIABLES,
            "fields" => &[],
            _ => {
                return Err(Error::field(
                    field,
                    format!(
                        "unknown variable '{path}'; variables start with case., task., customer., event. or fields."
                    ),
                ))
            }
        };
        let Some(name) = parts.get(1) else {
            return Err(Error::field(
                field,
                format!("'{path}' is a group; name one of its variables, e.g. case.reference"),
            ));
        };
        if parts.len() > 2 {
            return Err(Error::field(field, format!("unknown variable '{path}': '{}.{name}' has no parts", parts[0])));
        }
        let ok = if parts[0] == "fields" { scope.ids.contains(*name) } else { known.contains(name) };
        if !ok {
            let choices = if parts[0] == "fields" {
                format!(
                    "the fields of {} are: {}",
                    scope.source,
                    scope.ids.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            } else {
                format!("{}. has {}", parts[0], known.join(", "))
            };
            return Err(Error::field(field, format!("unknown variable '{path}'; {choices}")));
        }
    }
    // Filters, tests and functions are looked up when a template renders: a trial render
    // over blank values finds a misspelt one now.
    if let Err(e) = template.render(sample(scope)) {
        use minijinja::ErrorKind::*;
        if matches!(e.kind(), UnknownFilter | UnknownTest | UnknownFunction | UnknownMethod) {
            return Err(syntax(field, &e));
        }
    }
    Ok(())
}

/// Blank values in the shape of [`variables`].
fn sample(scope: &FieldScope) -> Value {
    let blank = |names: &[&str]| -> Map<String, Value> { names.iter().map(|n| (n.to_string(), json!(""))).collect() };
    let mut case = blank(CASE_VARIABLES);
    case.insert("sla".into(), json!(0));
    case.insert("priority".into(), json!(3));
    let mut task = blank(TASK_VARIABLES);
    task.insert("escalation_level".into(), json!(0));
    let fields: Map<String, Value> = scope.ids.iter().map(|f| (f.clone(), json!(""))).collect();
    json!({
        "case": case,
        "task": task,
        "customer": blank(CUSTOMER_VARIABLES),
        "event": blank(EVENT_VARIABLES),
        "fields": fields,
    })
}

/// Renders a checked template. An error here means the case no longer fits the rule
/// (e.g. a case pinned to an older case-type version); the caller records it.
pub fn render(source: &str, variables: &Value) -> std::result::Result<String, String> {
    let env = environment();
    env.render_str(source, variables).map_err(|e| {
        let detail = e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string());
        format!("template failed: {detail}")
    })
}

/// Whether a template names a variable that is empty for these values (a link to
/// `…/customer/` for a case without a customer is no link).
pub fn names_a_blank(source: &str, variables: &Value) -> bool {
    let env = environment();
    let Ok(template) = env.template_from_str(source) else { return true };
    template.undeclared_variables(true).iter().any(|path| {
        let value = path.split('.').try_fold(variables, |v, key| v.get(key));
        value.is_none_or(|v| v.is_null() || v.as_str() == Some(""))
    })
}

/// What one event's notification may speak of.
pub struct Subject<'a> {
    pub event: &'a Event,
    pub case: &'a Case,
    pub def: &'a CaseTypeDef,
    pub task: Option<&'a Task>,
    pub customer: Option<&'a Customer>,
    /// Display names of the people named (owner, assignee), where known.
    pub owner_name: Option<&'a str>,
    pub assignee_name: Option<&'a str>,
    /// The zone dates are written in: the SLA calendar's, else UTC.
    pub zone: Tz,
}

fn local(at: DateTime<Utc>, zone: Tz, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

/// An instant as people read it, in `zone` ("2026-11-26 11:00 CET").
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    local(at, zone, "%Y-%m-%d %H:%M %Z")
}

/// When the case's SLA is due, as people read it ("2026-11-26 11:00 CET"), or "paused".
pub fn sla_target(case: &Case, zone: Tz) -> String {
    match &case.sla {
        Some(c) if c.paused_since.is_some() => "paused".to_string(),
        Some(c) => c.due_at.map(|d| local_time(d, zone)).unwrap_or_default(),
        None => String::new(),
    }
}

/// The variables of a notification about `s`, in the shape [`check`] allows. Every form
/// field of the case type is there (empty when not filled), so optional fields render.
pub fn variables(s: &Subject) -> Value {
    let (case, def, zone) = (s.case, s.def, s.zone);
    let status = def.statuses.list.iter().find(|st| st.id == case.status).map(|st| st.label.as_str());
    let target = sla_target(case, zone);
    let assignee = s.assignee_name.or(s.task.and_then(|t| t.assignee.as_deref())).unwrap_or_default();
    let mut fields: Map<String, Value> = def.fields.iter().map(|f| (f.id.clone(), json!(""))).collect();
    for (k, v) in &case.fields {
        fields.insert(k.clone(), v.clone());
    }
    json!({
        "case": {
            "reference": case.reference,
            "external_id": case.external_id.clone().unwrap_or_default(),
            "type": def.name,
            "description": case.description,
            "subject": case.subject,
            "status": status.unwrap_or(&case.status),
            "priority": case.priority,
            "owner": s.owner_name.or(case.owner.as_deref()).unwrap_or_default(),
            "intent": case.intent.clone().unwrap_or_default(),
            "sla": def.sla.duration,
            "sla_unit": match def.sla.unit {
                DurationUnit::Minutes => "minutes",
                DurationUnit::Hours => "hours",
                DurationUnit::Days => "days",
            },
            "sla_kind": match def.sla.time {
                TimeBasis::OpenOffice => "open-office",
                TimeBasis::Calendar => "calendar",
            },
            "target": target,
            "created": local(case.created_at, zone, "%Y-%m-%d %H:%M %Z"),
            "created_date": local(case.created_at, zone, "%Y-%m-%d"),
            "created_time": local(case.created_at, zone, "%H:%M"),
            "assignee": assignee,
        },
        "task": {
            "name": s.task.map(|t| t.name.as_str()).unwrap_or_default(),
            "queue": s.task.and_then(|t| t.queue.as_deref()).unwrap_or_default(),
            "assignee": assignee,
            "state": s.task.map(|t| serde_json::to_value(t.state).unwrap_or_default()).unwrap_or(json!("")),
            "escalation_level": s.task.map(|t| t.escalation_level).unwrap_or_default(),
        },
        "customer": {
            "name": s.customer.map(|c| c.name.as_str()).unwrap_or_default(),
            "email": s.customer.and_then(|c| c.email.as_deref()).unwrap_or_default(),
            "phone": s.customer.and_then(|c| c.phone.as_deref()).unwrap_or_default(),
            "external_id": s.customer.and_then(|c| c.external_id.as_deref()).unwrap_or_default(),
        },
        "event": {
            "kind": s.event.kind,
            "actor": s.event.actor,
            "at": local(s.event.at, zone, "%Y-%m-%d %H:%M %Z"),
        },
        "fields": fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> FieldScope {
        FieldScope { ids: ["customer_email".to_string()].into(), source: "case type 'refund'".into() }
    }

    #[test]
    fn known_variables_pass() {
        check(
            "body",
            "Case {{ case.reference }} for {{ fields.customer_email }} ({{ case.sla }} {{ case.sla_unit }})",
            &scope(),
        )
        .unwrap();
        check("body", "{% for x in [1, 2] %}{{ x }}{% endfor %}{{ case.status | upper }}", &scope()).unwrap();
    }

    #[test]
    fn a_misspelt_filter_is_refused_when_saved() {
        let e = check("body", "{{ case.status | uppr }}", &scope()).unwrap_err().to_string();
        assert!(e.contains("body") && e.contains("uppr"), "{e}");
    }

    #[test]
    fn unknown_variables_are_refused_with_the_field_and_the_choices() {
        let e = check("body", "Hello {{ case.refrence }}", &scope()).unwrap_err().to_string();
        assert!(e.contains("body") && e.contains("case.refrence") && e.contains("reference"), "{e}");
        let e = check("subject", "{{ fields.iban }}", &scope()).unwrap_err().to_string();
        assert!(e.contains("subject") && e.contains("fields.iban") && e.contains("customer_email"), "{e}");
        let e = check("body", "{{ customer }}", &scope()).unwrap_err().to_string();
        assert!(e.contains("group"), "{e}");
        let e = check("body", "{{ secret }}", &scope()).unwrap_err().to_string();
        assert!(e.contains("unknown variable 'secret'"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = check("body", "line one\n{{ case.reference ", &scope()).unwrap_err().to_string();
        assert!(e.contains("body") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn rendering_is_plain_text() {
        let out = render("{{ case.subject }}", &json!({ "case": { "subject": "<b>&</b>" } })).unwrap();
        assert_eq!(out, "<b>&</b>");
        assert!(render("{{ case.nothing }}", &json!({ "case": {} })).is_err());
    }
}
