//! Desktop notifications through the system's notification server (notify-rust).

use casedesk_core::notify::{DesktopNotification, Notifier};

pub struct SystemNotifier;

impl Notifier for SystemNotifier {
    fn show(&self, n: &DesktopNotification) -> Result<(), String> {
        notify_rust::Notification::new()
            .appname("Casedesk")
            .summary(&n.title)
            .body(&n.body)
            .show()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
