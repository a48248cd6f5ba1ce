//! The facts a rule reads: the case's attributes and fields, the customer, the task, and
//! the time (from the engine's clock). Names are listed in `rules::CASE_VARIABLES`.

use super::super::Ctx;
use crate::casetype::CaseTypeDef;
use crate::error::Result;
use crate::model::{Case, Customer, Task};
use crate::rules::expr::Facts;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

fn instant(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(crate) fn set_time(f: &mut Facts, now: DateTime<Utc>) {
    f.set_json("now", &instant(now));
    f.set_json("today", &Value::String(now.format("%Y-%m-%d").to_string()));
}

fn opt<T: serde::Serialize>(v: Option<T>) -> Value {
    v.map(|v| serde_json::to_value(v).unwrap_or(Value::Null)).unwrap_or(Value::Null)
}

/// Everything a rule on `case` (and `task`) may read; `customer` is [`customer_map`]'s.
pub(crate) fn facts(
    ctx: &Ctx,
    case: &Case,
    def: &CaseTypeDef,
    customer: &Value,
    channel: Option<&str>,
    status_since: DateTime<Utc>,
    task: Option<&Task>,
) -> Result<Facts> {
    let mut f = Facts::default();
    set_time(&mut f, ctx.now);
    f.set_json("reference", &Value::String(case.reference.clone()));
    f.set_json("case_type", &Value::String(case.case_type.clone()));
    f.set_json("intent", &opt(case.intent.as_ref()));
    f.set_json("priority", &json!(case.priority));
    f.set_json("status", &Value::String(case.status.clone()));
    f.set_json("status_category", &serde_json::to_value(case.status_category)?);
    f.set_json("stage", &opt(case.stage.as_ref()));
    f.set_json("owner", &opt(case.owner.as_ref()));
    f.set_json("subject", &Value::String(case.subject.clone()));
    f.set_json("description", &Value::String(case.description.clone()));
    f.set_json("channel", &opt(channel));
    f.set_json("created_at", &instant(case.created_at));
    f.set_json("status_since", &instant(status_since));
    f.set_json("sla_due", &opt(case.sla.as_ref().and_then(|c| c.due_at).map(instant)));
    // Every defined field is there, empty ones as nothing, so a rule never meets a
    // missing name at run time.
    let mut fields = Map::new();
    for d in &def.fields {
        fields.insert(d.id.clone(), case.fields.get(&d.id).cloned().unwrap_or(Value::Null));
    }
    for (id, v) in &fields {
        if !crate::rules::CASE_VARIABLES.contains(&id.as_str()) && id != crate::rules::TASK_VARIABLE {
            f.set_json(id, v);
        }
    }
    f.set_json("fields", &Value::Object(fields));
    f.set_json("customer", customer);
    if let Some(t) = task {
        f.set_json(
            crate::rules::TASK_VARIABLE,
            &json!({
                "id": t.id,
                "step": t.step,
                "stage": t.stage,
                "name": t.name,
                "kind": t.kind,
                "state": t.state,
                "queue": t.queue,
                "priority": t.priority,
                "assignee": t.assignee,
                "escalation_level": t.escalation_level,
                "created_at": instant(t.created_at),
                "due_at": opt(t.ola_clock.as_ref().and_then(|c| c.due_at).map(instant)),
                "language": t.requirements.language,
                "skills": t.requirements.skills,
            }),
        );
    }
    Ok(f)
}

/// The customer's profile with every defined extra field (empty ones as nothing); all
/// nothing when the case has no customer.
pub(crate) fn customer_map(ctx: &Ctx, customer: Option<&Customer>) -> Result<Value> {
    let defs = super::super::customers::parse_fields(ctx.tx.setting(super::super::customers::FIELDS_KEY)?)?;
    let mut m = Map::new();
    for d in defs {
        let v = customer.and_then(|c| c.extra.get(&d.id)).cloned().unwrap_or(Value::Null);
        m.insert(d.id, v);
    }
    // The profile's own attributes win over an extra field of the same name.
    m.insert("name".into(), opt(customer.map(|c| &c.name)));
    m.insert("email".into(), opt(customer.and_then(|c| c.email.as_ref())));
    m.insert("phone".into(), opt(customer.and_then(|c| c.phone.as_ref())));
    m.insert("external_id".into(), opt(customer.and_then(|c| c.external_id.as_ref())));
    Ok(Value::Object(m))
}

/// When the stored case entered its current status (its creation if never changed).
pub(crate) fn status_since(ctx: &Ctx, case: &Case) -> Result<DateTime<Utc>> {
    Ok(crate::store::automation::status_since(ctx.tx, case.id)?.unwrap_or(case.created_at))
}

/// What the facts of a stored case read besides the case itself: its customer as rules
/// see the profile, its channel, when it entered its status. Read once per case.
pub(crate) struct Surroundings {
    customer: Value,
    channel: Option<String>,
    status_since: DateTime<Utc>,
}

impl Surroundings {
    pub fn of(ctx: &Ctx, case: &Case) -> Result<Surroundings> {
        let customer = match case.customer_id {
            Some(id) => ctx.tx.customer(id)?,
            None => None,
        };
        Ok(Surroundings {
            customer: customer_map(ctx, customer.as_ref())?,
            channel: crate::store::automation::case_channel(ctx.tx, case.id)?,
            status_since: status_since(ctx, case)?,
        })
    }

    pub fn facts(&self, ctx: &Ctx, case: &Case, def: &CaseTypeDef, task: Option<&Task>) -> Result<Facts> {
        facts(ctx, case, def, &self.customer, self.channel.as_deref(), self.status_since, task)
    }
}
