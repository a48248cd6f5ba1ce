//! What customers do without the desktop, served by the hub: the public web form that
//! captures a case, and the status portal (signed in by a link sent by email) where they
//! follow their cases and add comments and documents. The hub only speaks HTTP; what a
//! form must hold, who a customer is and what they may see is decided here.
//!
//! A sign-in link is `…/portal/sign-in?token=<link id>.<seal>`: the id is stored (with
//! its customer, expiry and use), the seal is an HMAC of the id under a key this
//! workspace keeps to itself (`local_secrets`). The delivery row, which desks replicate,
//! holds only the id; the seal is added as the email leaves ([`seal_outgoing`]).

use super::permissions::{self, acting_customer, require_public};
use super::{attachments, cases, customers, Ctx, Engine};
use crate::casetype::CaseTypeDef;
use crate::command::NewContact;
use crate::error::{Error, Result};
use crate::fields::{is_email, normalise_phone, FieldProblem};
use crate::model::{Case, Channel as ContactChannel, Customer};
use crate::notify::rules::{Channel, NotifyEvent, Recipient};
use crate::notify::template;
use crate::store::notifications::NewDelivery;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use ts_rs::TS;
use uuid::Uuid;

/// The built-in deliveries' rule ids, as the delivery log shows them.
pub const CONFIRMATION: &str = "web-form-confirmation";
pub const SIGN_IN: &str = "portal-sign-in";
/// How long a sign-in link works (once).
pub const LINK_MINUTES: i64 = 30;
/// The longest a portal session may last.
pub const SESSION_HOURS_MAX: i64 = 24;
/// Files one form may carry (each within the attachment size cap).
pub const MAX_FORM_FILES: usize = 5;
const NAME_MAX: usize = 200;
const KEY: &str = "portal_link_key";

/// A case as a customer fills it in on the public form.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct WebForm {
    pub case_type: String,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub intent: Option<String>,
    pub subject: String,
    #[serde(default)]
    pub description: String,
    /// The case type's fields, typed as `fields::from_form_text` makes them.
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub files: Vec<FormFile>,
    /// Where the portal is served, named in the confirmation.
    pub portal_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct FormFile {
    pub file_name: String,
    pub content_type: String,
    #[serde(with = "crate::command::content_base64")]
    #[ts(type = "string | Array<number>")]
    pub content: Vec<u8>,
}

/// A case as its customer sees it in the portal: what the case type marks
/// customer-visible, their own comments and the documents they gave.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PortalCase {
    pub reference: String,
    pub type_name: String,
    pub subject: String,
    /// The status's label.
    pub status: String,
    pub closed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was opened, in the zone of the case type's SLA calendar (as every time
    /// the portal shows).
    pub opened: String,
    /// When the case is due under its SLA, in the same zone, or "paused".
    pub due: String,
    pub fields: Vec<PortalField>,
    pub comments: Vec<PortalComment>,
    pub documents: Vec<PortalDocument>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PortalField {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PortalComment {
    pub at: DateTime<Utc>,
    /// `at` as people read it, in the case's zone.
    pub when: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PortalDocument {
    pub file_name: String,
    pub size: u64,
    pub added_at: DateTime<Utc>,
    /// `added_at` as people read it, in the case's zone.
    pub when: String,
}

/// A sign-in link's parts, as the hub reads them from the address.
pub struct PortalLink {
    pub id: Uuid,
    pub seal: Vec<u8>,
}

impl PortalLink {
    pub fn parse(token: &str) -> Option<PortalLink> {
        let (id, seal) = token.trim().split_once('.')?;
        Some(PortalLink { id: Uuid::try_parse(id).ok()?, seal: hex::decode(seal).ok()? })
    }
}

fn sealer(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// The key that seals sign-in links, made the first time it is needed.
fn link_key(tx: &crate::store::Tx) -> Result<Vec<u8>> {
    tx.local_secret(KEY, || rand::random::<[u8; 32]>().to_vec())
}

/// Every problem of a submitted form, each named by its form field (`name`, `email`,
/// `phone`, `intent`, `subject`, `description`, `fields.<id>`, `files`), as the form
/// shows them beside the fields. The command refuses with the first.
pub fn form_problems(def: &CaseTypeDef, form: &WebForm, max_file_bytes: u64) -> Vec<FieldProblem> {
    let mut out = vec![];
    let mut say = |field: &str, rule: String| out.push(FieldProblem { field: field.into(), rule });
    let name = form.name.trim().chars().count();
    if name == 0 || name > NAME_MAX {
        say("name", format!("is required (at most {NAME_MAX} characters)"));
    }
    if !is_email(form.email.trim()) {
        say("email", "must be an email address like name@example.com".into());
    }
    if let Some(p) = form.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        if normalise_phone(p).is_none() {
            say("phone", "must be a phone number of 7 to 15 digits, optionally starting with +".into());
        }
    }
    if let Some(i) = form.intent.as_deref().filter(|i| !i.is_empty()) {
        if !def.intents.iter().any(|x| x.id == i) {
            say("intent", format!("'{i}' is not one of the choices"));
        }
    }
    let subject = form.subject.trim().chars().count();
    if subject == 0 || subject > cases::SUBJECT_MAX {
        say("subject", format!("is required (at most {} characters)", cases::SUBJECT_MAX));
    }
    if form.description.chars().count() > cases::TEXT_MAX {
        say("description", format!("must be at most {} characters", cases::TEXT_MAX));
    }
    for unknown in form.fields.keys().filter(|k| !def.fields.iter().any(|f| &f.id == *k)) {
        say(&format!("fields.{unknown}"), "is not a field of this form".into());
    }
    for p in crate::fields::problems(&def.fields, &form.fields) {
        say(&format!("fields.{}", p.field), p.rule);
    }
    if form.files.len() > MAX_FORM_FILES {
        say("files", format!("at most {MAX_FORM_FILES} files, not {}", form.files.len()));
    }
    for f in &form.files {
        if let Err(e) = attachments::sanitise_file_name(&f.file_name) {
            say("files", e.to_string());
        } else if f.content.len() as u64 > max_file_bytes {
            say("files", format!("'{}' is larger than the {} MiB a file may be", f.file_name, max_file_bytes >> 20));
        }
    }
    out
}

fn check_portal_url(url: &str) -> Result<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://")) && !url.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Error::field("portal_url", "must be an http:// or https:// address"))
    }
}

/// The case type a public form is for: its latest published version, open to the web.
fn form_type(ctx: &Ctx, case_type: &str) -> Result<(u32, std::sync::Arc<CaseTypeDef>)> {
    let not_open = || Error::field("case_type", format!("'{case_type}' has no web form"));
    let (version, _) = ctx.tx.latest_case_type(case_type)?.ok_or_else(not_open)?;
    let def = ctx.case_type(case_type, version)?;
    if !def.web_form {
        return Err(not_open());
    }
    Ok((version, def))
}

pub fn submit_form(ctx: &mut Ctx, form: WebForm) -> Result<()> {
    require_public(ctx.actor)?;
    check_portal_url(&form.portal_url)?;
    let (_, def) = form_type(ctx, &form.case_type)?;
    if let Some(p) = form_problems(&def, &form, ctx.engine.limits.attachment_max_bytes).into_iter().next() {
        return Err(Error::field(p.field, p.rule));
    }
    let email = form.email.trim().to_string();
    // The customer this address already belongs to, or a new one. A form never changes
    // an existing profile: anyone may type anyone's address.
    let customer_id = match ctx.tx.customers_with_email(&email)?.into_iter().next() {
        Some(c) => c.id,
        None => {
            customers::create(ctx, form.name.clone(), Some(email.clone()), form.phone.clone(), None, Map::new())?;
            ctx.created_id.as_deref().and_then(|id| id.parse().ok()).expect("a customer was created")
        }
    };
    cases::create(
        ctx,
        cases::NewCase {
            case_type: form.case_type,
            intent: form.intent.filter(|i| !i.is_empty()),
            customer_id: Some(customer_id),
            subject: form.subject,
            description: form.description,
            fields: form.fields,
            priority: None,
            interaction_id: None,
            contact: Some(NewContact { channel: ContactChannel::Web, summary: String::new() }),
            external_id: None,
        },
    )?;
    let (created, reference) = (ctx.created_id.clone(), ctx.reference.clone());
    let case = ctx.case(created.as_deref().and_then(|id| id.parse().ok()).expect("a case was created"))?;
    for f in &form.files {
        attachments::attach(ctx, &case, &f.file_name, &f.content_type, &f.content)?;
    }
    (ctx.created_id, ctx.reference) = (created, reference);
    confirm(ctx, &case, &form.name, &email, &form.portal_url)
}

/// The confirmation of a case made by the form: the workspace's own rule for new cases
/// by email to the customer sends it if there is one (already written by the engine's
/// notification step), else the built-in words below.
fn confirm(ctx: &mut Ctx, case: &Case, name: &str, email: &str, portal_url: &str) -> Result<()> {
    let has_rule = ctx
        .tx
        .notification_rules_for(NotifyEvent::Created, &case.case_type)?
        .iter()
        .any(|r| r.enabled && r.channel == Channel::Email && r.recipients.contains(&Recipient::Customer));
    if has_rule {
        return Ok(());
    }
    let event = ctx.events.iter().find(|e| e.kind == "case_created" && e.case_id == Some(case.id)).cloned();
    let Some(event) = event else { return Ok(()) };
    let subject = format!("We have your request {}", case.reference);
    let body = format!(
        "Dear {},\n\nthank you for contacting us. Your request \"{}\" has the reference {}; please quote it \
         when you contact us.\n\nYou can follow it at {}/portal (sign in with this email address).\n",
        name.trim(),
        case.subject,
        case.reference,
        portal_url.trim_end_matches('/'),
    );
    ctx.tx.insert_delivery(&NewDelivery {
        event_seq: event.seq,
        rule_id: CONFIRMATION,
        channel: Channel::Email,
        recipient: email,
        subject: &subject,
        body: &body,
        dead_reason: None,
        at: ctx.now,
    })?;
    Ok(())
}

pub fn request_link(ctx: &mut Ctx, email: &str, portal_url: &str) -> Result<()> {
    require_public(ctx.actor)?;
    check_portal_url(portal_url)?;
    let email = email.trim();
    if !is_email(email) {
        return Err(Error::field("email", "must be an email address like name@example.com"));
    }
    for customer in ctx.tx.customers_with_email(email)? {
        // Random, not time-ordered: a link's id says nothing of the next one's.
        let id = Uuid::new_v4();
        let until = ctx.now + chrono::Duration::minutes(LINK_MINUTES);
        ctx.tx.insert_portal_link(id, customer.id, ctx.now, until)?;
        ctx.emit(
            "portal_link_sent",
            None,
            None,
            Value::Null,
            json!({ "customer_id": customer.id, "expires_at": until }),
        )?;
        let seq = ctx.events.last().expect("just emitted").seq;
        let body = format!(
            "Dear {},\n\nsign in to follow your requests:\n\n{}/portal/sign-in?token={}\n\nThe link works once, \
             within {LINK_MINUTES} minutes. If you did not ask for it, you can ignore this email.\n",
            customer.name,
            portal_url.trim_end_matches('/'),
            id.simple(),
        );
        ctx.tx.insert_delivery(&NewDelivery {
            event_seq: seq,
            rule_id: SIGN_IN,
            channel: Channel::Email,
            recipient: customer.email.as_deref().unwrap_or(email),
            subject: "Your sign-in link",
            body: &body,
            dead_reason: None,
            at: ctx.now,
        })?;
    }
    Ok(())
}

/// Seals the sign-in links among deliveries claimed for sending.
pub(super) fn seal_outgoing(tx: &crate::store::Tx, batch: &mut [crate::notify::Delivery]) -> Result<()> {
    let mut key = None;
    for d in batch.iter_mut().filter(|d| d.rule_id == SIGN_IN) {
        let key = match &key {
            Some(k) => k,
            None => key.insert(link_key(tx)?),
        };
        d.body = seal_sign_in_link(key, &d.body);
    }
    Ok(())
}

/// The body of a sign-in email as it leaves: the link's seal added after its id.
fn seal_sign_in_link(key: &[u8], body: &str) -> String {
    const AT: &str = "?token=";
    let Some(start) = body.find(AT).map(|i| i + AT.len()) else { return body.to_string() };
    let Some(id) = body.get(start..start + 32).and_then(|s| Uuid::try_parse(s).ok()) else {
        return body.to_string();
    };
    let seal = hex::encode(sealer(key).chain_update(id.as_bytes()).finalize().into_bytes());
    format!("{}.{seal}{}", &body[..start + 32], &body[start + 32..])
}

pub fn open_session(ctx: &mut Ctx, link_token: &str, session_digest: &str, expires_at: DateTime<Utc>) -> Result<()> {
    require_public(ctx.actor)?;
    let refused = || {
        Error::field(
            "token",
            format!("this sign-in link does not work any more (each works once, within {LINK_MINUTES} minutes); ask for a new one"),
        )
    };
    let link = PortalLink::parse(link_token).ok_or_else(refused)?;
    let key = link_key(ctx.tx)?;
    sealer(&key).chain_update(link.id.as_bytes()).verify_slice(&link.seal).map_err(|_| refused())?;
    let row = ctx.tx.portal_link(link.id)?.ok_or_else(refused)?;
    if row.used_at.is_some() || row.expires_at <= crate::clock::to_millis(ctx.now) {
        return Err(refused());
    }
    if session_digest.len() != 64 || !session_digest.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::field("session_digest", "must be the hex SHA-256 of the session"));
    }
    if expires_at <= ctx.now || expires_at > ctx.now + chrono::Duration::hours(SESSION_HOURS_MAX) {
        return Err(Error::field("expires_at", format!("a session ends within {SESSION_HOURS_MAX} hours")));
    }
    if !ctx.tx.use_portal_link(link.id, ctx.now)? {
        return Err(refused());
    }
    ctx.tx.insert_portal_session(session_digest, row.customer_id, ctx.now, expires_at)?;
    ctx.created_id = Some(row.customer_id.to_string());
    ctx.emit("portal_signed_in", None, None, Value::Null, json!({ "customer_id": row.customer_id }))
}

pub fn close_session(ctx: &mut Ctx, session_digest: &str) -> Result<()> {
    require_public(ctx.actor)?;
    if let Some(customer_id) = ctx.tx.delete_portal_session(session_digest)? {
        ctx.emit("portal_signed_out", None, None, Value::Null, json!({ "customer_id": customer_id }))?;
    }
    Ok(())
}

/// One of the acting customer's cases; any other is "not found", as if it did not exist.
fn own_case(ctx: &Ctx, case_id: Uuid) -> Result<Case> {
    let customer = acting_customer(ctx.actor).ok_or_else(|| permissions::customers_only(ctx.actor))?;
    match ctx.tx.case(case_id)? {
        Some(case) if case.customer_id == Some(customer) => {
            if case.closed_at.is_some() {
                return Err(Error::Conflict(format!(
                    "case {} is closed; send a new request if you need more help",
                    case.reference
                )));
            }
            Ok(case)
        }
        _ => Err(Error::not_found("case", case_id)),
    }
}

pub fn add_comment(ctx: &mut Ctx, case_id: Uuid, body: String) -> Result<()> {
    let case = own_case(ctx, case_id)?;
    cases::write_note(ctx, &case, body)
}

pub fn add_document(ctx: &mut Ctx, case_id: Uuid, file_name: &str, content_type: &str, content: &[u8]) -> Result<()> {
    let case = own_case(ctx, case_id)?;
    attachments::attach(ctx, &case, file_name, content_type, content)
}

impl Engine {
    /// The case type a public form shows: its latest published version, if it is open
    /// to the web (`web_form`); not found otherwise.
    pub fn web_form_definition(&self, case_type: &str) -> Result<std::sync::Arc<CaseTypeDef>> {
        let (version, _) =
            self.read(|db| db.latest_case_type(case_type))?.ok_or_else(|| Error::not_found("web form", case_type))?;
        let def = self.read(|db| self.case_type_read(db, case_type, version))?;
        if !def.web_form {
            return Err(Error::not_found("web form", case_type));
        }
        Ok(def)
    }

    /// The case types customers may open on the web form, by name.
    pub fn form_case_types(&self) -> Result<Vec<std::sync::Arc<CaseTypeDef>>> {
        let ids: Vec<String> = self.read(|db| db.latest_case_type_ids())?;
        let mut out: Vec<_> = ids.iter().filter_map(|id| self.web_form_definition(id).ok()).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Every problem of a submitted form at once (see [`form_problems`]).
    pub fn form_problems(&self, form: &WebForm) -> Result<Vec<FieldProblem>> {
        let def = self.web_form_definition(&form.case_type)?;
        Ok(form_problems(&def, form, self.limits.attachment_max_bytes))
    }

    /// The customer a portal session (by its digest) belongs to, while it lasts.
    pub fn portal_customer(&self, session_digest: &str) -> Result<Option<Customer>> {
        let now = self.clock.now();
        self.read(|db| crate::store::portal::session_customer(db.connection_ref(), session_digest, now))
    }

    /// A customer's cases, newest first, as the portal shows them.
    pub fn portal_cases(&self, customer_id: Uuid) -> Result<Vec<PortalCase>> {
        let cases = self.read(|db| crate::store::portal::cases_of_customer(db.connection_ref(), customer_id))?;
        cases.iter().map(|c| self.portal_view(customer_id, c)).collect()
    }

    /// One of the customer's cases; another's, or none, is "not found" alike.
    pub fn portal_case(&self, customer_id: Uuid, reference: &str) -> Result<PortalCase> {
        match self.case_by_reference(reference)? {
            Some(case) if case.customer_id == Some(customer_id) => self.portal_view(customer_id, &case),
            _ => Err(Error::not_found("case", reference)),
        }
    }

    /// The id of one of the customer's cases, for a comment or a document.
    pub fn portal_case_id(&self, customer_id: Uuid, reference: &str) -> Result<Uuid> {
        match self.case_by_reference(reference)? {
            Some(case) if case.customer_id == Some(customer_id) => Ok(case.id),
            _ => Err(Error::not_found("case", reference)),
        }
    }

    fn portal_view(&self, customer_id: Uuid, case: &Case) -> Result<PortalCase> {
        let def = self.read(|db| self.case_type_read(db, &case.case_type, case.type_version))?;
        let zone = match &def.sla.calendar {
            Some(id) => self
                .read(|db| db.calendars())?
                .into_iter()
                .find(|c| &c.id == id)
                .and_then(|c| c.time_zone.parse().ok())
                .unwrap_or(chrono_tz::Tz::UTC),
            None => chrono_tz::Tz::UTC,
        };
        let me = permissions::customer_actor(customer_id).user_id;
        let (notes, documents) = self.read(|db| Ok((db.notes_of_case(case.id)?, db.attachments_of_case(case.id)?)))?;
        let shown = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok(PortalCase {
            reference: case.reference.clone(),
            type_name: def.name.clone(),
            subject: case.subject.clone(),
            status: def.status(&case.status).map(|s| s.label.clone()).unwrap_or_else(|| case.status.clone()),
            closed: case.closed_at.is_some(),
            created_at: case.created_at,
            updated_at: case.updated_at,
            opened: template::local_time(case.created_at, zone),
            due: if case.closed_at.is_some() { String::new() } else { template::sla_target(case, zone) },
            fields: def
                .fields
                .iter()
                .filter(|f| f.customer_visible)
                .filter_map(|f| case.fields.get(&f.id).map(|v| PortalField { label: f.label.clone(), value: shown(v) }))
                .collect(),
            comments: notes
                .into_iter()
                .filter(|n| n.author == me)
                .map(|n| PortalComment {
                    at: n.created_at,
                    when: template::local_time(n.created_at, zone),
                    body: n.body,
                })
                .collect(),
            // What they gave: on the form (as `web`) or signed in.
            documents: documents
                .into_iter()
                .filter(|a| a.added_by == me || a.added_by == permissions::WEB_ACTOR)
                .map(|a| PortalDocument {
                    when: template::local_time(a.added_at, zone),
                    file_name: a.file_name,
                    size: a.size,
                    added_at: a.added_at,
                })
                .collect(),
        })
    }
}

impl Engine {
    /// The case an outside system knows by this id.
    pub fn case_by_external_id(&self, external_id: &str) -> Result<Option<Case>> {
        self.read(|db| crate::store::portal::case_by_external_id(db.connection_ref(), external_id.trim()))
    }
}

impl Engine {
    /// The case an outside system knows by this id, as a row of the case list, if `user`
    /// may see it (none otherwise, as if there were none).
    pub fn case_summary_by_external_id(
        &self,
        user: &crate::model::User,
        external_id: &str,
    ) -> Result<Option<crate::model::CaseSummary>> {
        let Some(case) = self.case_by_external_id(external_id)? else { return Ok(None) };
        let tasks = self.read(|db| db.tasks_of_case(case.id))?;
        if !permissions::can_see_case(user, &case, &tasks) {
            return Ok(None);
        }
        let rows = self.read(|db| db.search_case_summaries(Some(&case.reference), 10, 0))?;
        Ok(rows.into_iter().find(|s| s.id == case.id))
    }
}
