//! Storage of notification rules and the deliveries they write (the outbox of email,
//! SMS, webhook and rule-made desktop notifications).

use super::rows::user_from_row;
use super::sql::{params, Conn, OptionalExtension, Row};
use super::tx::Tx;
use crate::clock::{from_millis, to_millis};
use crate::error::Result;
use crate::model::User;
use crate::notify::{Channel, Delivery, NotificationRule, NotifyEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DeliveryLogEntry {
    pub delivery: Delivery,
    pub status: String,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

/// A delivery the rules decided on, before it has an id.
pub struct NewDelivery<'a> {
    pub event_seq: i64,
    pub rule_id: &'a str,
    pub channel: Channel,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// Set when the delivery can never go out (no address, a template that no longer
    /// fits): it is written as a dead letter with this reason.
    pub dead_reason: Option<String>,
    pub at: DateTime<Utc>,
}

const DELIVERY_COLUMNS: &str = "id, event_seq, rule_id, channel, recipient, subject, body, attempts";

fn delivery_from_row(r: &Row) -> super::sql::Result<Delivery> {
    let channel: String = r.get(3)?;
    Ok(Delivery {
        id: r.get(0)?,
        event_seq: r.get(1)?,
        rule_id: r.get(2)?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| super::sql::SqlError::conversion(format!("unknown channel '{channel}'")))?,
        recipient: r.get(4)?,
        subject: r.get(5)?,
        body: r.get(6)?,
        attempts: r.get(7)?,
    })
}

fn rule_from_json(json: String) -> super::sql::Result<NotificationRule> {
    serde_json::from_str(&json).map_err(|e| super::sql::SqlError::conversion(e.to_string()))
}

pub fn notification_rules(conn: &Conn) -> Result<Vec<NotificationRule>> {
    let mut st = conn.prepare_cached("SELECT rule FROM notification_rules ORDER BY id")?;
    let rows = st.query_map([], |r| rule_from_json(r.get(0)?))?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// Rule-made desktop notifications waiting for `user`, oldest first, with the event
/// kind each came from.
pub fn pending_desktop(conn: &Conn, user: &str, limit: u32) -> Result<Vec<(Delivery, String)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS}, (SELECT kind FROM events WHERE seq = d.event_seq) FROM deliveries d
         WHERE channel = 'desktop' AND recipient = ?1 AND status = 'pending' ORDER BY id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![user, limit], |r| Ok((delivery_from_row(r)?, r.get(8)?)))?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// The newest deliveries first, optionally of one status and one channel.
pub fn delivery_log(
    conn: &Conn,
    status: Option<&str>,
    channel: Option<Channel>,
    limit: u32,
) -> Result<Vec<DeliveryLogEntry>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS}, status, last_error, created_at, sent_at, next_attempt_at FROM deliveries
         WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1) AND (CAST(?3 AS TEXT) IS NULL OR channel = ?3)
         ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![status, limit, channel.map(|c| c.as_str())], |r| {
        Ok(DeliveryLogEntry {
            delivery: delivery_from_row(r)?,
            status: r.get(8)?,
            last_error: r.get(9)?,
            created_at: from_millis(r.get(10)?),
            sent_at: r.get::<_, Option<i64>>(11)?.map(from_millis),
            next_attempt_at: from_millis(r.get(12)?),
        })
    })?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// The values of the JSON array of text in parameter `n`, as a subquery.
fn in_json_array(conn: &Conn, n: usize) -> String {
    match conn.dialect() {
        super::sql::Dialect::Sqlite => format!("SELECT value FROM json_each(?{n})"),
        super::sql::Dialect::Postgres => format!("SELECT jsonb_array_elements_text(CAST(CAST(?{n} AS TEXT) AS jsonb))"),
    }
}

/// When the next delivery of `channels` is due, if any waits.
pub fn next_delivery_due(conn: &Conn, channels: &[Channel]) -> Result<Option<DateTime<Utc>>> {
    let wanted: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
    let at: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT min(next_attempt_at) FROM deliveries
             WHERE status IN ('pending', 'sending') AND channel != 'desktop' AND channel IN ({})",
            in_json_array(conn, 1)
        ))?
        .query_row([serde_json::to_string(&wanted)?], |r| r.get(0))?;
    Ok(at.map(from_millis))
}

/// Rule-made desktop notifications for `user` from before `before` (the desk was
/// closed): not news any more, as with the built-in alerts.
pub fn suppress_desktop_before(tx: &Tx, user: &str, before: DateTime<Utc>) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE deliveries SET status = 'suppressed', last_error = 'arrived while the desk was closed'
             WHERE channel = 'desktop' AND recipient = ?1 AND status = 'pending' AND created_at < ?2",
        )?
        .execute(params![user, to_millis(before)])?)
}

impl Tx<'_> {
    pub fn put_notification_rule(&self, rule: &NotificationRule, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO notification_rules (id, case_type, event, rule, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET case_type = ?2, event = ?3, rule = ?4, updated_at = ?5",
        )?
        .execute(params![
            rule.id,
            rule.case_type,
            rule.event.as_str(),
            serde_json::to_string(rule)?,
            to_millis(at)
        ])?;
        Ok(())
    }

    pub fn notification_rule(&self, id: &str) -> Result<Option<NotificationRule>> {
        Ok(self
            .prepare_cached("SELECT rule FROM notification_rules WHERE id = ?1")?
            .query_row([id], |r| rule_from_json(r.get(0)?))
            .optional()?)
    }

    pub fn delete_notification_rule(&self, id: &str) -> Result<bool> {
        Ok(self.prepare_cached("DELETE FROM notification_rules WHERE id = ?1")?.execute([id])? > 0)
    }

    /// The rules for `event` on cases of `case_type` (its own and those for every type).
    pub fn notification_rules_for(&self, event: NotifyEvent, case_type: &str) -> Result<Vec<NotificationRule>> {
        let mut st = self.prepare_cached(
            "SELECT rule FROM notification_rules WHERE event = ?1 AND (case_type IS NULL OR case_type = ?2) ORDER BY id",
        )?;
        let rows = st.query_map(params![event.as_str(), case_type], |r| rule_from_json(r.get(0)?))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    /// The rules on `case_type`, and those on every type.
    pub fn notification_rules_on(&self, case_type: &str) -> Result<Vec<NotificationRule>> {
        let mut st = self.prepare_cached(
            "SELECT rule FROM notification_rules WHERE case_type IS NULL OR case_type = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([case_type], |r| rule_from_json(r.get(0)?))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    /// The agents who work `queue`.
    pub fn queue_members(&self, queue: &str) -> Result<Vec<String>> {
        let mut st = self.prepare_cached("SELECT user_id FROM agent_queues WHERE queue = ?1 ORDER BY user_id")?;
        let rows = st.query_map([queue], |r| r.get(0))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    /// The supervisors whose teams include `team`.
    pub fn supervisors_of(&self, team: &str) -> Result<Vec<User>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT id, name, roles, teams, email, phone FROM users
             WHERE {} ORDER BY id",
            self.pick(
                "EXISTS (SELECT 1 FROM json_each(roles) WHERE value = 'supervisor')
                 AND EXISTS (SELECT 1 FROM json_each(teams) WHERE value = ?1)",
                "roles::jsonb @> '[\"supervisor\"]' AND teams::jsonb @> jsonb_build_array(CAST(?1 AS TEXT))",
            )
        ))?;
        let rows = st.query_map([team], user_from_row)?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    pub fn set_user_contact(&self, user: &str, email: Option<&str>, phone: Option<&str>) -> Result<()> {
        self.prepare_cached("UPDATE users SET email = ?2, phone = ?3 WHERE id = ?1")?
            .execute(params![user, email, phone])?;
        Ok(())
    }

    /// Writes a delivery unless this rule already wrote one for this event and
    /// recipient; true if written.
    pub fn insert_delivery(&self, d: &NewDelivery) -> Result<bool> {
        let status = if d.dead_reason.is_some() { "dead" } else { "pending" };
        let n = self
            .prepare_cached(
                "INSERT INTO deliveries
                   (event_seq, rule_id, channel, recipient, subject, body, status, next_attempt_at, last_error, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                d.event_seq,
                d.rule_id,
                d.channel.as_str(),
                d.recipient,
                d.subject,
                d.body,
                status,
                to_millis(d.at),
                d.dead_reason
            ])?;
        Ok(n > 0)
    }

    /// Takes up to `limit` due deliveries of `channels` for sending, under `claim`, until
    /// `claimed_until`; one a dead worker left claimed is due again once that passes.
    /// Claiming counts the attempt, so a delivery that stops its worker every time runs
    /// out of attempts too.
    pub fn claim_due_deliveries(
        &self,
        channels: &[Channel],
        now: DateTime<Utc>,
        claim: &str,
        claimed_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let wanted: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        let due: Vec<Delivery> = {
            let mut st = self.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries
                 WHERE status IN ('pending', 'sending') AND next_attempt_at <= ?1 AND channel != 'desktop'
                   AND channel IN ({})
                 ORDER BY next_attempt_at, id LIMIT ?3",
                in_json_array(self, 2)
            ))?;
            let rows =
                st.query_map(params![to_millis(now), serde_json::to_string(&wanted)?, limit], delivery_from_row)?;
            rows.collect::<super::sql::Result<_>>()?
        };
        for d in &due {
            self.prepare_cached(
                "UPDATE deliveries SET status = 'sending', claim = ?2, attempts = attempts + 1, next_attempt_at = ?3
                 WHERE id = ?1",
            )?
            .execute(params![d.id, claim, to_millis(claimed_until)])?;
        }
        Ok(due)
    }

    /// Records a delivery's outcome: `status` is sent, pending (to retry at `next`), dead
    /// or suppressed. A claimed delivery changes only under its claim (a worker whose
    /// claim ran out and was taken over records nothing); a desk's, only while pending.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_delivery(
        &self,
        id: i64,
        claim: Option<&str>,
        status: &str,
        attempts: u32,
        error: Option<&str>,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<bool> {
        let sent_at = (status == "sent").then(|| to_millis(now));
        let n = self
            .prepare_cached(
                "UPDATE deliveries SET status = ?2, attempts = ?3, last_error = ?4, sent_at = ?5, next_attempt_at = ?6,
                   claim = NULL
                 WHERE id = ?1 AND ((CAST(?7 AS TEXT) IS NULL AND status = 'pending') OR (status = 'sending' AND claim = ?7))",
            )?
            .execute(params![id, status, attempts, error, sent_at, to_millis(next), claim])?;
        Ok(n > 0)
    }
}
