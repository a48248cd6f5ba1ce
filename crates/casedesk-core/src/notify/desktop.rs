//! The built-in desktop notifications: which events tell which person something, and in
//! what words. Delivery is the shell's (through a [`Notifier`]); the rules are here, once.

use crate::model::Event;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DesktopNotification {
    /// The outbox row it came from (delivery is tracked by it).
    pub outbox_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
}

/// What a person chose to hear: kinds they muted, and do-not-disturb (nothing shown;
/// what comes meanwhile is not saved up for later).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NotificationPreferences {
    /// Event kinds not to show, e.g. "task_at_risk".
    pub muted: Vec<String>,
    pub do_not_disturb: bool,
}

/// The event kinds the built-in desktop notifications come from.
pub const KINDS: &[&str] = &["task_offered", "task_assigned", "task_escalated", "task_at_risk", "task_breached"];

/// Every event kind a desktop notification can come from (built-in or by a rule): what
/// a person may mute.
pub fn mutable_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&str> = KINDS.to_vec();
    for event in super::NotifyEvent::ALL {
        kinds.extend(event.event_kinds().iter().filter(|k| !KINDS.contains(k)));
    }
    kinds
}

pub fn preferences_key(user: &str) -> String {
    format!("notification_preferences:{user}")
}

/// Where notifications leave the engine: the desktop's notification server, or a fake
/// in tests.
pub trait Notifier: Send + Sync {
    fn show(&self, n: &DesktopNotification) -> Result<(), String>;
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default().to_string()
}

/// What a notification rule needs to know besides the event.
pub struct Audience<'a> {
    pub user: &'a str,
    /// Queues and workbins the user works in.
    pub user_queues: &'a [String],
    /// The case's reference and the task's name and assignee, for the event's subject.
    pub reference: &'a str,
    pub task_name: &'a str,
    pub task_assignee: Option<&'a str>,
}

/// The notification `event` means for the user, if any: offers to the agent offered;
/// assignments to the new assignee (unless they took it themselves); an escalation to
/// the agent who had the task and to the agents of the queue it now waits in; at risk
/// and breached to the task's assignee.
pub fn for_user(event: &Event, a: &Audience) -> Option<(String, String)> {
    let after = &event.after;
    let is_user = |key: &str| text(after, key) == a.user;
    let subject = format!("{} — {}", a.task_name, a.reference);
    match event.kind.as_str() {
        "task_offered" if is_user("offered_to") => Some(("New task offered".into(), subject)),
        "task_assigned" if is_user("assignee") && event.actor != a.user => Some(("Assigned to you".into(), subject)),
        "task_escalated" if event.actor != a.user => {
            let to = text(after, "to");
            let had_it = is_user("from_assignee");
            let waits_for_me = a.user_queues.contains(&to);
            (had_it || waits_for_me)
                .then(|| (format!("Escalated to {to}"), format!("{subject} (level {})", after["level"])))
        }
        "task_at_risk" if a.task_assignee == Some(a.user) => Some(("Task at risk".into(), subject)),
        "task_breached" if a.task_assignee == Some(a.user) => Some(("OLA breached".into(), subject)),
        _ => None,
    }
}

/// Shows `user` what is new for them (the built-in alerts, then what rules wrote for
/// them) and records it as shown. A notification the notifier fails to show is kept,
/// with everything after it, for the next round.
pub fn deliver(engine: &crate::Engine, user: &str, notifier: &dyn Notifier) -> crate::Result<usize> {
    let mut shown = deliver_built_in(engine, user, notifier)?;
    for (delivery, n) in engine.desktop_deliveries(user)? {
        notifier.show(&n).map_err(|e| crate::Error::Io(format!("desktop notification failed: {e}")))?;
        engine.desktop_delivery_shown(delivery.id)?;
        shown += 1;
    }
    Ok(shown)
}

fn deliver_built_in(engine: &crate::Engine, user: &str, notifier: &dyn Notifier) -> crate::Result<usize> {
    let (batch, scanned_to) = engine.desktop_notifications(user)?;
    // Nothing new read: nothing to write either.
    let Some(scanned_to) = scanned_to else { return Ok(0) };
    let mut shown = 0;
    for n in &batch {
        if let Err(e) = notifier.show(n) {
            if n.outbox_id > 1 {
                engine.acknowledge_notifications(user, n.outbox_id - 1)?;
            }
            return Err(crate::Error::Io(format!("desktop notification failed: {e}")));
        }
        shown += 1;
    }
    engine.acknowledge_notifications(user, scanned_to)?;
    Ok(shown)
}
