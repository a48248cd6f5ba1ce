//! The write side of the store: every method runs inside one open transaction.

use super::rows::{self, enum_str};
use super::sql::{params, Conn, OptionalExtension, Transaction};
use crate::clock::to_millis;
use crate::error::{Error, Result};
use crate::model::*;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::ops::Deref;
use uuid::Uuid;

pub struct Tx<'c> {
    tx: Transaction<'c>,
}

/// An event before it has its sequence number.
pub struct EventDraft<'a> {
    pub case_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub before: Value,
    pub after: Value,
}

impl<'c> Deref for Tx<'c> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl<'c> Tx<'c> {
    pub(super) fn new(tx: Transaction<'c>) -> Self {
        Tx { tx }
    }

    pub(super) fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    // ---- case types -------------------------------------------------------------

    pub fn latest_case_type(&self, case_type: &str) -> Result<Option<(u32, String)>> {
        super::rows::latest_case_type(self, case_type)
    }

    /// Every case type with its latest version.
    pub fn published_case_types(&self) -> Result<Vec<(String, u32)>> {
        let mut st = self.prepare_cached(
            "SELECT case_type, max(version) FROM case_type_versions GROUP BY case_type ORDER BY case_type",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    pub fn case_type_definition(&self, case_type: &str, version: u32) -> Result<Option<String>> {
        Ok(self
            .prepare_cached("SELECT definition FROM case_type_versions WHERE case_type = ?1 AND version = ?2")?
            .query_row(params![case_type, version], |r| r.get(0))
            .optional()?)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_case_type_version(
        &self,
        case_type: &str,
        version: u32,
        name: &str,
        definition: &str,
        source: &str,
        source_hash: &str,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO case_type_versions (case_type, version, name, definition, source, source_hash, published_at, published_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![case_type, version, name, definition, source, source_hash, to_millis(at), by])?;
        Ok(())
    }

    // ---- outbox consumers ------------------------------------------------------------

    pub fn set_outbox_cursor(&self, consumer: &str, last_id: i64) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO outbox_cursors (consumer, last_id) VALUES (?1, ?2)
             ON CONFLICT(consumer) DO UPDATE
             SET last_id = CASE WHEN outbox_cursors.last_id > ?2 THEN outbox_cursors.last_id ELSE ?2 END",
        )?
        .execute(params![consumer, last_id])?;
        Ok(())
    }

    // ---- service-level records ---------------------------------------------------

    /// Records that a clock reached an instant (at risk, breached, chain end); false if it
    /// was recorded before, so each is acted on once, also across restarts.
    pub fn record_breach(
        &self,
        subject: Uuid,
        clock: &str,
        kind: &str,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = self
            .prepare_cached(
                "INSERT INTO breaches (subject_id, clock, kind, due_at, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![subject, clock, kind, to_millis(due_at), to_millis(at)])?;
        Ok(n == 1)
    }

    // ---- calendars -----------------------------------------------------------------

    pub fn calendar(&self, id: &str) -> Result<Option<crate::calendar::CalendarDef>> {
        let json: Option<String> = self
            .prepare_cached("SELECT definition FROM calendars WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    pub fn put_calendar(&self, c: &crate::calendar::CalendarDef, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO calendars (id, definition, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET definition = ?2, updated_at = ?3",
        )?
        .execute(params![c.id, serde_json::to_string(c)?, to_millis(at)])?;
        Ok(())
    }

    // ---- workspace settings ------------------------------------------------------

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .prepare_cached("SELECT value FROM workspace_settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn delete_setting(&self, key: &str) -> Result<()> {
        self.prepare_cached("DELETE FROM workspace_settings WHERE key = ?1")?.execute([key])?;
        Ok(())
    }

    pub fn put_setting(&self, key: &str, value: &str, at: DateTime<Utc>, by: &str) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO workspace_settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(key) DO UPDATE SET value = ?2, updated_at = ?3, updated_by = ?4",
        )?
        .execute(params![key, value, to_millis(at), by])?;
        Ok(())
    }

    // ---- users --------------------------------------------------------------------

    pub fn user(&self, id: &str) -> Result<Option<User>> {
        rows::user_by_id(self, id)
    }

    pub fn insert_user(&self, u: &User, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached("INSERT INTO users (id, name, roles, teams, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![
                u.id,
                u.name,
                serde_json::to_string(&u.roles)?,
                serde_json::to_string(&u.teams)?,
                to_millis(at)
            ])?;
        Ok(())
    }

    /// How many users other than `id` hold the admin role.
    pub fn admins_other_than(&self, id: &str) -> Result<i64> {
        Ok(self
            .prepare_cached(self.pick(
                "SELECT count(*) FROM users, json_each(users.roles) r WHERE users.id != ?1 AND r.value = 'admin'",
                "SELECT count(*) FROM users WHERE id != ?1 AND roles::jsonb @> '[\"admin\"]'",
            ))?
            .query_row([id], |r| r.get(0))?)
    }

    pub fn update_user(&self, u: &User) -> Result<()> {
        self.prepare_cached("UPDATE users SET name = ?2, roles = ?3, teams = ?4 WHERE id = ?1")?.execute(params![
            u.id,
            u.name,
            serde_json::to_string(&u.roles)?,
            serde_json::to_string(&u.teams)?,
        ])?;
        Ok(())
    }

    // ---- customers ----------------------------------------------------------------

    pub fn customer(&self, id: Uuid) -> Result<Option<Customer>> {
        rows::customer_by_id(self, id)
    }

    pub fn customer_by_external_id(&self, external_id: &str) -> Result<Option<Uuid>> {
        Ok(self
            .prepare_cached("SELECT id FROM customers WHERE external_id = ?1")?
            .query_row([external_id], |r| r.get(0))
            .optional()?)
    }

    /// Inserts or replaces a customer row.
    pub fn put_customer(&self, c: &Customer) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO customers (id, name, name_key, email, phone, external_id, extra, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET name = ?2, name_key = ?3, email = ?4, phone = ?5, external_id = ?6,
                extra = ?7, updated_at = ?9",
        )?
        .execute(params![
            c.id,
            c.name,
            c.name.to_lowercase(),
            c.email,
            c.phone,
            c.external_id,
            serde_json::to_string(&c.extra)?,
            to_millis(c.created_at),
            to_millis(c.updated_at)
        ])?;
        Ok(())
    }

    // ---- references ---------------------------------------------------------------

    /// The next reference number for a prefix: from a reserved block if this database
    /// holds one, else from the local sequence.
    pub fn next_reference_number(&self, prefix: &str) -> Result<i64> {
        let block: Option<(i64, i64)> = self
            .prepare_cached(
                "SELECT first, next FROM reference_blocks WHERE prefix = ?1 AND next <= last ORDER BY first LIMIT 1",
            )?
            .query_row([prefix], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((first, next)) = block {
            self.prepare_cached("UPDATE reference_blocks SET next = next + 1 WHERE prefix = ?1 AND first = ?2")?
                .execute(params![prefix, first])?;
            return Ok(next);
        }
        Ok(self
            .prepare_cached(
                "INSERT INTO reference_sequences (prefix, next) VALUES (?1, 2)
                 ON CONFLICT(prefix) DO UPDATE SET next = reference_sequences.next + 1 RETURNING next - 1",
            )?
            .query_row([prefix], |r| r.get(0))?)
    }

    /// Takes no more numbers from a block (the hub gave some of them to another desk).
    pub fn close_reference_block(&self, prefix: &str, first: i64) -> Result<()> {
        self.prepare_cached("UPDATE reference_blocks SET next = last + 1 WHERE prefix = ?1 AND first = ?2")?
            .execute(params![prefix, first])?;
        Ok(())
    }

    /// The next number of a block granted to this database, if one has any left.
    pub fn block_reference_number(&self, prefix: &str) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached(
                "UPDATE reference_blocks SET next = next + 1
                 WHERE (prefix, first) = (SELECT prefix, first FROM reference_blocks
                                          WHERE prefix = ?1 AND next <= last ORDER BY first LIMIT 1)
                 RETURNING next - 1",
            )?
            .query_row([prefix], |r| r.get(0))
            .optional()?)
    }

    /// Whether the hub reserved `prefix` `number` for `client_id`.
    pub fn reference_reserved_for(&self, prefix: &str, number: i64, client_id: &str) -> Result<bool> {
        Ok(self
            .prepare_cached(
                "SELECT 1 FROM client_reference_blocks
                 WHERE prefix = ?1 AND first <= ?2 AND last >= ?2 AND client_id = ?3",
            )?
            .query_row(params![prefix, number, client_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Takes `size` numbers off the local sequence (the hub, for a client).
    pub fn reserve_reference_block(&self, prefix: &str, size: i64) -> Result<(i64, i64)> {
        let first: i64 = self
            .prepare_cached(
                "INSERT INTO reference_sequences (prefix, next) VALUES (?1, 1 + CAST(?2 AS BIGINT))
                 ON CONFLICT(prefix) DO UPDATE SET next = reference_sequences.next + ?2 RETURNING next - ?2",
            )?
            .query_row(params![prefix, size], |r| r.get(0))?;
        Ok((first, first + size - 1))
    }

    /// Records a block reserved for this database elsewhere (a client, from its hub), and
    /// moves the local sequence past it so the numbers are never issued twice.
    pub fn grant_reference_block(&self, prefix: &str, first: i64, last: i64) -> Result<()> {
        self.prepare_cached("INSERT INTO reference_blocks (prefix, first, last, next) VALUES (?1, ?2, ?3, ?2)")?
            .execute(params![prefix, first, last])?;
        self.advance_reference_sequence(prefix, last)
    }

    /// Moves the local sequence of `prefix` past `last`, if it is not past it already.
    pub fn advance_reference_sequence(&self, prefix: &str, last: i64) -> Result<()> {
        self.prepare_cached(
            // The casts: PostgreSQL would take `?2 + 1` for a 32-bit sum.
            "INSERT INTO reference_sequences (prefix, next) VALUES (?1, CAST(?2 AS BIGINT) + 1)
             ON CONFLICT(prefix) DO UPDATE
             SET next = CASE WHEN reference_sequences.next > CAST(?2 AS BIGINT) + 1 THEN reference_sequences.next ELSE CAST(?2 AS BIGINT) + 1 END",
        )?
        .execute(params![prefix, last])?;
        Ok(())
    }

    /// A granted block of `prefix` that shares a number with first..=last.
    pub fn overlapping_reference_block(&self, prefix: &str, first: i64, last: i64) -> Result<Option<(i64, i64)>> {
        Ok(self
            .prepare_cached(
                "SELECT first, last FROM reference_blocks WHERE prefix = ?1 AND first <= ?3 AND last >= ?2 LIMIT 1",
            )?
            .query_row(params![prefix, first, last], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The next number of the local sequence (1 if none was issued).
    pub fn local_reference_next(&self, prefix: &str) -> Result<i64> {
        Ok(self
            .prepare_cached("SELECT next FROM reference_sequences WHERE prefix = ?1")?
            .query_row([prefix], |r| r.get(0))
            .optional()?
            .unwrap_or(1))
    }

    // ---- cases --------------------------------------------------------------------

    pub fn case(&self, id: Uuid) -> Result<Option<Case>> {
        rows::case_by_id(self, id)
    }

    /// Inserts a case, or writes its mutable part (everything but id, reference, type and
    /// creation time) when it exists.
    pub fn put_case(&self, c: &Case) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO cases (id, reference, case_type, type_version, status, status_category, stage, priority, owner,
                customer_id, intent, subject, description, fields, created_at, updated_at, closed_at, sla, external_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
             ON CONFLICT(id) DO UPDATE SET status = ?5, status_category = ?6, stage = ?7, priority = ?8, owner = ?9,
                customer_id = ?10, intent = ?11, subject = ?12, description = ?13, fields = ?14, updated_at = ?16,
                closed_at = ?17, sla = ?18, external_id = ?19",
        )?
        .execute(params![
            c.id,
            c.reference,
            c.case_type,
            c.type_version,
            c.status,
            c.status_category.as_str(),
            c.stage,
            c.priority,
            c.owner,
            c.customer_id,
            c.intent,
            c.subject,
            c.description,
            serde_json::to_string(&c.fields)?,
            to_millis(c.created_at),
            to_millis(c.updated_at),
            c.closed_at.map(to_millis),
            c.sla.as_ref().map(serde_json::to_string).transpose()?,
            c.external_id
        ])
        .map_err(|e| match e {
            e if e.is_unique_violation() => {
                Error::Conflict(format!("reference {} is already in use", c.reference))
            }
            e => e.into(),
        })?;
        Ok(())
    }

    // ---- tasks --------------------------------------------------------------------

    pub fn task(&self, id: Uuid) -> Result<Option<Task>> {
        rows::task_by_id(self, id)
    }

    pub fn tasks_of_case(&self, case_id: Uuid) -> Result<Vec<Task>> {
        rows::tasks_of_case(self, case_id)
    }

    /// Inserts or replaces a task row.
    pub fn put_task(&self, t: &Task) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO tasks (id, case_id, stage, step, name, kind, state, queue, assignee, priority, escalation_level,
                outcome, form_values, reason, created_at, updated_at, completed_at, requirements, offered_to,
                offer_expires_at, preferred_agent, queued_at, route_rank, reroute_at, ola, ola_clock, on_screen_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
                ?24, ?25, ?26, ?27)
             ON CONFLICT(id) DO UPDATE SET state = ?7, queue = ?8, assignee = ?9, priority = ?10, escalation_level = ?11,
                outcome = ?12, form_values = ?13, reason = ?14, updated_at = ?16, completed_at = ?17, requirements = ?18,
                offered_to = ?19, offer_expires_at = ?20, preferred_agent = ?21, queued_at = ?22, route_rank = ?23,
                reroute_at = ?24, ola = ?25, ola_clock = ?26, on_screen_by = ?27",
        )?
        .execute(params![
            t.id,
            t.case_id,
            t.stage,
            t.step,
            t.name,
            enum_str(&t.kind),
            t.state.as_str(),
            t.queue,
            t.assignee,
            t.priority,
            t.escalation_level,
            t.outcome,
            serde_json::to_string(&t.form_values)?,
            t.reason,
            to_millis(t.created_at),
            to_millis(t.updated_at),
            t.completed_at.map(to_millis),
            serde_json::to_string(&t.requirements)?,
            t.offered_to,
            t.offer_expires_at.map(to_millis),
            t.preferred_agent,
            t.queued_at.map(to_millis),
            t.route_rank,
            t.reroute_at.map(to_millis),
            t.ola.as_ref().map(serde_json::to_string).transpose()?,
            t.ola_clock.as_ref().map(serde_json::to_string).transpose()?,
            t.on_screen_by
        ])?;
        Ok(())
    }

    // ---- notes, attachments, interactions ----------------------------------------

    pub fn insert_note(&self, n: &Note) -> Result<()> {
        self.prepare_cached("INSERT INTO notes (id, case_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![n.id, n.case_id, n.author, n.body, to_millis(n.created_at)])?;
        Ok(())
    }

    pub fn insert_attachment(&self, a: &Attachment) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO attachments (id, case_id, file_name, content_type, size, sha256, added_by, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            a.id,
            a.case_id,
            a.file_name,
            a.content_type,
            a.size,
            a.sha256,
            a.added_by,
            to_millis(a.added_at)
        ])?;
        Ok(())
    }

    pub fn attachment(&self, id: Uuid) -> Result<Option<Attachment>> {
        super::rows::attachment(self, id)
    }

    /// Keeps attachment content in the database (on PostgreSQL; see `engine/attachments.rs`).
    pub fn put_attachment_content(&self, sha256: &str, content: &[u8]) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO attachment_contents (sha256, content) VALUES (?1, ?2) ON CONFLICT (sha256) DO NOTHING",
        )?
        .execute(params![sha256, content])?;
        Ok(())
    }

    pub fn interaction(&self, id: Uuid) -> Result<Option<Interaction>> {
        rows::interaction_by_id(self, id)
    }

    pub fn insert_interaction(&self, i: &Interaction) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO interactions (id, channel, external_id, customer_id, summary, started_at, ended_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            i.id,
            enum_str(&i.channel),
            i.external_id,
            i.customer_id,
            i.summary,
            to_millis(i.started_at),
            i.ended_at.map(to_millis)
        ])?;
        Ok(())
    }

    /// Links a case and an interaction; false if they were linked already.
    pub fn link_interaction(&self, case_id: Uuid, interaction_id: Uuid, at: DateTime<Utc>, by: &str) -> Result<bool> {
        let n = self
            .prepare_cached(
                "INSERT INTO case_interactions (case_id, interaction_id, linked_at, linked_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![case_id, interaction_id, to_millis(at), by])?;
        Ok(n == 1)
    }

    // ---- events and outbox -------------------------------------------------------

    pub fn append_event(&self, e: &EventDraft) -> Result<Event> {
        let before = serde_json::to_string(&e.before)?;
        let after = serde_json::to_string(&e.after)?;
        let seq: i64 = self
            .prepare_cached(
                "INSERT INTO events (case_id, task_id, actor, at, kind, before, after)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq",
            )?
            .query_row(params![e.case_id, e.task_id, e.actor, to_millis(e.at), e.kind, before, after], |r| r.get(0))?;
        Ok(Event {
            seq,
            case_id: e.case_id,
            task_id: e.task_id,
            actor: e.actor.to_string(),
            at: e.at,
            kind: e.kind.to_string(),
            before: e.before.clone(),
            after: e.after.clone(),
        })
    }

    pub fn enqueue_outbox(&self, event_seq: i64, topic: &str, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached("INSERT INTO outbox (event_seq, topic, created_at) VALUES (?1, ?2, ?3)")?
            .execute(params![event_seq, topic, to_millis(at)])?;
        Ok(())
    }
}
