//! The workspace's configuration as one read, for the admin sheet (and a supervisor
//! choosing a calendar or a queue): case types with their TOML, calendars, queues,
//! skills and the staff with their routing profiles. Edits go through `Command`s, so
//! the rules that check them are the loader's and the engine's own.

use super::permissions::{require, Action};
use super::routing::SKILLS_KEY;
use super::Engine;
use crate::calendar::CalendarDef;
use crate::error::Result;
use crate::model::{Actor, User};
use crate::routing::{AgentProfile, QueueConfig};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Catalogue {
    pub case_types: Vec<CaseTypeSource>,
    pub calendars: Vec<CalendarDef>,
    pub queues: Vec<QueueEntry>,
    pub skills: Vec<String>,
    pub staff: Vec<StaffMember>,
}

/// The latest version of a case type and the TOML it was published from.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CaseTypeSource {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub source: String,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
}

/// A queue or team workbin; `defined` is false for one only named (by a team or a
/// profile), which runs with the defaults shown until an admin defines it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QueueEntry {
    pub config: QueueConfig,
    pub defined: bool,
}

/// A person and, when they take routed work, their routing profile.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StaffMember {
    pub user: User,
    pub profile: Option<AgentProfile>,
}

impl Engine {
    pub fn catalogue(&self, actor: &Actor) -> Result<Catalogue> {
        require(actor, Action::ReadConfiguration)?;
        self.read(|db| {
            let case_types = db
                .latest_case_type_sources()?
                .into_iter()
                .map(|r| CaseTypeSource {
                    id: r.case_type,
                    name: r.name,
                    version: r.version,
                    source: r.source,
                    published_at: crate::clock::from_millis(r.published_at),
                    published_by: r.published_by,
                })
                .collect();
            let agents = db.agents()?;
            let users = db.users()?;
            let mut queues: Vec<QueueEntry> =
                db.queues()?.into_iter().map(|config| QueueEntry { config, defined: true }).collect();
            let named: BTreeSet<&String> =
                users.iter().flat_map(|u| &u.teams).chain(agents.iter().flat_map(|a| &a.profile.queues)).collect();
            for name in named {
                if !queues.iter().any(|q| &q.config.id == name) {
                    queues.push(QueueEntry { config: QueueConfig::pull(name), defined: false });
                }
            }
            queues.sort_by(|a, b| a.config.id.cmp(&b.config.id));
            let skills = match db.setting(SKILLS_KEY)? {
                Some(json) => serde_json::from_str(&json)?,
                None => Vec::new(),
            };
            // How to reach people is the admins' to see.
            let admin = actor.has(crate::model::Role::Admin);
            let staff = users
                .into_iter()
                .map(|mut user| {
                    if !admin {
                        (user.email, user.phone) = (None, None);
                    }
                    let profile = agents.iter().find(|a| a.user_id == user.id).map(|a| a.profile.clone());
                    StaffMember { user, profile }
                })
                .collect();
            Ok(Catalogue { case_types, calendars: db.calendars()?, queues, skills, staff })
        })
    }
}
