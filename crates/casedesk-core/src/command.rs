//! Every change to the workspace is one of these commands, executed by
//! [`crate::Engine::execute`] in one transaction.

use crate::engine::RouteTarget;
use crate::fields::FieldDef;
use crate::model::{Channel, Event, Priority, Role};
use crate::routing::{AgentProfile, Presence, QueueConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Command {
    /// Publish a case-type file; a changed file becomes a new version.
    PublishCaseType {
        file_name: String,
        source: String,
    },
    /// Replace the workspace's business rules (those for every case type) with a file.
    DefineWorkspaceRules {
        file_name: String,
        source: String,
    },
    /// The timer service's: schedule the next page of open cases after the workspace's
    /// rules changed.
    SweepRuleTimers,
    CreateUser {
        id: String,
        name: String,
        roles: Vec<Role>,
        teams: Vec<String>,
    },
    /// A user's name, roles and teams, replacing the last ones (admins).
    UpdateUser {
        id: String,
        name: String,
        roles: Vec<Role>,
        teams: Vec<String>,
    },
    /// The extra fields every customer profile has (CRM-light), replacing the last set.
    DefineCustomerFields {
        fields: Vec<FieldDef>,
    },
    CreateCustomer {
        name: String,
        email: Option<String>,
        phone: Option<String>,
        external_id: Option<String>,
        #[ts(type = "Record<string, unknown>")]
        extra: Map<String, Value>,
    },
    /// Customers from a CSV file with a header row (`name`, `email`, `phone`,
    /// `external_id` and the profile's extra fields): a row whose external id is known
    /// updates that customer, any other row creates one. Rows that break a rule are left
    /// out and listed in the warnings as "line N: field: rule"; the rest are imported.
    ImportCustomers {
        csv: String,
    },
    UpdateCustomer {
        customer_id: Uuid,
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        external_id: Option<String>,
        #[ts(type = "Record<string, unknown> | null")]
        extra: Option<Map<String, Value>>,
    },
    CreateCase {
        case_type: String,
        intent: Option<String>,
        customer_id: Option<Uuid>,
        subject: String,
        description: String,
        #[ts(type = "Record<string, unknown>")]
        fields: Map<String, Value>,
        priority: Option<Priority>,
        /// Interaction to link at once (the call or email the case came from).
        interaction_id: Option<Uuid>,
        /// Or the contact the agent is on, recorded and linked with the case in one go.
        #[serde(default)]
        #[ts(optional)]
        contact: Option<NewContact>,
        /// The case's id in an outside system (a CRM); unique in the workspace.
        #[serde(default)]
        #[ts(optional)]
        external_id: Option<String>,
    },
    /// Changes form fields (the others keep their values) and, if given, the case's
    /// external id (empty text removes it).
    UpdateCaseFields {
        case_id: Uuid,
        #[ts(type = "Record<string, unknown>")]
        fields: Map<String, Value>,
        #[serde(default)]
        #[ts(optional)]
        external_id: Option<String>,
    },
    ChangeCaseStatus {
        case_id: Uuid,
        status: String,
        reason: Option<String>,
    },
    AssignTask {
        task_id: Uuid,
        assignee: String,
    },
    StartTask {
        task_id: Uuid,
    },
    CompleteTask {
        task_id: Uuid,
        outcome: String,
        #[ts(type = "Record<string, unknown>")]
        form_values: Map<String, Value>,
        reason: Option<String>,
    },
    AddNote {
        case_id: Uuid,
        body: String,
    },
    AddAttachment {
        case_id: Uuid,
        file_name: String,
        content_type: String,
        /// Written as base64; read as base64 or as an array of byte values.
        #[serde(with = "content_base64")]
        #[ts(type = "string | Array<number>")]
        content: Vec<u8>,
    },
    CreateInteraction {
        channel: Channel,
        external_id: Option<String>,
        customer_id: Option<Uuid>,
        summary: String,
        /// A case to link it to, in the same transaction.
        #[serde(default)]
        case_id: Option<Uuid>,
    },
    LinkInteraction {
        case_id: Uuid,
        interaction_id: Uuid,
    },
    /// Takes `size` reference numbers off this database's sequence for a client that will
    /// create cases offline (the hub's side). `created_id` is "first-last".
    ReserveReferenceBlock {
        prefix: String,
        size: i64,
    },
    /// Records numbers a hub reserved for this database; they are used before the local
    /// sequence, which skips past them.
    GrantReferenceBlock {
        prefix: String,
        first: i64,
        last: i64,
    },
    /// The skills agents can have and tasks can require.
    DefineSkills {
        skills: Vec<String>,
    },
    /// Secondary presences an admin offers under each presence ("Lunch" under Meal).
    DefinePresenceLabels {
        labels: std::collections::BTreeMap<Presence, Vec<String>>,
    },
    DefineQueue {
        queue: QueueConfig,
    },
    SetAgentProfile {
        user_id: String,
        profile: AgentProfile,
    },
    /// The acting agent's presence.
    SetPresence {
        presence: Presence,
        secondary: Option<String>,
    },
    SetOnQueue {
        on_queue: bool,
    },
    AcceptOffer {
        task_id: Uuid,
    },
    DeclineOffer {
        task_id: Uuid,
    },
    /// Time-driven routing (the timer calls this when `Engine::next_routing_due` has
    /// come): offers whose alert ran out count as missed, and tasks whose preferred-agent
    /// window or next bullseye ring has come are routed again.
    RoutingTick,
    /// The next-best task from the acting agent's workbins; `created_id` is its id.
    PullNextTask {
        queue: Option<String>,
    },
    ReassignTasks {
        task_ids: Vec<Uuid>,
        to: RouteTarget,
    },
    /// Everything an agent holds or is offered goes to `to` (absences).
    ReassignAllOf {
        user_id: String,
        to: RouteTarget,
    },
    ChangeTaskPriority {
        task_ids: Vec<Uuid>,
        priority: u8,
    },
    /// A business calendar (time zone, open hours, holidays) for SLAs and OLAs.
    DefineCalendar {
        calendar: crate::calendar::CalendarDef,
    },
    /// The timer service: these clocks have reached an instant (`Engine::run_due_timers`).
    ServiceLevelTick {
        due: Vec<crate::engine::TimerSubject>,
    },
    /// Escalate a task by hand, along its step's chain.
    EscalateTask {
        task_id: Uuid,
        reason: String,
    },
    /// The assignee has the task open on screen: a breach waits until they close it.
    OpenTaskOnScreen {
        task_id: Uuid,
    },
    CloseTaskOnScreen {
        task_id: Uuid,
    },
    /// The acting user's desktop notification choices.
    SetNotificationPreferences {
        preferences: crate::notify::NotificationPreferences,
    },
    /// A user's password, as the argon2 hash the hub made of it (an admin, or the user
    /// themselves). The event log records only that it changed.
    SetPasswordHash {
        user_id: String,
        password_hash: String,
    },
    /// A session (opened by the hub after checking a password) or an API token (by an
    /// admin), stored as the SHA-256 digest of the token.
    OpenAccessToken {
        user_id: String,
        token_digest: String,
        kind: crate::engine::TokenKind,
        label: String,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Where email and SMS reach a user (an admin, or the user themselves).
    SetUserContact {
        user_id: String,
        email: Option<String>,
        phone: Option<String>,
    },
    /// Adds or replaces a notification rule; its templates are checked now.
    DefineNotificationRule {
        rule: crate::notify::NotificationRule,
    },
    RemoveNotificationRule {
        id: String,
    },
    /// The SMTP server, SMS gateway and webhook signing secret.
    ConfigureNotificationChannels {
        settings: crate::notify::ChannelSettings,
    },
    /// A case captured by the public web form (the hub's, acting as `web`): the customer
    /// found by email or created, the case, its web contact, the files, and a
    /// confirmation email with the reference, in one transaction.
    SubmitCaseForm {
        form: crate::engine::WebForm,
    },
    /// Sends a sign-in link for the status portal to every customer with this email
    /// (the hub's, acting as `web`); nothing, and no sign of it, for an unknown address.
    RequestPortalLink {
        email: String,
        /// Where the portal is served, e.g. "https://service.example.com".
        portal_url: String,
    },
    /// Uses a sign-in link (once, before it expires) to open a portal session, kept as
    /// the digest of its cookie (the hub's, acting as `web`).
    OpenPortalSession {
        link_token: String,
        session_digest: String,
        expires_at: chrono::DateTime<chrono::Utc>,
    },
    /// Ends a portal session (signing out; the hub's, acting as `web`).
    ClosePortalSession {
        session_digest: String,
    },
    /// A signed-in customer's comment on one of their cases.
    AddCustomerComment {
        case_id: Uuid,
        body: String,
    },
    /// A document a signed-in customer adds to one of their cases.
    AddCustomerDocument {
        case_id: Uuid,
        file_name: String,
        content_type: String,
        #[serde(with = "content_base64")]
        #[ts(type = "string | Array<number>")]
        content: Vec<u8>,
    },
    /// A supervisor gives tasks another OLA; deadlines are recomputed.
    ChangeTaskOla {
        task_ids: Vec<Uuid>,
        ola: crate::casetype::ServiceLevel,
    },
}

/// A contact (a call, a chat) recorded with the case it opens.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewContact {
    pub channel: Channel,
    /// What was said; the case's subject when left empty.
    #[serde(default)]
    pub summary: String,
}

/// What a command did: its events, and the id (and reference) of what it created.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Executed {
    pub events: Vec<Event>,
    pub created_id: Option<String>,
    pub reference: Option<String>,
    /// Things the command accepted but the person should look at (e.g. an OLA that
    /// ends after its case's SLA).
    pub warnings: Vec<String>,
}

impl Command {
    /// The first text of the command that holds a NUL character, as a path (`body`,
    /// `fields.serial_number`, `roles[0]`).
    pub fn field_with_nul(&self) -> Option<String> {
        fn find(value: &Value, path: &str) -> Option<String> {
            let at = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
            match value {
                Value::String(s) if s.contains('\0') => Some(path.to_string()),
                Value::Object(map) => {
                    map.iter().find_map(|(k, v)| find(v, &at(k)).or_else(|| k.contains('\0').then(|| at(k))))
                }
                Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find(v, &format!("{path}[{i}]"))),
                _ => None,
            }
        }
        find(&serde_json::to_value(self).ok()?, "")
    }
}

/// Attachment content on the wire: base64, a third more than the bytes where an array of
/// numbers is nearly four times as much, so a push of the largest attachment stays
/// within the hub's limit. An array is still read: the page sends one, and commands kept
/// on desks and hubs before were written so.
pub(crate) mod content_base64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_any(Content)
    }

    struct Content;

    impl<'de> Visitor<'de> for Content {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the content as base64, or as an array of byte values")
        }

        fn visit_str<E: Error>(self, text: &str) -> Result<Vec<u8>, E> {
            STANDARD.decode(text).map_err(|e| E::custom(format!("content: not base64 ({e})")))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(b) = seq.next_element::<u8>()? {
                bytes.push(b);
            }
            Ok(bytes)
        }
    }

    #[cfg(test)]
    mod tests {
        use crate::Command;

        #[test]
        fn content_goes_as_base64_and_is_read_in_either_form() {
            let id = uuid::Uuid::nil();
            let command = Command::AddAttachment {
                case_id: id,
                file_name: "a.bin".into(),
                content_type: "application/octet-stream".into(),
                content: vec![0, 1, 254, 255],
            };
            let json = serde_json::to_value(&command).unwrap();
            assert_eq!(json["content"], "AAH+/w==");
            let mut old = json.clone();
            old["content"] = serde_json::json!([0, 1, 254, 255]);
            for form in [json, old] {
                let Command::AddAttachment { content, .. } = serde_json::from_value(form).unwrap() else { panic!() };
                assert_eq!(content, [0, 1, 254, 255]);
            }
            let mut bad = serde_json::to_value(&command).unwrap();
            bad["content"] = "not base64!".into();
            let e = serde_json::from_value::<Command>(bad).unwrap_err().to_string();
            assert!(e.contains("content: not base64"), "{e}");
        }
    }
}
