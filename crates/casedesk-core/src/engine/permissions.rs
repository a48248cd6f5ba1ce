//! Who may do what: the one place the engine's permission rules live.

use crate::error::{Error, Result};
use crate::model::{Actor, Role, Task, User};

#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Case types, users: workspace configuration.
    Configure,
    /// Create and update cases, customers, notes, attachments, interactions.
    WorkCases,
    /// Assign a task to someone other than oneself, or take one from someone.
    AssignOthers,
}

pub fn require(actor: &Actor, action: Action) -> Result<()> {
    let (ok, rule) = match action {
        Action::Configure => (actor.has(Role::Admin), "only an admin may change the workspace configuration"),
        Action::WorkCases => {
            (actor.has(Role::Agent) || actor.has(Role::Supervisor), "case work needs the agent or supervisor role")
        }
        Action::AssignOthers => (actor.has(Role::Supervisor), "only a supervisor may assign work to others"),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Forbidden {
            actor: actor.user_id.clone(),
            action: format!("{action:?}").to_lowercase(),
            rule: rule.into(),
        })
    }
}

/// Working a task (start, complete) is for its assignee.
pub fn require_assignee(actor: &Actor, task: &Task) -> Result<()> {
    if actor.user_id == "system" || task.assignee.as_deref() == Some(actor.user_id.as_str()) {
        return Ok(());
    }
    Err(Error::Forbidden {
        actor: actor.user_id.clone(),
        action: "work this task".into(),
        rule: match &task.assignee {
            Some(a) => format!("the task is assigned to {a}"),
            None => "the task is not assigned to anyone; take it first".into(),
        },
    })
}

/// An agent takes work only from the queues of their teams; supervisors place work
/// anywhere (the routing rules decide who is suitable).
pub fn require_queue_member(actor: &Actor, taker: &User, task: &Task) -> Result<()> {
    if actor.has(Role::Supervisor) {
        return Ok(());
    }
    match &task.queue {
        Some(q) if !taker.teams.iter().any(|t| t == q) => Err(Error::Forbidden {
            actor: actor.user_id.clone(),
            action: "take this task".into(),
            rule: format!("the task is in queue {q}, which is not one of {}'s teams", taker.id),
        }),
        _ => Ok(()),
    }
}
