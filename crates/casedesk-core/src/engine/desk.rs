//! What one person's desk reads: their routing state, offers and work, and the desktop
//! notifications meant for them.

use super::Engine;
use crate::error::{Error, Result};
use crate::model::*;

impl Engine {
    /// What routing shows one agent: state, offers, work in hand.
    pub fn agent_desk(&self, user_id: &str) -> Result<AgentDesk> {
        self.read(|db| {
            let mut offers = vec![];
            let mut work = vec![];
            for task in db.tasks_of_agent(user_id)? {
                let case = db.case(task.case_id)?.ok_or_else(|| Error::not_found("case", task.case_id))?;
                let item = DeskTask { case_reference: case.reference, case_subject: case.subject, task };
                if item.task.state == TaskState::Offered {
                    offers.push(item);
                } else {
                    work.push(item);
                }
            }
            Ok(AgentDesk { agent: db.agent(user_id)?, offers, work, now: self.clock.now() })
        })
    }

    /// A team workbin (or queue): a page of its open work, waiting tasks first in routing
    /// order, at most `limit` (up to 1,000) from `offset`, and how many there are in all.
    /// Supervisors see their teams' queues, admins every queue, agents the workbins of
    /// their teams.
    pub fn workbin(&self, user: &User, queue: &str, offset: u32, limit: u32) -> Result<WorkbinPage> {
        if !user.roles.contains(&Role::Admin) && !user.teams.iter().any(|t| t == queue) {
            return Err(Error::Forbidden {
                actor: user.id.clone(),
                action: format!("see queue {queue}"),
                rule: format!("queue {queue} is not one of {}'s teams", user.id),
            });
        }
        self.read(|db| {
            let (total, tasks) = db.open_tasks_page(queue, offset, limit.min(1000))?;
            let mut out = Vec::with_capacity(tasks.len());
            for task in tasks {
                let case = db.case(task.case_id)?.ok_or_else(|| Error::not_found("case", task.case_id))?;
                out.push(DeskTask { case_reference: case.reference, case_subject: case.subject, task });
            }
            Ok(WorkbinPage { total, offset, tasks: out })
        })
    }

    /// Desktop notifications for `user` not shown yet, oldest first, and the outbox id
    /// to acknowledge once they are shown (none when nothing new was read). A desk that
    /// starts fresh begins at the present.
    pub fn desktop_notifications(&self, user: &str) -> Result<(Vec<crate::notify::DesktopNotification>, Option<i64>)> {
        let consumer = format!("desktop:{user}");
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let cursor = match db.outbox_cursor(&consumer)? {
            Some(c) => c,
            None => {
                let head = db.outbox_head()?;
                let now = self.clock.now();
                db.write(|tx| {
                    tx.set_outbox_cursor(&consumer, head)?;
                    crate::store::notifications::suppress_desktop_before(tx, user, now).map(|_| ())
                })?;
                head
            }
        };
        // Checked every second: an idle desk stops at this one indexed read.
        let rows = db.outbox_after("notify", cursor, 200)?;
        if rows.is_empty() {
            return Ok((vec![], None));
        }
        let mut out = vec![];
        let mut last = cursor;
        let queues = db.agent(user)?.map(|a| a.profile.queues).unwrap_or_default();
        let prefs = preferences(&db, user)?;
        for (id, event) in rows {
            last = id;
            let task = match event.task_id {
                Some(t) => db.task(t)?,
                None => None,
            };
            let reference = match event.case_id {
                Some(c) => db.case(c)?.map(|c| c.reference).unwrap_or_default(),
                None => String::new(),
            };
            let audience = crate::notify::Audience {
                user,
                user_queues: &queues,
                reference: &reference,
                task_name: task.as_ref().map(|t| t.name.as_str()).unwrap_or_default(),
                task_assignee: task.as_ref().and_then(|t| t.assignee.as_deref()),
            };
            if prefs.do_not_disturb || prefs.muted.contains(&event.kind) {
                continue;
            }
            if let Some((title, body)) = crate::notify::for_user(&event, &audience) {
                out.push(crate::notify::DesktopNotification { outbox_id: id, kind: event.kind.clone(), title, body });
            }
        }
        Ok((out, (last > cursor).then_some(last)))
    }

    /// Records that `user`'s desk has shown everything up to outbox id `up_to`.
    pub fn acknowledge_notifications(&self, user: &str, up_to: i64) -> Result<()> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        db.write(|tx| tx.set_outbox_cursor(&format!("desktop:{user}"), up_to))
    }
}

/// What `user` chose to hear on their desk.
pub(super) fn preferences(db: &crate::store::Db, user: &str) -> Result<crate::notify::NotificationPreferences> {
    Ok(db
        .setting(&crate::notify::preferences_key(user))?
        .map(|s| serde_json::from_str(&s))
        .transpose()?
        .unwrap_or_default())
}
