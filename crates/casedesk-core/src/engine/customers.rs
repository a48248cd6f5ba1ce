//! Users and CRM-light customers.

use super::permissions::{require, Action};
use super::Ctx;
use crate::error::{Error, Result};
use crate::fields::{check_values, is_email, normalise_phone, FieldDef};
use crate::model::{Customer, Role, User};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// What every user must be, whether created or changed.
fn check_user(user: &User) -> Result<()> {
    let reserved = ["system", super::permissions::WEB_ACTOR].contains(&user.id.as_str()) || user.id.contains(':');
    if user.id.trim().is_empty() || user.id.contains(char::is_whitespace) || reserved {
        return Err(Error::field(
            "id",
            "must be a non-empty user name without spaces or ':' (and not 'system' or 'web')",
        ));
    }
    if user.name.trim().is_empty() {
        return Err(Error::field("name", "must not be empty"));
    }
    if user.roles.is_empty() {
        return Err(Error::field("roles", "a user needs at least one role"));
    }
    if let Some(team) = user.teams.iter().find(|t| t.trim().is_empty() || t.contains(char::is_whitespace)) {
        return Err(Error::field("teams", format!("'{team}' must be a team name without spaces")));
    }
    Ok(())
}

pub fn create_user(ctx: &mut Ctx, user: User) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    check_user(&user)?;
    if ctx.tx.user(&user.id)?.is_some() {
        return Err(Error::Conflict(format!("user '{}' already exists", user.id)));
    }
    ctx.tx.insert_user(&user, ctx.now)?;
    ctx.created_id = Some(user.id.clone());
    ctx.emit("user_created", None, None, Value::Null, serde_json::to_value(&user)?)
}

pub fn update_user(ctx: &mut Ctx, id: &str, name: String, roles: Vec<Role>, teams: Vec<String>) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let before = ctx.tx.user(id)?.ok_or_else(|| Error::not_found("user", id))?;
    let after = User { name: name.trim().to_string(), roles, teams, ..before.clone() };
    check_user(&after)?;
    if after == before {
        return Ok(());
    }
    let had = |u: &User, r: Role| u.roles.contains(&r);
    if had(&before, Role::Admin) && !had(&after, Role::Admin) && ctx.tx.admins_other_than(id)? == 0 {
        return Err(Error::field("roles", format!("{id} is the last admin; make someone else an admin first")));
    }
    ctx.tx.update_user(&after)?;
    ctx.emit("user_updated", None, None, serde_json::to_value(&before)?, serde_json::to_value(&after)?)?;
    // No longer an agent: off queue, so routing offers them nothing more.
    if had(&before, Role::Agent) && !had(&after, Role::Agent) {
        if let Some(mut agent) = ctx.tx.agent(id)?.filter(|a| a.on_queue) {
            agent.on_queue = false;
            ctx.tx.put_agent(&agent, ctx.now)?;
            ctx.emit(
                "agent_on_queue_changed",
                None,
                None,
                json!({ "on_queue": true }),
                json!({ "user_id": id, "on_queue": false }),
            )?;
        }
    }
    Ok(())
}

/// A user's email and phone, for notifications. Admins set anyone's; a user their own.
pub fn set_user_contact(ctx: &mut Ctx, user_id: &str, email: Option<String>, phone: Option<String>) -> Result<()> {
    if ctx.actor.user_id != user_id {
        require(ctx.actor, Action::Configure)?;
    }
    let before = ctx.tx.user(user_id)?.ok_or_else(|| Error::not_found("user", user_id))?;
    let (email, phone) = checked_contact(email, phone)?;
    if before.email == email && before.phone == phone {
        return Ok(());
    }
    ctx.tx.set_user_contact(user_id, email.as_deref(), phone.as_deref())?;
    ctx.emit(
        "user_contact_set",
        None,
        None,
        json!({ "user_id": user_id, "email": before.email, "phone": before.phone }),
        json!({ "user_id": user_id, "email": email, "phone": phone }),
    )
}

/// Where the customer profile's extra fields are kept among the workspace settings.
pub const FIELDS_KEY: &str = "customer_fields";

pub fn parse_fields(stored: Option<String>) -> Result<Vec<FieldDef>> {
    Ok(match stored {
        Some(json) => serde_json::from_str(&json)?,
        None => vec![],
    })
}

pub fn define_fields(ctx: &mut Ctx, fields: Vec<FieldDef>) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let mut seen = std::collections::HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        f.check_definition().map_err(|p| Error::field(format!("fields[{i}].{}", p.key), p.rule))?;
        if !seen.insert(f.id.as_str()) {
            return Err(Error::field(format!("fields[{i}].id"), format!("field '{}' is defined twice", f.id)));
        }
    }
    crate::fields::check_references(&fields)
        .map_err(|(i, p)| Error::field(format!("fields[{i}].{}", p.key), p.rule))?;
    let before = ctx.tx.setting(FIELDS_KEY)?;
    let after = serde_json::to_string(&fields)?;
    if before.as_deref() == Some(after.as_str()) {
        return Ok(());
    }
    ctx.tx.put_setting(FIELDS_KEY, &after, ctx.now, &ctx.actor.user_id)?;
    let before: Value = before.map(|b| serde_json::from_str(&b)).transpose()?.unwrap_or(Value::Null);
    ctx.emit("customer_fields_defined", None, None, before, serde_json::to_value(&fields)?)
}

/// Extra values must fit the defined customer fields.
fn checked_extra(ctx: &Ctx, extra: &Map<String, Value>) -> Result<Map<String, Value>> {
    let defs = parse_fields(ctx.tx.setting(FIELDS_KEY)?)?;
    check_values(&defs, extra).map_err(|e| match e {
        Error::InvalidField { field, rule } => Error::InvalidField { field: format!("extra.{field}"), rule },
        e => e,
    })
}

/// Checks and normalises the contact details a customer record holds.
fn checked_contact(email: Option<String>, phone: Option<String>) -> Result<(Option<String>, Option<String>)> {
    let email = email.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    if let Some(e) = &email {
        if !is_email(e) {
            return Err(Error::field("email", "must be an email address like name@example.com"));
        }
    }
    let phone = match phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()) {
        Some(p) => Some(normalise_phone(&p).ok_or_else(|| {
            Error::field("phone", "must be a phone number of 7 to 15 digits, optionally starting with +")
        })?),
        None => None,
    };
    Ok((email, phone))
}

fn checked_external_id(ctx: &Ctx, external_id: Option<String>, this: Option<Uuid>) -> Result<Option<String>> {
    let external_id = external_id.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    if let Some(x) = &external_id {
        if let Some(other) = ctx.tx.customer_by_external_id(x)? {
            if Some(other) != this {
                return Err(Error::field("external_id", format!("'{x}' already belongs to another customer")));
            }
        }
    }
    Ok(external_id)
}

pub fn create(
    ctx: &mut Ctx,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    extra: Map<String, Value>,
) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    write_new(ctx, name, email, phone, external_id, extra)
}

/// A new customer, whoever may make it (checked by the caller): the profile's rules hold
/// for everyone.
fn write_new(
    ctx: &mut Ctx,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    extra: Map<String, Value>,
) -> Result<()> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(Error::field("name", "must not be empty"));
    }
    let (email, phone) = checked_contact(email, phone)?;
    let external_id = checked_external_id(ctx, external_id, None)?;
    let extra = checked_extra(ctx, &extra)?;
    let customer =
        Customer { id: ctx.new_id(), name, email, phone, external_id, extra, created_at: ctx.now, updated_at: ctx.now };
    ctx.tx.put_customer(&customer)?;
    ctx.created_id = Some(customer.id.to_string());
    ctx.emit("customer_created", None, None, Value::Null, serde_json::to_value(&customer)?)
}

pub fn update(
    ctx: &mut Ctx,
    id: Uuid,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    extra: Option<Map<String, Value>>,
) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    write_update(ctx, id, name, email, phone, external_id, extra)
}

/// A customer's changed profile, whoever may change it (checked by the caller).
fn write_update(
    ctx: &mut Ctx,
    id: Uuid,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    extra: Option<Map<String, Value>>,
) -> Result<()> {
    let before = ctx.tx.customer(id)?.ok_or_else(|| Error::not_found("customer", id))?;
    let mut after = before.clone();
    if let Some(n) = name {
        after.name = n.trim().to_string();
        if after.name.is_empty() {
            return Err(Error::field("name", "must not be empty"));
        }
    }
    let (e, p) = checked_contact(email.clone(), phone.clone())?;
    if email.is_some() {
        after.email = e;
    }
    if phone.is_some() {
        after.phone = p;
    }
    if external_id.is_some() {
        after.external_id = checked_external_id(ctx, external_id, Some(id))?;
    }
    if let Some(x) = extra {
        after.extra = checked_extra(ctx, &x)?;
    }
    after.updated_at = ctx.now;
    ctx.tx.put_customer(&after)?;
    ctx.emit("customer_updated", None, None, json!(before), json!(after))
}

/// Rows one import may hold.
pub const IMPORT_MAX_ROWS: usize = 50_000;
const IMPORT_COLUMNS: [&str; 4] = ["name", "email", "phone", "external_id"];

/// Customers from CSV (see `Command::ImportCustomers`). The header must name known
/// columns only, or nothing is imported; each row then goes in whole or not at all, and
/// a refused row is reported as "line N: field: rule".
pub fn import(ctx: &mut Ctx, csv_text: &str) -> Result<()> {
    require(ctx.actor, Action::ImportCustomers)?;
    let defs = parse_fields(ctx.tx.setting(FIELDS_KEY)?)?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::field("csv", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if !header.iter().any(|h| h == "name") {
        return Err(Error::field("csv", "the header row must name a 'name' column"));
    }
    let mut seen_columns = std::collections::HashSet::new();
    for h in &header {
        if !IMPORT_COLUMNS.contains(&h.as_str()) && !defs.iter().any(|d| &d.id == h) {
            let extra: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
            return Err(Error::field(
                "csv",
                format!(
                    "unknown column '{h}'; columns are {} and the profile's fields ({})",
                    IMPORT_COLUMNS.join(", "),
                    if extra.is_empty() { "none defined".to_string() } else { extra.join(", ") }
                ),
            ));
        }
        if !seen_columns.insert(h.as_str()) {
            return Err(Error::field("csv", format!("column '{h}' appears twice")));
        }
    }
    let mut external_ids: std::collections::HashMap<String, u64> = Default::default();
    for (i, record) in reader.records().enumerate() {
        if i >= IMPORT_MAX_ROWS {
            return Err(Error::field("csv", format!("at most {IMPORT_MAX_ROWS} rows at a time")));
        }
        let line = record.as_ref().map(|r| r.position().map_or(i as u64 + 2, |p| p.line())).unwrap_or(i as u64 + 2);
        let row = match record {
            Ok(r) => r,
            Err(e) => {
                ctx.warnings.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let cell = |name: &str| -> Option<String> {
            header.iter().position(|h| h == name).and_then(|i| row.get(i)).filter(|v| !v.is_empty()).map(String::from)
        };
        let extra: Map<String, Value> = defs
            .iter()
            .filter_map(|d| cell(&d.id).map(|v| (d.id.clone(), crate::fields::from_form_text(d, &v))))
            .collect();
        let external_id = cell("external_id");
        if let Some(x) = &external_id {
            if let Some(first) = external_ids.insert(x.clone(), line) {
                ctx.warnings.push(format!("line {line}: external_id: '{x}' is also on line {first}"));
                continue;
            }
        }
        let known = match &external_id {
            Some(x) => ctx.tx.customer_by_external_id(x)?,
            None => None,
        };
        let (name, email, phone) = (cell("name").unwrap_or_default(), cell("email"), cell("phone"));
        let has_extra = header.iter().any(|h| defs.iter().any(|d| &d.id == h));
        let outcome = ctx.attempt(|ctx| match known {
            Some(id) => write_update(ctx, id, Some(name), email, phone, None, has_extra.then_some(extra)),
            None => write_new(ctx, name, email, phone, external_id, extra),
        });
        if let Err(e) = outcome {
            ctx.warnings.push(format!("line {line}: {e}"));
        }
    }
    ctx.created_id = None;
    Ok(())
}

/// What an import did: how many customers it made and changed, and the rows it left out.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
    /// "line N: field: rule", one per row left out.
    pub rejected: Vec<String>,
}

impl ImportReport {
    /// What an executed `ImportCustomers` did (on a desk, the command's local run).
    pub fn of(done: crate::Executed) -> ImportReport {
        let count = |kind: &str| done.events.iter().filter(|e| e.kind == kind).count() as u32;
        ImportReport { created: count("customer_created"), updated: count("customer_updated"), rejected: done.warnings }
    }
}

impl super::Engine {
    /// Imports customers from CSV (see `Command::ImportCustomers`) and says what it did.
    pub fn import_customers(&self, actor: &crate::model::Actor, csv: String) -> Result<ImportReport> {
        self.execute(actor, crate::Command::ImportCustomers { csv }).map(ImportReport::of)
    }
}
