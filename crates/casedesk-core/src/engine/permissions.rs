//! Who may do what: the one place the engine's permission rules live.

use crate::command::Command;
use crate::error::{Error, Result};
use crate::model::{Actor, Role, Task, User};
use crate::store::Tx;
use uuid::Uuid;

/// The hub's public pages (the web form, the portal's sign-in) act as this. It may only
/// capture cases and sign customers in (`require_command`).
pub const WEB_ACTOR: &str = "web";
/// A customer signed in to the status portal acts as `customer:<id>`, on their own cases.
const CUSTOMER_PREFIX: &str = "customer:";

pub fn customer_actor(id: Uuid) -> Actor {
    Actor { user_id: format!("{CUSTOMER_PREFIX}{id}"), roles: vec![] }
}

/// The customer an actor is, if it is one.
pub fn acting_customer(actor: &Actor) -> Option<Uuid> {
    actor.user_id.strip_prefix(CUSTOMER_PREFIX).and_then(|id| Uuid::try_parse(id).ok())
}

/// A person of the workspace (a user), not the engine, the web form or a customer.
pub fn is_staff(actor: &Actor) -> bool {
    actor.user_id != "system" && actor.user_id != WEB_ACTOR && acting_customer(actor).is_none()
}

/// The web form's or a customer's actor, as the workspace knows them (a customer must
/// exist); none for anyone else.
pub(super) fn public_actor(tx: &Tx, user_id: &str) -> Result<Option<Actor>> {
    if user_id == WEB_ACTOR {
        return Ok(Some(Actor { user_id: WEB_ACTOR.into(), roles: vec![] }));
    }
    if !user_id.starts_with(CUSTOMER_PREFIX) {
        return Ok(None);
    }
    let actor = Actor { user_id: user_id.into(), roles: vec![] };
    match acting_customer(&actor) {
        Some(id) if tx.customer(id)?.is_some() => Ok(Some(actor)),
        _ => Err(Error::Forbidden {
            actor: user_id.into(),
            action: "act in this workspace".into(),
            rule: "the customer does not exist".into(),
        }),
    }
}

/// Which commands each kind of actor may run at all: the web form only its own, a
/// customer only comments and documents, staff none of either (the engine's own
/// actor any). The command's rules then apply as for everyone.
pub fn require_command(actor: &Actor, command: &Command) -> Result<()> {
    use Command::*;
    let public = matches!(
        command,
        SubmitCaseForm { .. } | RequestPortalLink { .. } | OpenPortalSession { .. } | ClosePortalSession { .. }
    );
    let customer = matches!(command, AddCustomerComment { .. } | AddCustomerDocument { .. });
    let (ok, rule) = if actor.user_id == "system" {
        (true, "")
    } else if actor.user_id == WEB_ACTOR {
        (public, "the web form only captures cases and signs customers in")
    } else if acting_customer(actor).is_some() {
        (customer, "a customer only comments on and adds documents to their own cases")
    } else {
        (!public && !customer, "this is done by the hub's web form or portal, for customers")
    };
    if ok {
        return Ok(());
    }
    Err(Error::Forbidden { actor: actor.user_id.clone(), action: "run this command".into(), rule: rule.into() })
}

/// The web form's own commands (or the engine's).
pub fn require_public(actor: &Actor) -> Result<()> {
    if actor.user_id == WEB_ACTOR || actor.user_id == "system" {
        return Ok(());
    }
    Err(Error::Forbidden {
        actor: actor.user_id.clone(),
        action: "capture a case or sign a customer in".into(),
        rule: "only the hub's web form does this".into(),
    })
}

pub fn customers_only(actor: &Actor) -> Error {
    Error::Forbidden {
        actor: actor.user_id.clone(),
        action: "comment as a customer".into(),
        rule: "only a customer signed in to the portal does this".into(),
    }
}

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
    /// Bring in customers in bulk (a CSV import): supervisors and admins.
    ImportCustomers,
}

pub fn require(actor: &Actor, action: Action) -> Result<()> {
    let (ok, rule) = match action {
        Action::Configure => (actor.has(Role::Admin), "only an admin may change the workspace configuration"),
        Action::ReadConfiguration => {
            (actor.has(Role::Admin) || actor.has(Role::Supervisor), "the configuration is for supervisors and admins")
        }
        // The web form captures cases and their customers (and nothing else: `require_command`).
        Action::WorkCases => (
            actor.has(Role::Agent) || actor.has(Role::Supervisor) || actor.user_id == WEB_ACTOR,
            "case work needs the agent or supervisor role",
        ),
        Action::AssignOthers => (actor.has(Role::Supervisor), "only a supervisor may assign work to others"),
        Action::ImportCustomers => {
            (actor.has(Role::Supervisor) || actor.has(Role::Admin), "importing customers is for supervisors and admins")
        }
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
                Action::ImportCustomers => "import customers",
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
