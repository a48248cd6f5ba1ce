//! Who may do what: the one place the engine's permission rules live.

use crate::error::{Error, Result};
use crate::model::{Actor, Role, Task, User};

#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Case types, users: workspace configuration.
    Configure,
    /// Read the configuration (calendars for an OLA, the users work can go to).
    ReadConfiguration,
    /// Create and update cases, customers, notes, attachments, interactions.
    WorkCases,
    /// Assign a task to someone other than oneself, or take one from someone.
    AssignOthers,
}

pub fn require(actor: &Actor, action: Action) -> Result<()> {
    let (ok, rule) = match action {
        Action::Configure => (actor.has(Role::Admin), "only an admin may change the workspace configuration"),
        Action::ReadConfiguration => {
            (actor.has(Role::Admin) || actor.has(Role::Supervisor), "the configuration is for supervisors and admins")
        }
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
            action: match action {
                Action::Configure => "change the workspace configuration",
                Action::ReadConfiguration => "read the workspace configuration",
                Action::WorkCases => "work on cases",
                Action::AssignOthers => "assign work to others",
            }
            .into(),
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

/// Who sees a case: an admin, every case; a supervisor, the cases with work in their
/// teams' queues; an agent, the cases they own, hold or were offered a task of, or that
/// wait in their teams' queues (their workbins).
pub fn can_see_case(user: &User, case: &crate::model::Case, tasks: &[Task]) -> bool {
    if user.roles.contains(&Role::Admin) || case.owner.as_deref() == Some(user.id.as_str()) {
        return true;
    }
    let in_my_teams = |t: &Task| t.queue.as_ref().is_some_and(|q| user.teams.contains(q));
    let mine = |t: &Task| [&t.assignee, &t.offered_to].iter().any(|who| who.as_deref() == Some(user.id.as_str()));
    if user.roles.contains(&Role::Supervisor) {
        return tasks.iter().any(|t| in_my_teams(t) || mine(t));
    }
    tasks.iter().any(|t| mine(t) || (in_my_teams(t) && t.state == crate::model::TaskState::Queued))
}
