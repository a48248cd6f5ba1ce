//! Storage of what serves customers and outside systems: cases and customers by the ids
//! other systems give them, and the status portal's sign-in links, sessions and key.

use super::rows::{case_from_row, customer_from_row, CASE_COLUMNS, CUSTOMER_COLUMNS};
use super::sql::{params, Conn, OptionalExtension};
use super::tx::Tx;
use crate::clock::to_millis;
use crate::error::Result;
use crate::model::{Case, Customer};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub fn case_by_external_id(conn: &Conn, external_id: &str) -> Result<Option<Case>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN case_type_versions v ON v.case_type = c.case_type AND v.version = c.type_version
         WHERE c.external_id = ?1"
    );
    Ok(conn.prepare_cached(&sql)?.query_row([external_id], case_from_row).optional()?)
}

/// The customers with this email address (any case), oldest first.
pub fn customers_with_email(conn: &Conn, email: &str) -> Result<Vec<Customer>> {
    // SQLite's email index is NOCASE; PostgreSQL's is on lower(email).
    let matches = conn.pick("email = ?1 COLLATE NOCASE", "lower(email) = lower(?1)");
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {matches} ORDER BY created_at, id");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([email.trim()], customer_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// A customer's cases, newest first.
pub fn cases_of_customer(conn: &Conn, customer_id: Uuid) -> Result<Vec<Case>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN case_type_versions v ON v.case_type = c.case_type AND v.version = c.type_version
         WHERE c.customer_id = ?1 ORDER BY c.created_at DESC, c.id DESC"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([customer_id], case_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// The customer a portal session (by its digest) signs in, if it has not expired.
pub fn session_customer(conn: &Conn, digest: &str, now: DateTime<Utc>) -> Result<Option<Customer>> {
    let sql = format!(
        "SELECT {} FROM portal_sessions s JOIN customers c ON c.id = s.customer_id
         WHERE s.session_digest = ?1 AND s.expires_at > ?2",
        CUSTOMER_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
    );
    Ok(conn.prepare_cached(&sql)?.query_row(params![digest, to_millis(now)], customer_from_row).optional()?)
}

/// A sign-in link: whose it is, until when, and whether it was used.
pub struct LinkRow {
    pub customer_id: Uuid,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Tx<'_> {
    pub fn case_by_external_id(&self, external_id: &str) -> Result<Option<Case>> {
        case_by_external_id(self, external_id)
    }

    pub fn customers_with_email(&self, email: &str) -> Result<Vec<Customer>> {
        customers_with_email(self, email)
    }

    /// The secret kept under `name`, made of `make()` the first time it is asked for.
    pub fn local_secret(&self, name: &str, make: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>> {
        let found: Option<Vec<u8>> = self
            .prepare_cached("SELECT value FROM local_secrets WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        if let Some(value) = found {
            return Ok(value);
        }
        let value = make();
        self.prepare_cached("INSERT INTO local_secrets (name, value) VALUES (?1, ?2)")?
            .execute(params![name, value])?;
        Ok(value)
    }

    pub fn insert_portal_link(
        &self,
        id: Uuid,
        customer_id: Uuid,
        at: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<()> {
        // Links long expired are of no use to anyone: kept tidy as new ones are made.
        self.prepare_cached("DELETE FROM portal_links WHERE expires_at < ?1")?
            .execute([to_millis(at - chrono::Duration::days(1))])?;
        self.prepare_cached(
            "INSERT INTO portal_links (id, customer_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, customer_id, to_millis(at), to_millis(until)])?;
        Ok(())
    }

    pub fn portal_link(&self, id: Uuid) -> Result<Option<LinkRow>> {
        Ok(self
            .prepare_cached("SELECT customer_id, expires_at, used_at FROM portal_links WHERE id = ?1")?
            .query_row([id], |r| Ok(LinkRow { customer_id: r.get(0)?, expires_at: r.get(1)?, used_at: r.get(2)? }))
            .optional()?)
    }

    /// Marks a link used; says whether it was still unused (so it is used once).
    pub fn use_portal_link(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
        let changed = self
            .prepare_cached("UPDATE portal_links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL")?
            .execute(params![id, to_millis(at)])?;
        Ok(changed == 1)
    }

    pub fn insert_portal_session(
        &self,
        digest: &str,
        customer_id: Uuid,
        at: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<()> {
        self.prepare_cached("DELETE FROM portal_sessions WHERE expires_at <= ?1")?.execute([to_millis(at)])?;
        self.prepare_cached(
            "INSERT INTO portal_sessions (session_digest, customer_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![digest, customer_id, to_millis(at), to_millis(until)])?;
        Ok(())
    }

    /// Ends a session; returns whose it was, if it existed.
    pub fn delete_portal_session(&self, digest: &str) -> Result<Option<Uuid>> {
        let customer: Option<Uuid> = self
            .prepare_cached("SELECT customer_id FROM portal_sessions WHERE session_digest = ?1")?
            .query_row([digest], |r| r.get(0))
            .optional()?;
        self.prepare_cached("DELETE FROM portal_sessions WHERE session_digest = ?1")?.execute([digest])?;
        Ok(customer)
    }
}
