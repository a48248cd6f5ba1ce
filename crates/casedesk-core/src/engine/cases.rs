//! Cases: creation, fields, status, notes and interactions.

use super::permissions::{self, require, Action};
use super::{automation, plan, sla, Ctx};
use crate::error::{Error, Result};
use crate::fields::check_values;
use crate::model::*;
use serde_json::{json, Map, Value};
use uuid::Uuid;

pub struct NewCase {
    pub case_type: String,
    pub intent: Option<String>,
    pub customer_id: Option<Uuid>,
    pub subject: String,
    pub description: String,
    pub fields: Map<String, Value>,
    pub priority: Option<Priority>,
    pub interaction_id: Option<Uuid>,
    pub contact: Option<crate::command::NewContact>,
    pub external_id: Option<String>,
}

pub(super) const SUBJECT_MAX: usize = 200;
pub(super) const TEXT_MAX: usize = 20_000;

pub fn create(ctx: &mut Ctx, new: NewCase) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let (version, _) = ctx
        .tx
        .latest_case_type(&new.case_type)?
        .ok_or_else(|| Error::field("case_type", format!("'{}' is not a published case type", new.case_type)))?;
    let def = ctx.case_type(&new.case_type, version)?;
    if let Some(intent) = &new.intent {
        if !def.intents.iter().any(|i| &i.id == intent) {
            let known: Vec<_> = def.intents.iter().map(|i| i.id.as_str()).collect();
            return Err(Error::field(
                "intent",
                format!("'{intent}' is not an intent of {}; choose one of: {}", def.name, known.join(", ")),
            ));
        }
    }
    let subject = new.subject.trim().to_string();
    if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
        return Err(Error::field("subject", format!("must be 1 to {SUBJECT_MAX} characters")));
    }
    if new.description.chars().count() > TEXT_MAX {
        return Err(Error::field("description", format!("must be at most {TEXT_MAX} characters")));
    }
    let priority = new.priority.unwrap_or(def.default_priority);
    if !(1..=5).contains(&priority) {
        return Err(Error::field("priority", "must be 1 (highest) to 5 (lowest)"));
    }
    if let Some(c) = new.customer_id {
        ctx.tx.customer(c)?.ok_or_else(|| Error::field("customer_id", format!("customer {c} does not exist")))?;
    }
    let fields = check_values(&def.fields, &new.fields)?;
    let checks = automation::type_book(ctx, &def.id, version)?;
    automation::run_checks(ctx, &checks.checks, &def.fields, &fields)?;
    let external_id = checked_external_id(ctx, new.external_id, None)?;
    let customer = new.customer_id.map(|c| ctx.tx.customer(c)).transpose()?.flatten();
    if new.interaction_id.is_some() && new.contact.is_some() {
        return Err(Error::field("contact", "give the interaction to link or the contact to record, not both"));
    }
    if let Some(c) = new.contact.as_ref().filter(|c| c.summary.chars().count() > TEXT_MAX) {
        return Err(Error::field(
            "contact.summary",
            format!("must be at most {TEXT_MAX} characters, not {}", c.summary.chars().count()),
        ));
    }
    let channel = match (new.interaction_id, &new.contact) {
        (Some(i), _) => ctx.tx.interaction(i)?.map(|i| serde_json::to_value(i.channel)).transpose()?,
        (None, Some(c)) => Some(serde_json::to_value(c.channel)?),
        (None, None) => None,
    };
    let mut case = Case {
        id: ctx.new_id(),
        reference: String::new(),
        case_type: def.id.clone(),
        type_version: version,
        type_name: def.name.clone(),
        status: String::new(),
        status_category: StatusCategory::Open,
        stage: None,
        priority,
        // End-to-end ownership: whoever opens the case owns it (a person, not the
        // engine or the web form).
        owner: permissions::is_staff(ctx.actor).then(|| ctx.actor.user_id.clone()),
        customer_id: new.customer_id,
        intent: new.intent,
        subject,
        description: new.description,
        fields,
        created_at: ctx.now,
        updated_at: ctx.now,
        closed_at: None,
        sla: None,
        external_id,
    };
    // Business rules classify the case before it is written: type, intent, priority, owner.
    let (def, fired) =
        automation::classify(ctx, &mut case, def, customer.as_ref(), channel.as_ref().and_then(Value::as_str))?;

    let number = ctx.reference_number(&def.reference_prefix)?;
    let status = def.status(&def.statuses.initial).expect("checked on load");
    case.reference = format_reference(&def.reference_prefix, number);
    case.status = status.id.clone();
    case.status_category = status.category;
    // The case starts in its first stage; `enter_stage` then creates that stage's tasks.
    case.stage = Some(def.stages[0].id.clone());
    case.sla = Some(sla::start(ctx, &def.sla)?);
    ctx.tx.put_case(&case)?;
    if let Some(clock) = &case.sla {
        ctx.timers.push((clock.clone(), super::TimerSubject::Case(case.id)));
    }
    ctx.created_id = Some(case.id.to_string());
    ctx.reference = Some(case.reference.clone());
    ctx.emit("case_created", Some(case.id), None, Value::Null, serde_json::to_value(&case)?)?;
    automation::record(ctx, &case, None, fired)?;
    if let Some(interaction) = new.interaction_id {
        link(ctx, &case, interaction)?;
    }
    if let Some(contact) = new.contact {
        let summary = match contact.summary.trim() {
            "" => case.subject.clone(),
            said => said.to_string(),
        };
        let interaction = record_interaction(ctx, contact.channel, None, case.customer_id, summary)?;
        link(ctx, &case, interaction)?;
    }
    plan::enter_stage(ctx, &mut case, &def, 0)
}

/// PREFIX-000123: zero-padded to six digits, longer when the numbers outgrow them.
pub fn format_reference(prefix: &str, number: i64) -> String {
    format!("{prefix}-{number:06}")
}

pub fn update_fields(
    ctx: &mut Ctx,
    case_id: Uuid,
    changes: Map<String, Value>,
    external_id: Option<String>,
) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let mut case = ctx.case(case_id)?;
    if case.status_category == StatusCategory::Closed {
        return Err(Error::Conflict(format!("case {} is closed; reopen it to change its fields", case.reference)));
    }
    let def = ctx.case_type(&case.case_type, case.type_version)?;
    let mut merged = case.fields.clone();
    for (k, v) in &changes {
        merged.insert(k.clone(), v.clone());
    }
    let merged = check_values(&def.fields, &merged)?;
    let book = automation::type_book(ctx, &def.id, case.type_version)?;
    automation::run_checks(ctx, &book.checks, &def.fields, &merged)?;
    let new_external_id = match external_id {
        Some(x) => checked_external_id(ctx, Some(x), Some(case.id))?,
        None => case.external_id.clone(),
    };
    let before: Map<String, Value> =
        changes.keys().map(|k| (k.clone(), case.fields.get(k).cloned().unwrap_or(Value::Null))).collect();
    let after: Map<String, Value> =
        changes.keys().map(|k| (k.clone(), merged.get(k).cloned().unwrap_or(Value::Null))).collect();
    if before == after && new_external_id == case.external_id {
        return Ok(());
    }
    let old_external_id = std::mem::replace(&mut case.external_id, new_external_id);
    case.fields = merged;
    case.updated_at = ctx.now;
    ctx.tx.put_case(&case)?;
    if before != after {
        ctx.emit("case_fields_updated", Some(case.id), None, Value::Object(before), Value::Object(after))?;
    }
    if old_external_id != case.external_id {
        let shown = |x: &Option<String>| json!({ "external_id": x });
        ctx.emit("case_external_id_set", Some(case.id), None, shown(&old_external_id), shown(&case.external_id))?;
    }
    Ok(())
}

/// A case's external id: trimmed, at most 200 characters, held by no other case (empty
/// means none).
fn checked_external_id(ctx: &Ctx, external_id: Option<String>, this: Option<Uuid>) -> Result<Option<String>> {
    let Some(x) = external_id.map(|x| x.trim().to_string()).filter(|x| !x.is_empty()) else {
        return Ok(None);
    };
    if x.chars().count() > 200 {
        return Err(Error::field("external_id", "must be at most 200 characters"));
    }
    match ctx.tx.case_by_external_id(&x)? {
        Some(other) if Some(other.id) != this => {
            Err(Error::field("external_id", format!("'{x}' already belongs to case {}", other.reference)))
        }
        _ => Ok(Some(x)),
    }
}

/// A person moves the case along its status set. Entering a closed status closes the
/// case (cancelling its open tasks); leaving one reopens it at its current stage.
pub fn change_status(ctx: &mut Ctx, case_id: Uuid, to: &str, reason: Option<String>) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let mut case = ctx.case(case_id)?;
    let def = ctx.case_type(&case.case_type, case.type_version)?;
    let from = def
        .status(&case.status)
        .ok_or_else(|| Error::Storage(format!("case {} has unknown status {}", case.reference, case.status)))?;
    let Some(target) = def.status(to) else {
        let known: Vec<_> = def.statuses.list.iter().map(|s| s.id.as_str()).collect();
        return Err(Error::field(
            "status",
            format!("'{to}' is not a status of {}; known: {}", def.name, known.join(", ")),
        ));
    };
    if !from.next.iter().any(|n| n == to) {
        return Err(Error::InvalidTransition {
            what: format!("case {}", case.reference),
            from: from.id.clone(),
            to: to.to_string(),
            detail: if from.next.is_empty() { String::new() } else { format!(" (allowed: {})", from.next.join(", ")) },
        });
    }
    if target.category == StatusCategory::Closed && case.status_category != StatusCategory::Closed {
        return plan::close_case(ctx, &mut case, &target.id, reason);
    }
    let reopening = case.status_category == StatusCategory::Closed && target.category != StatusCategory::Closed;
    let before = json!({ "status": case.status, "category": case.status_category });
    // The SLA clock stops while the case waits on the customer; reopening resumes it
    // (closed time counts as paused) or starts it afresh, as the case type says.
    if let Some(clock) = &mut case.sla {
        if reopening && def.sla_on_reopen == crate::casetype::ReopenRule::Reset {
            *clock = sla::start(ctx, &def.sla)?;
        }
        if reopening && clock.paused_since.is_none() {
            clock.paused_since = case.closed_at;
        }
        if target.category == StatusCategory::Waiting {
            sla::pause(ctx, clock);
        } else {
            sla::resume(ctx, &def.sla, clock)?;
        }
        ctx.timers.push((clock.clone(), super::TimerSubject::Case(case.id)));
    }
    case.status = target.id.clone();
    case.status_category = target.category;
    case.updated_at = ctx.now;
    if reopening {
        case.closed_at = None;
    }
    ctx.tx.put_case(&case)?;
    ctx.emit(
        if reopening { "case_reopened" } else { "case_status_changed" },
        Some(case.id),
        None,
        before,
        json!({ "status": case.status, "category": case.status_category, "reason": reason }),
    )?;
    if reopening {
        let stage = case.stage.as_deref().and_then(|s| def.stages.iter().position(|st| st.id == s)).unwrap_or(0);
        plan::enter_stage(ctx, &mut case, &def, stage)?;
        ctx.tx.put_case(&case)?;
    }
    Ok(())
}

pub fn add_note(ctx: &mut Ctx, case_id: Uuid, body: String) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let case = ctx.case(case_id)?;
    write_note(ctx, &case, body)
}

/// A note by the actor, whoever may write it (checked by the caller).
pub(super) fn write_note(ctx: &mut Ctx, case: &Case, body: String) -> Result<()> {
    let body = body.trim().to_string();
    if body.is_empty() || body.chars().count() > TEXT_MAX {
        return Err(Error::field("body", format!("a note must be 1 to {TEXT_MAX} characters")));
    }
    let note =
        Note { id: ctx.new_id(), case_id: case.id, author: ctx.actor.user_id.clone(), body, created_at: ctx.now };
    ctx.tx.insert_note(&note)?;
    ctx.created_id = Some(note.id.to_string());
    ctx.emit("note_added", Some(case.id), None, Value::Null, serde_json::to_value(&note)?)
}

pub fn create_interaction(
    ctx: &mut Ctx,
    channel: Channel,
    external_id: Option<String>,
    customer_id: Option<Uuid>,
    summary: String,
    case_id: Option<Uuid>,
) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let case = case_id.map(|id| ctx.case(id)).transpose()?;
    if let Some(c) = customer_id {
        ctx.tx.customer(c)?.ok_or_else(|| Error::field("customer_id", format!("customer {c} does not exist")))?;
    }
    if summary.chars().count() > TEXT_MAX {
        return Err(Error::field("summary", format!("must be at most {TEXT_MAX} characters")));
    }
    let id = record_interaction(ctx, channel, external_id, customer_id, summary)?;
    ctx.created_id = Some(id.to_string());
    match case {
        Some(case) => link(ctx, &case, id),
        None => Ok(()),
    }
}

/// Writes an interaction (checked by the caller) and its event; returns its id.
fn record_interaction(
    ctx: &mut Ctx,
    channel: Channel,
    external_id: Option<String>,
    customer_id: Option<Uuid>,
    summary: String,
) -> Result<Uuid> {
    let interaction = Interaction {
        id: ctx.new_id(),
        channel,
        external_id,
        customer_id,
        summary,
        started_at: ctx.now,
        ended_at: None,
    };
    ctx.tx.insert_interaction(&interaction)?;
    ctx.emit("interaction_created", None, None, Value::Null, serde_json::to_value(&interaction)?)?;
    Ok(interaction.id)
}

pub fn link_interaction(ctx: &mut Ctx, case_id: Uuid, interaction_id: Uuid) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let case = ctx.case(case_id)?;
    link(ctx, &case, interaction_id)
}

fn link(ctx: &mut Ctx, case: &Case, interaction_id: Uuid) -> Result<()> {
    let interaction = ctx
        .tx
        .interaction(interaction_id)?
        .ok_or_else(|| Error::field("interaction_id", format!("interaction {interaction_id} does not exist")))?;
    if ctx.tx.link_interaction(case.id, interaction.id, ctx.now, &ctx.actor.user_id)? {
        ctx.emit(
            "interaction_linked",
            Some(case.id),
            None,
            Value::Null,
            json!({ "interaction_id": interaction.id, "channel": interaction.channel }),
        )?;
    }
    Ok(())
}
