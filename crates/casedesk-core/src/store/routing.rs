//! Storage of routing state: queues, agents, their memberships and loads.

use super::rows::{enum_str, parse_enum, task_from_row, TASK_COLUMNS};
use super::sql::{params, Conn, OptionalExtension, Row};
use super::tx::Tx;
use crate::clock::{from_millis, to_millis};
use crate::error::Result;
use crate::model::{Task, TaskKind};
use crate::routing::{Agent, QueueConfig};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

const AGENT_COLUMNS: &str =
    "user_id, presence, secondary, on_queue, not_responding, routing_status, profile, last_assigned_at";

fn agent_from_row(r: &Row) -> super::sql::Result<Agent> {
    let profile: String = r.get(6)?;
    Ok(Agent {
        user_id: r.get(0)?,
        presence: parse_enum(r.get(1)?)?,
        secondary: r.get(2)?,
        on_queue: r.get(3)?,
        not_responding: r.get(4)?,
        routing_status: parse_enum(r.get(5)?)?,
        profile: serde_json::from_str(&profile).unwrap_or_default(),
        last_assigned_at: r.get::<_, Option<i64>>(7)?.map(from_millis),
        load: BTreeMap::new(),
        pending_offers: 0,
    })
}

fn with_load(conn: &Conn, mut a: Agent) -> Result<Agent> {
    a.load = agent_load(conn, &a.user_id)?;
    a.pending_offers = conn
        .prepare_cached("SELECT count(*) FROM tasks WHERE offered_to = ?1 AND state = 'offered'")?
        .query_row([&a.user_id], |r| r.get(0))?;
    Ok(a)
}

/// Tasks offered to or held by the agent and not finished, per kind.
pub fn agent_load(conn: &Conn, user_id: &str) -> Result<BTreeMap<TaskKind, u32>> {
    let mut st = conn.prepare_cached(
        "SELECT kind, count(*) FROM tasks
         WHERE (assignee = ?1 AND state IN ('assigned', 'in_progress', 'waiting'))
            OR (offered_to = ?1 AND state = 'offered')
         GROUP BY kind",
    )?;
    let rows = st.query_map([user_id], |r| Ok((parse_enum::<TaskKind>(r.get(0)?)?, r.get::<_, u32>(1)?)))?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub fn agent(conn: &Conn, user_id: &str) -> Result<Option<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE user_id = ?1");
    let agent = conn.prepare_cached(&sql)?.query_row([user_id], agent_from_row).optional()?;
    agent.map(|a| with_load(conn, a)).transpose()
}

pub fn agents(conn: &Conn) -> Result<Vec<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY user_id");
    let mut st = conn.prepare_cached(&sql)?;
    let list: Vec<Agent> = st.query_map([], agent_from_row)?.collect::<super::sql::Result<_>>()?;
    list.into_iter().map(|a| with_load(conn, a)).collect()
}

pub fn queue(conn: &Conn, id: &str) -> Result<Option<QueueConfig>> {
    let json: Option<String> =
        conn.prepare_cached("SELECT config FROM queues WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

pub fn queues(conn: &Conn) -> Result<Vec<QueueConfig>> {
    let mut st = conn.prepare_cached("SELECT config FROM queues ORDER BY id")?;
    let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<super::sql::Result<_>>()?;
    rows.iter().map(|j| Ok(serde_json::from_str(j)?)).collect()
}

/// Open tasks the agent holds or is offered.
pub fn tasks_of_agent(conn: &Conn, user_id: &str) -> Result<Vec<Task>> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks
         WHERE (assignee = ?1 AND state IN ('assigned', 'in_progress', 'waiting'))
            OR (offered_to = ?1 AND state = 'offered')
         ORDER BY created_at, id"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([user_id], task_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// Waiting tasks of a queue in routing order, `limit` at a time after `after` (rank, id).
pub fn ranked_tasks(conn: &Conn, queue: &str, after: Option<(i64, uuid::Uuid)>, limit: u32) -> Result<Vec<Task>> {
    let (rank, id) = after.unwrap_or((i64::MAX, uuid::Uuid::nil()));
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks
         WHERE queue = ?1 AND state = 'queued' AND route_rank IS NOT NULL
           AND (route_rank < ?2 OR (route_rank = ?2 AND id > ?3))
         ORDER BY route_rank DESC, id LIMIT ?4"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![queue, rank, id, limit], task_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

/// A queue's open work: waiting tasks in routing order, then those offered or held.
/// One page of a queue's open work and how much there is in all: waiting tasks first
/// in routing order (the `tasks_waiting` index), then those offered or held, oldest
/// first. Each part is read through its own index; a deep page still steps over the
/// index entries before it (9 ms at the start of 100,000, 17 ms at the end: docs/benchmarks.md).
pub fn open_tasks_page(conn: &Conn, queue: &str, offset: u32, limit: u32) -> Result<(u32, Vec<Task>)> {
    let count = |sql: &str| -> Result<u32> { Ok(conn.prepare_cached(sql)?.query_row([queue], |r| r.get(0))?) };
    let waiting = count("SELECT count(*) FROM tasks WHERE queue = ?1 AND state = 'queued'")?;
    let held = count(&format!("SELECT count(*) FROM tasks WHERE queue = ?1 AND {HELD}"))?;
    let read = |sql: &str, offset: u32, limit: u32| -> Result<Vec<Task>> {
        let mut st = conn.prepare_cached(sql)?;
        let rows = st.query_map(params![queue, limit, offset], task_from_row)?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    };
    let mut page = Vec::new();
    if offset < waiting {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE queue = ?1 AND state = 'queued'
             ORDER BY route_rank DESC, id LIMIT ?2 OFFSET ?3"
        );
        page = read(&sql, offset, limit)?;
    }
    let room = limit.saturating_sub(page.len() as u32);
    if room > 0 {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE queue = ?1 AND {HELD}
             ORDER BY created_at, id LIMIT ?2 OFFSET ?3"
        );
        page.extend(read(&sql, offset.saturating_sub(waiting), room)?);
    }
    Ok((waiting + held, page))
}

/// Open and not waiting: offered, assigned or being worked.
const HELD: &str = "state NOT IN ('queued', 'completed', 'escalated', 'cancelled')";

/// Tasks waiting in a queue.
pub fn queued_tasks(conn: &Conn, queue: &str) -> Result<Vec<Task>> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE queue = ?1 AND state = 'queued' ORDER BY created_at, id");
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([queue], task_from_row)?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

impl Tx<'_> {
    pub fn put_queue(&self, q: &QueueConfig, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO queues (id, config, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET config = ?2, updated_at = ?3",
        )?
        .execute(params![q.id, serde_json::to_string(q)?, to_millis(at)])?;
        Ok(())
    }

    pub fn queue(&self, id: &str) -> Result<Option<QueueConfig>> {
        queue(self, id)
    }

    pub fn agent(&self, user_id: &str) -> Result<Option<Agent>> {
        agent(self, user_id)
    }

    /// Writes an agent's state and profile (not its load, which is derived). Queue
    /// memberships are written by `put_agent_queues`, when the profile changes.
    pub fn put_agent(&self, a: &Agent, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO agents (user_id, presence, secondary, on_queue, not_responding, routing_status, profile,
                last_assigned_at, status_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(user_id) DO UPDATE SET presence = ?2, secondary = ?3, on_queue = ?4, not_responding = ?5,
                status_since = CASE WHEN agents.routing_status = ?6 THEN agents.status_since ELSE ?9 END,
                routing_status = ?6, profile = ?7, last_assigned_at = ?8",
        )?
        .execute(params![
            a.user_id,
            enum_str(&a.presence),
            a.secondary,
            a.on_queue,
            a.not_responding,
            enum_str(&a.routing_status),
            serde_json::to_string(&a.profile)?,
            a.last_assigned_at.map(to_millis),
            to_millis(at)
        ])?;
        Ok(())
    }

    pub fn put_agent_queues(&self, a: &Agent) -> Result<()> {
        self.prepare_cached("DELETE FROM agent_queues WHERE user_id = ?1")?.execute([&a.user_id])?;
        for q in &a.profile.queues {
            self.prepare_cached("INSERT INTO agent_queues (queue, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
                .execute(params![q, a.user_id])?;
        }
        Ok(())
    }

    /// Agents of a queue who could be offered work now (before capacity and skills).
    pub fn ready_agents_in_queue(&self, queue: &str) -> Result<Vec<Agent>> {
        let sql = format!(
            "SELECT {} FROM agent_queues m JOIN agents a ON a.user_id = m.user_id
             WHERE m.queue = ?1 AND a.on_queue = 1 AND a.presence = 'available' AND a.not_responding = 0",
            AGENT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
        );
        let mut st = self.prepare_cached(&sql)?;
        let list: Vec<Agent> = st.query_map([queue], agent_from_row)?.collect::<super::sql::Result<_>>()?;
        list.into_iter().map(|a| with_load(self, a)).collect()
    }

    pub fn queued_tasks(&self, queue: &str) -> Result<Vec<Task>> {
        queued_tasks(self, queue)
    }

    pub fn ranked_tasks(&self, queue: &str, after: Option<(i64, uuid::Uuid)>, limit: u32) -> Result<Vec<Task>> {
        ranked_tasks(self, queue, after, limit)
    }

    pub fn tasks_of_agent(&self, user_id: &str) -> Result<Vec<Task>> {
        tasks_of_agent(self, user_id)
    }

    /// Waiting tasks whose preferred-agent window or next ring has come by `now`.
    pub fn tasks_due_for_rerouting(&self, now: DateTime<Utc>) -> Result<Vec<uuid::Uuid>> {
        let mut st = self.prepare_cached(
            "SELECT id FROM tasks WHERE reroute_at IS NOT NULL AND reroute_at <= ?1 AND state = 'queued' ORDER BY reroute_at",
        )?;
        let rows = st.query_map([to_millis(now)], |r| r.get(0))?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }

    /// Offers whose alert ran out by `now`.
    pub fn expired_offers(&self, now: DateTime<Utc>) -> Result<Vec<Task>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE offered_to IS NOT NULL AND state = 'offered' AND offer_expires_at <= ?1
             ORDER BY offer_expires_at, id"
        );
        let mut st = self.prepare_cached(&sql)?;
        let rows = st.query_map([to_millis(now)], task_from_row)?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }
}
