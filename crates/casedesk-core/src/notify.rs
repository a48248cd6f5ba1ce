//! Desktop notifications: which events tell which person something, and in what words.
//! Delivery is the shell's (through a [`Notifier`]); the rules are here, once.

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

/// Where notifications leave the engine: the desktop's notification server, or a fake
/// in tests.
pub trait Notifier: Send + Sync {
    fn show(&self, n: &DesktopNotification) -> Result<(), String>;
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default().to_string()
}

/// The notification `event` means for `user`, if any. `reference` and `task_name`
/// describe the case and task the event is about.
pub fn for_user(event: &Event, user: &str, reference: &str, task_name: &str) -> Option<(String, String)> {
    let after = &event.after;
    let mine = |key: &str| text(after, key) == user;
    match event.kind.as_str() {
        "task_offered" if mine("offered_to") => Some(("New task offered".into(), format!("{task_name} — {reference}"))),
        "task_assigned" if mine("assignee") && event.actor != user => {
            Some(("Assigned to you".into(), format!("{task_name} — {reference}")))
        }
        "task_escalated" => {
            let to = text(after, "to");
            Some((format!("Escalated to {to}"), format!("{task_name} — {reference} (level {})", after["level"])))
                .filter(|_| event.actor != user)
        }
        "task_at_risk" => Some(("Task at risk".into(), format!("{task_name} — {reference}"))),
        "task_breached" => Some(("OLA breached".into(), format!("{task_name} — {reference}"))),
        _ => None,
    }
}

/// Shows `user` what is new for them and records it as shown. A notification the
/// notifier fails to show is kept, with everything after it, for the next round.
pub fn deliver(engine: &crate::Engine, user: &str, notifier: &dyn Notifier) -> crate::Result<usize> {
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
