//! Row ↔ record mapping and the read queries, shared by [`super::Db`] and [`super::Tx`].

use super::sql::{params, Conn, OptionalExtension, Row};
use crate::clock::from_millis;
use crate::error::Result;
use crate::model::*;
use serde_json::{Map, Value};
use uuid::Uuid;

fn json_map(s: String) -> Map<String, Value> {
    serde_json::from_str(&s).unwrap_or_default()
}

fn opt_time(v: Option<i64>) -> Option<chrono::DateTime<chrono::Utc>> {
    v.map(from_millis)
}

/// A stored enum (its serde name) back into the enum.
pub(super) fn parse_enum<T: serde::de::DeserializeOwned>(s: String) -> super::sql::Result<T> {
    serde_json::from_value(Value::String(s.clone()))
        .map_err(|_| super::sql::SqlError::conversion(format!("unknown value '{s}'")))
}

/// An enum as stored: its serde name.
pub(super) fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

pub const CASE_COLUMNS: &str = "c.id, c.reference, c.case_type, c.type_version, v.name, c.status, c.status_category, c.stage, \
     c.priority, c.owner, c.customer_id, c.intent, c.subject, c.description, c.fields, c.created_at, c.updated_at, c.closed_at, c.sla, c.external_id";

pub fn case_from_row(r: &Row) -> super::sql::Result<Case> {
    Ok(Case {
        id: r.get(0)?,
        reference: r.get(1)?,
        case_type: r.get(2)?,
        type_version: r.get(3)?,
        type_name: r.get(4)?,
        status: r.get(5)?,
        status_category: parse_enum(r.get(6)?)?,
        stage: r.get(7)?,
        priority: r.get(8)?,
        owner: r.get(9)?,
        customer_id: r.get(10)?,
        intent: r.get(11)?,
        subject: r.get(12)?,
        description: r.get(13)?,
        fields: json_map(r.get(14)?),
        created_at: from_millis(r.get(15)?),
        updated_at: from_millis(r.get(16)?),
        closed_at: opt_time(r.get(17)?),
        sla: r.get::<_, Option<String>>(18)?.and_then(|s| serde_json::from_str(&s).ok()),
        external_id: r.get(19)?,
    })
}

pub fn case_by_id(conn: &Conn, id: Uuid) -> Result<Option<Case>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN case_type_versions v ON v.case_type = c.case_type AND v.version = c.type_version WHERE c.id = ?1"
    );
    Ok(conn.prepare_cached(&sql)?.query_row([id], case_from_row).optional()?)
}

pub const TASK_COLUMNS: &str =
    "id, case_id, stage, step, name, kind, state, queue, assignee, priority, escalation_level, \
     outcome, form_values, reason, created_at, updated_at, completed_at, requirements, offered_to, offer_expires_at, \
     preferred_agent, queued_at, route_rank, reroute_at, ola, ola_clock, on_screen_by";

pub fn task_from_row(r: &Row) -> super::sql::Result<Task> {
    let requirements: String = r.get(17)?;
    Ok(Task {
        id: r.get(0)?,
        case_id: r.get(1)?,
        stage: r.get(2)?,
        step: r.get(3)?,
        name: r.get(4)?,
        kind: parse_enum(r.get(5)?)?,
        state: parse_enum(r.get(6)?)?,
        queue: r.get(7)?,
        assignee: r.get(8)?,
        priority: r.get(9)?,
        escalation_level: r.get(10)?,
        outcome: r.get(11)?,
        form_values: json_map(r.get(12)?),
        reason: r.get(13)?,
        created_at: from_millis(r.get(14)?),
        updated_at: from_millis(r.get(15)?),
        completed_at: opt_time(r.get(16)?),
        requirements: serde_json::from_str(&requirements).unwrap_or_default(),
        offered_to: r.get(18)?,
        offer_expires_at: opt_time(r.get(19)?),
        preferred_agent: r.get(20)?,
        queued_at: opt_time(r.get(21)?),
        route_rank: r.get(22)?,
        reroute_at: opt_time(r.get(23)?),
        ola: r.get::<_, Option<String>>(24)?.and_then(|s| serde_json::from_str(&s).ok()),
        ola_clock: r.get::<_, Option<String>>(25)?.and_then(|s| serde_json::from_str(&s).ok()),
        on_screen_by: r.get(26)?,
    })
}

pub fn task_by_id(conn: &Conn, id: Uuid) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], task_from_row).optional()?)
}

pub fn tasks_of_case(conn: &Conn, case_id: Uuid) -> Result<Vec<Task>> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE case_id = ?1 ORDER BY created_at, id");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([case_id], task_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub(super) const CUSTOMER_COLUMNS: &str = "id, name, email, phone, external_id, extra, created_at, updated_at";

pub(super) fn customer_from_row(r: &Row) -> super::sql::Result<Customer> {
    Ok(Customer {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        phone: r.get(3)?,
        external_id: r.get(4)?,
        extra: json_map(r.get(5)?),
        created_at: from_millis(r.get(6)?),
        updated_at: from_millis(r.get(7)?),
    })
}

pub fn customer_by_id(conn: &Conn, id: Uuid) -> Result<Option<Customer>> {
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], customer_from_row).optional()?)
}

/// `text` with LIKE's wildcards escaped (for `ESCAPE '\\'`).
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// By name prefix or word, exact email (any case), phone digits, or external id.
pub fn search_customers(conn: &Conn, query: &str, limit: u32) -> Result<Vec<Customer>> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Ok(vec![]);
    }
    // No phone holds "-" (phones are "+" and digits); PostgreSQL text cannot hold NUL.
    let phone = crate::fields::normalise_phone(&q).unwrap_or_else(|| "-".into());
    let escaped = like_escaped(&q);
    // SQLite's email index is NOCASE; PostgreSQL's is on lower(email).
    let email = conn.pick("email = ?3 COLLATE NOCASE", "lower(email) = ?3");
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers
         WHERE name_key LIKE ?1 ESCAPE '\\' OR name_key LIKE ?2 ESCAPE '\\' OR {email}
            OR phone = ?4 OR phone = '+' || ?4 OR external_id = ?5
         ORDER BY name_key LIMIT ?6"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![format!("{escaped}%"), format!("% {escaped}%"), q, phone.trim_start_matches('+'), query.trim(), limit],
        customer_from_row,
    )?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// Reads `id, name, roles, teams, email, phone`.
pub fn user_from_row(r: &Row) -> super::sql::Result<User> {
    let roles: String = r.get(2)?;
    let teams: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        roles: serde_json::from_str(&roles).unwrap_or_default(),
        teams: serde_json::from_str(&teams).unwrap_or_default(),
        email: r.get(4)?,
        phone: r.get(5)?,
    })
}

pub fn user_by_id(conn: &Conn, id: &str) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached("SELECT id, name, roles, teams, email, phone FROM users WHERE id = ?1")?
        .query_row([id], user_from_row)
        .optional()?)
}

pub fn users(conn: &Conn) -> Result<Vec<User>> {
    let mut st = conn.prepare_cached("SELECT id, name, roles, teams, email, phone FROM users ORDER BY name")?;
    let rows = st.query_map([], user_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub fn notes_of_case(conn: &Conn, case_id: Uuid) -> Result<Vec<Note>> {
    let mut st = conn.prepare_cached(
        "SELECT id, case_id, author, body, created_at FROM notes WHERE case_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = st.query_map([case_id], |r| {
        Ok(Note {
            id: r.get(0)?,
            case_id: r.get(1)?,
            author: r.get(2)?,
            body: r.get(3)?,
            created_at: from_millis(r.get(4)?),
        })
    })?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

const ATTACHMENT_COLUMNS: &str = "id, case_id, file_name, content_type, size, sha256, added_by, added_at";

fn attachment_from_row(r: &Row) -> super::sql::Result<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        case_id: r.get(1)?,
        file_name: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        added_by: r.get(6)?,
        added_at: from_millis(r.get(7)?),
    })
}

pub fn attachments_of_case(conn: &Conn, case_id: Uuid) -> Result<Vec<Attachment>> {
    let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE case_id = ?1 ORDER BY added_at, id");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([case_id], attachment_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub fn attachment(conn: &Conn, id: Uuid) -> Result<Option<Attachment>> {
    let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], attachment_from_row).optional()?)
}

/// Attachment content kept in the database (PostgreSQL's `attachment_contents`).
pub fn attachment_content(conn: &Conn, sha256: &str) -> Result<Option<Vec<u8>>> {
    let sql = "SELECT content FROM attachment_contents WHERE sha256 = ?1";
    Ok(conn.prepare_cached(sql)?.query_row([sha256], |r| r.get(0)).optional()?)
}

fn interaction_from_row(r: &Row) -> super::sql::Result<Interaction> {
    Ok(Interaction {
        id: r.get(0)?,
        channel: parse_enum(r.get(1)?)?,
        external_id: r.get(2)?,
        customer_id: r.get(3)?,
        summary: r.get(4)?,
        started_at: from_millis(r.get(5)?),
        ended_at: opt_time(r.get(6)?),
    })
}

pub fn interaction_by_id(conn: &Conn, id: Uuid) -> Result<Option<Interaction>> {
    Ok(conn
        .prepare_cached("SELECT id, channel, external_id, customer_id, summary, started_at, ended_at FROM interactions WHERE id = ?1")?
        .query_row([id], interaction_from_row)
        .optional()?)
}

pub fn interactions_of_case(conn: &Conn, case_id: Uuid) -> Result<Vec<Interaction>> {
    let mut st = conn.prepare_cached(
        "SELECT i.id, i.channel, i.external_id, i.customer_id, i.summary, i.started_at, i.ended_at
         FROM case_interactions ci JOIN interactions i ON i.id = ci.interaction_id
         WHERE ci.case_id = ?1 ORDER BY i.started_at",
    )?;
    let rows = st.query_map([case_id], interaction_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub fn event_from_row(r: &Row) -> super::sql::Result<Event> {
    let before: String = r.get(6)?;
    let after: String = r.get(7)?;
    Ok(Event {
        seq: r.get(0)?,
        case_id: r.get(1)?,
        task_id: r.get(2)?,
        actor: r.get(3)?,
        at: from_millis(r.get(4)?),
        kind: r.get(5)?,
        before: serde_json::from_str(&before).unwrap_or(Value::Null),
        after: serde_json::from_str(&after).unwrap_or(Value::Null),
    })
}

pub fn events_of_case(conn: &Conn, case_id: Uuid) -> Result<Vec<Event>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, case_id, task_id, actor, at, kind, before, after FROM events WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([case_id], event_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// Newest first: ids are time-ordered (UUID v7), so the primary key gives the order.
pub fn case_summaries(conn: &Conn, limit: u32, offset: u32) -> Result<Vec<CaseSummary>> {
    search_case_summaries(conn, None, limit, offset)
}

/// Cases whose reference, subject, description or customer name contains `query`
/// (case-insensitive; all cases when none), newest first. A scan: fine for a desk's or a
/// small hub's cases; a text index would serve a large hub.
pub fn search_case_summaries(conn: &Conn, query: Option<&str>, limit: u32, offset: u32) -> Result<Vec<CaseSummary>> {
    let pattern = query.map(|q| format!("%{}%", like_escaped(q)));
    // SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE of all.
    let like = conn.pick("LIKE", "ILIKE");
    let mut st = conn.prepare_cached(&format!(
        "SELECT c.id, c.reference, c.case_type, v.name, c.status, c.status_category, c.stage, c.priority, c.subject,
                cu.name,
                (SELECT count(*) FROM tasks t WHERE t.case_id = c.id AND t.state NOT IN ('completed','escalated','cancelled')),
                c.updated_at
         FROM cases c
         JOIN case_type_versions v ON v.case_type = c.case_type AND v.version = c.type_version
         LEFT JOIN customers cu ON cu.id = c.customer_id
         WHERE CAST(?3 AS TEXT) IS NULL OR c.reference {like} ?3 ESCAPE '\\' OR c.subject {like} ?3 ESCAPE '\\'
            OR c.description {like} ?3 ESCAPE '\\' OR cu.name {like} ?3 ESCAPE '\\'
         ORDER BY c.id DESC LIMIT ?1 OFFSET ?2",
    ))?;
    let rows = st.query_map(params![limit, offset, pattern], |r| {
        Ok(CaseSummary {
            id: r.get(0)?,
            reference: r.get(1)?,
            case_type: r.get(2)?,
            type_name: r.get(3)?,
            status: r.get(4)?,
            status_category: parse_enum(r.get(5)?)?,
            stage: r.get(6)?,
            priority: r.get(7)?,
            subject: r.get(8)?,
            customer_name: r.get(9)?,
            open_tasks: r.get(10)?,
            updated_at: from_millis(r.get(11)?),
        })
    })?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// The latest published version of a case type, with its source's hash.
pub fn latest_case_type(conn: &Conn, case_type: &str) -> Result<Option<(u32, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT version, source_hash FROM case_type_versions WHERE case_type = ?1 ORDER BY version DESC LIMIT 1",
        )?
        .query_row([case_type], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
