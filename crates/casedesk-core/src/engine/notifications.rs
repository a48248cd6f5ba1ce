//! Notification rules at work: defining them (checked when saved), writing one delivery
//! per rule, event and recipient in the transaction of the event, and delivering email,
//! SMS and webhooks with retries, backoff and dead letters.

use super::permissions::{require, Action};
use super::{Ctx, Engine};
use crate::error::{Error, Result};
use crate::model::{Case, Customer, Event, Task, User};
use crate::notify::delivery::{backoff, CLAIM_SECONDS, MAX_ATTEMPTS, SETTINGS_KEY};

/// Deliveries claimed at a time: few enough that their sends (each up to the senders'
/// timeout) finish well inside the claim.
const CLAIM_BATCH: u32 = 4;

/// The channels that can send now: webhooks always, email and SMS once configured.
fn configured(settings: &ChannelSettings) -> Vec<Channel> {
    let mut out = vec![Channel::Webhook];
    out.extend(settings.email.as_ref().map(|_| Channel::Email));
    out.extend(settings.sms.as_ref().map(|_| Channel::Sms));
    out
}
use crate::notify::rules::{self, Channel, NotificationRule, NotifyEvent, Recipient};
use crate::notify::template::{self, FieldScope, Subject};
use crate::notify::{ChannelSettings, Delivery, DeliveryRound, DesktopNotification, SendError, Transport};
use crate::store::notifications::{self as store, DeliveryLogEntry, NewDelivery};
use chrono_tz::Tz;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The form fields a rule's templates may name: its case type's (latest version), or
/// for a rule on every type, the fields all published types have.
fn field_scope(ctx: &Ctx, case_type: Option<&str>) -> Result<FieldScope> {
    let fields_of = |id: &str, version: u32| -> Result<BTreeSet<String>> {
        Ok(ctx.case_type(id, version)?.fields.iter().map(|f| f.id.clone()).collect())
    };
    match case_type {
        Some(id) => {
            let (version, _) = ctx
                .tx
                .latest_case_type(id)?
                .ok_or_else(|| Error::field("case_type", format!("'{id}' is not a published case type")))?;
            Ok(FieldScope { ids: fields_of(id, version)?, source: format!("case type '{id}'") })
        }
        None => {
            let mut common: Option<BTreeSet<String>> = None;
            for (id, version) in ctx.tx.published_case_types()? {
                let ids = fields_of(&id, version)?;
                common = Some(match common {
                    None => ids,
                    Some(c) => c.intersection(&ids).cloned().collect(),
                });
            }
            Ok(FieldScope { ids: common.unwrap_or_default(), source: "every case type (the fields all have)".into() })
        }
    }
}

/// Warnings for the rules on `case_type` (or on every type) whose templates no longer
/// fit the case types as now published; their deliveries would be dead letters.
pub fn rules_that_no_longer_fit(ctx: &Ctx, case_type: &str) -> Result<Vec<String>> {
    let mut out = vec![];
    for rule in ctx.tx.notification_rules_on(case_type)? {
        let scope = field_scope(ctx, rule.case_type.as_deref())?;
        if let Err(e) = rules::check(&rule, &scope) {
            out.push(format!("notification rule '{}' no longer fits: {e}", rule.id));
        }
    }
    Ok(out)
}

pub fn define_rule(ctx: &mut Ctx, rule: NotificationRule) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let scope = field_scope(ctx, rule.case_type.as_deref())?;
    rules::check(&rule, &scope)?;
    let before = ctx.tx.notification_rule(&rule.id)?;
    ctx.created_id = Some(rule.id.clone());
    if before.as_ref() == Some(&rule) {
        return Ok(());
    }
    ctx.tx.put_notification_rule(&rule, ctx.now)?;
    let shown = |r: Option<&NotificationRule>| serde_json::to_value(r.map(NotificationRule::redacted));
    ctx.emit("notification_rule_defined", None, None, shown(before.as_ref())?, shown(Some(&rule))?)
}

pub fn remove_rule(ctx: &mut Ctx, id: &str) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let before = ctx.tx.notification_rule(id)?.ok_or_else(|| Error::not_found("notification rule", id))?;
    ctx.tx.delete_notification_rule(id)?;
    ctx.emit("notification_rule_removed", None, None, serde_json::to_value(before.redacted())?, Value::Null)
}

pub fn configure_channels(ctx: &mut Ctx, settings: ChannelSettings) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    settings.check()?;
    let before: Option<ChannelSettings> =
        ctx.tx.setting(SETTINGS_KEY)?.map(|s| serde_json::from_str(&s)).transpose()?;
    if before.as_ref() == Some(&settings) {
        return Ok(());
    }
    ctx.tx.put_setting(SETTINGS_KEY, &serde_json::to_string(&settings)?, ctx.now, &ctx.actor.user_id)?;
    // The event log keeps no secrets.
    let shown = |s: Option<&ChannelSettings>| serde_json::to_value(s.map(ChannelSettings::redacted));
    ctx.emit("notification_channels_configured", None, None, shown(before.as_ref())?, shown(Some(&settings))?)
}

/// Writes the deliveries the rules ask for, for every event of the command.
pub fn enqueue(ctx: &mut Ctx) -> Result<()> {
    for i in 0..ctx.events.len() {
        let (Some(kind), Some(case_id)) = (NotifyEvent::of(&ctx.events[i].kind), ctx.events[i].case_id) else {
            continue;
        };
        let case = ctx.case(case_id)?;
        let rules: Vec<NotificationRule> =
            ctx.tx.notification_rules_for(kind, &case.case_type)?.into_iter().filter(|r| r.enabled).collect();
        if rules.is_empty() {
            continue;
        }
        let event = ctx.events[i].clone();
        enqueue_event(ctx, kind, &event, &case, &rules)?;
    }
    Ok(())
}

/// The deliveries a business rule's `notify` asks for, tied to its `rule_applied` event.
pub(crate) fn deliver_for_rule(ctx: &Ctx, event: &Event, case: &Case, rule: &NotificationRule) -> Result<()> {
    enqueue_event(ctx, rule.event, event, case, std::slice::from_ref(rule))
}

fn enqueue_event(ctx: &Ctx, kind: NotifyEvent, event: &Event, case: &Case, rules: &[NotificationRule]) -> Result<()> {
    let def = ctx.case_type(&case.case_type, case.type_version)?;
    let task = match event.task_id {
        Some(id) => ctx.tx.task(id)?,
        None => None,
    };
    let customer = match case.customer_id {
        Some(id) => ctx.tx.customer(id)?,
        None => None,
    };
    let zone = match &def.sla.calendar {
        Some(id) => ctx.tx.calendar(id)?.and_then(|c| c.time_zone.parse::<Tz>().ok()).unwrap_or(Tz::UTC),
        None => Tz::UTC,
    };
    let name_of = |id: Option<&str>| -> Result<Option<String>> {
        Ok(match id {
            Some(id) => ctx.tx.user(id)?.map(|u| u.name),
            None => None,
        })
    };
    let owner_name = name_of(case.owner.as_deref())?;
    let assignee_name = name_of(task.as_ref().and_then(|t| t.assignee.as_deref()))?;
    let variables = template::variables(&Subject {
        event,
        case,
        def: &def,
        task: task.as_ref(),
        customer: customer.as_ref(),
        owner_name: owner_name.as_deref(),
        assignee_name: assignee_name.as_deref(),
        zone,
    });
    for rule in rules {
        let rendered = template::render(&rule.subject, &variables)
            .and_then(|subject| Ok((subject, template::render(&rule.body, &variables)?)));
        let (subject, mut body, render_error) = match rendered {
            Ok((s, b)) => (s, b, None),
            Err(e) => (String::new(), String::new(), Some(e)),
        };
        if rule.channel == Channel::Webhook {
            body = webhook_payload(kind, event, rule, &body, &variables).to_string();
        }
        for (recipient, unreachable) in recipients(ctx, rule, event, case, task.as_ref(), customer.as_ref())? {
            ctx.tx.insert_delivery(&NewDelivery {
                event_seq: event.seq,
                rule_id: &rule.id,
                channel: rule.channel,
                recipient: &recipient,
                subject: &subject,
                body: &body,
                dead_reason: render_error.clone().or(unreachable),
                at: ctx.now,
            })?;
        }
    }
    Ok(())
}

/// What a webhook posts: the event, the rule's message, and the case's variables.
fn webhook_payload(kind: NotifyEvent, event: &Event, rule: &NotificationRule, message: &str, v: &Value) -> Value {
    json!({
        "event": kind.as_str(),
        "event_kind": event.kind,
        "event_seq": event.seq,
        "at": event.at,
        "rule": rule.id,
        "message": (!message.is_empty()).then_some(message),
        "case": v["case"],
        "task": v["task"],
        "customer": v["customer"],
        "fields": v["fields"],
    })
}

/// The addresses a rule reaches for this event, each with the reason it cannot be
/// reached, if so. The person whose action caused the event is not told about it.
fn recipients(
    ctx: &Ctx,
    rule: &NotificationRule,
    event: &Event,
    case: &Case,
    task: Option<&Task>,
    customer: Option<&Customer>,
) -> Result<Vec<(String, Option<String>)>> {
    if rule.channel == Channel::Webhook {
        return Ok(vec![(rule.webhook_url.clone().unwrap_or_default(), None)]);
    }
    // The tasks a recipient is found through: the event's task, or the case's open ones.
    let tasks: Vec<Task> = match task {
        Some(t) => vec![t.clone()],
        None => {
            let all = ctx.tx.tasks_of_case(case.id)?;
            let open: Vec<Task> = all.iter().filter(|t| t.state.is_open()).cloned().collect();
            // A case that just closed has none open: those this command closed count.
            if open.is_empty() {
                all.into_iter().filter(|t| t.updated_at == ctx.now).collect()
            } else {
                open
            }
        }
    };
    let mut queues: BTreeSet<String> = tasks.iter().filter_map(|t| t.queue.clone()).collect();
    // An escalation also concerns the queue it went to.
    if let Some(to) = event.after.get("to").and_then(Value::as_str).filter(|_| event.kind == "task_escalated") {
        queues.insert(to.to_string());
    }
    let mut users: BTreeSet<String> = BTreeSet::new();
    let mut out = vec![];
    for who in &rule.recipients {
        match who {
            Recipient::Customer => {
                let address = customer.and_then(|c| match rule.channel {
                    Channel::Email => c.email.clone(),
                    _ => c.phone.clone(),
                });
                let what = if rule.channel == Channel::Email { "email address" } else { "phone number" };
                out.push(match (customer, address) {
                    (_, Some(a)) => (a, None),
                    (Some(c), None) => (format!("customer:{}", c.id), Some(format!("the customer has no {what}"))),
                    (None, None) => ("customer:none".into(), Some("the case has no customer".into())),
                });
            }
            Recipient::Assignee => users.extend(tasks.iter().filter_map(|t| t.assignee.clone())),
            Recipient::Owner => users.extend(case.owner.clone()),
            Recipient::Supervisor => {
                for q in &queues {
                    users.extend(ctx.tx.supervisors_of(q)?.into_iter().map(|u| u.id));
                }
            }
            Recipient::QueueMembers => {
                for q in &queues {
                    users.extend(ctx.tx.queue_members(q)?);
                }
            }
        }
    }
    users.remove(&event.actor);
    for id in users {
        let Some(user) = ctx.tx.user(&id)? else { continue };
        out.push(user_address(rule.channel, &user));
    }
    Ok(out)
}

fn user_address(channel: Channel, user: &User) -> (String, Option<String>) {
    let (address, what) = match channel {
        Channel::Desktop => (Some(user.id.clone()), ""),
        Channel::Email => (user.email.clone(), "email address"),
        _ => (user.phone.clone(), "phone number"),
    };
    match address {
        Some(a) => (a, None),
        None => (format!("user:{}", user.id), Some(format!("{} has no {what}", user.id))),
    }
}

/// What the notification screen shows: one's own preferences, and for admins the rules,
/// the channels (secrets hidden) and the latest deliveries.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct NotificationCentre {
    pub preferences: crate::notify::NotificationPreferences,
    /// The event kinds a person may mute.
    pub kinds: Vec<String>,
    pub rules: Vec<NotificationRule>,
    pub channels: Option<ChannelSettings>,
    pub deliveries: Vec<DeliveryLogEntry>,
}

impl Engine {
    pub fn notification_centre(&self, actor: &crate::model::Actor) -> Result<NotificationCentre> {
        let admin = actor.has(crate::model::Role::Admin);
        self.read(|db| {
            let conn = db.connection_ref();
            Ok(NotificationCentre {
                preferences: super::desk::preferences(db, &actor.user_id)?,
                kinds: crate::notify::mutable_kinds().into_iter().map(String::from).collect(),
                rules: if admin { store::notification_rules(conn)? } else { vec![] },
                channels: if admin { Some(channel_settings(db)?.redacted()) } else { None },
                deliveries: if admin { store::delivery_log(conn, None, None, 50)? } else { vec![] },
            })
        })
    }

    /// Sends the email, SMS and webhook deliveries due now, at most `limit`, through
    /// `transport`. The database is not locked while a message is on its way. Deliveries
    /// of a channel with no settings wait (they are not attempts).
    pub fn deliver_due(&self, transport: &dyn Transport, limit: u32) -> Result<DeliveryRound> {
        let mut round = DeliveryRound::default();
        let mut left = limit;
        while left > 0 {
            let now = self.clock.now();
            let claim = uuid::Uuid::new_v4().to_string();
            let (batch, settings) = {
                let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
                let settings = channel_settings(&db)?;
                let until = now + chrono::Duration::seconds(CLAIM_SECONDS);
                let channels = configured(&settings);
                let batch = db.write(|tx| {
                    let mut batch = tx.claim_due_deliveries(&channels, now, &claim, until, left.min(CLAIM_BATCH))?;
                    // A sign-in link is sealed only as it leaves (the stored row holds its id).
                    super::portal::seal_outgoing(tx, &mut batch)?;
                    Ok(batch)
                })?;
                (batch, settings)
            };
            if batch.is_empty() {
                break;
            }
            left = left.saturating_sub(batch.len() as u32);
            for d in batch {
                let attempts = d.attempts + 1;
                let outcome = if d.attempts >= MAX_ATTEMPTS {
                    Err(SendError::Permanent(format!("gave up: the sender stopped during all {} attempts", d.attempts)))
                } else {
                    transport.send(&d, &settings)
                };
                let now = self.clock.now();
                let (status, error, next) = match outcome {
                    Ok(()) => ("sent", None, now),
                    Err(SendError::Permanent(m)) => ("dead", Some(m), now),
                    Err(SendError::Temporary(m)) if attempts >= MAX_ATTEMPTS => {
                        ("dead", Some(format!("gave up after {attempts} attempts: {m}")), now)
                    }
                    Err(SendError::Temporary(m)) => ("pending", Some(m), now + backoff(attempts)),
                };
                match status {
                    "sent" => round.sent += 1,
                    "dead" => round.dead += 1,
                    _ => round.retrying += 1,
                }
                let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
                db.write(|tx| tx.finish_delivery(d.id, Some(&claim), status, attempts, error.as_deref(), now, next))?;
            }
        }
        Ok(round)
    }

    /// When the next email, SMS or webhook delivery is due, if any waits on a channel
    /// that is configured.
    pub fn next_delivery_due(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.read(|db| store::next_delivery_due(db.connection_ref(), &configured(&channel_settings(db)?)))
    }

    /// The newest deliveries first, optionally only those of one status (e.g. "dead").
    pub fn delivery_log(&self, status: Option<&str>, limit: u32) -> Result<Vec<DeliveryLogEntry>> {
        self.read(|db| store::delivery_log(db.connection_ref(), status, None, limit))
    }

    /// The latest webhook deliveries with their status and last error (admins), for an
    /// integrator to see what reached them.
    pub fn webhook_deliveries(
        &self,
        actor: &crate::model::Actor,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DeliveryLogEntry>> {
        require(actor, Action::Configure)?;
        self.read(|db| store::delivery_log(db.connection_ref(), status, Some(Channel::Webhook), limit.min(500)))
    }

    /// The webhook subscriptions (rules of the webhook channel), URLs' queries hidden
    /// (admins).
    pub fn webhook_rules(&self, actor: &crate::model::Actor) -> Result<Vec<NotificationRule>> {
        require(actor, Action::Configure)?;
        let rules = self.read(|db| store::notification_rules(db.connection_ref()))?;
        Ok(rules.iter().filter(|r| r.channel == Channel::Webhook).map(NotificationRule::redacted).collect())
    }

    pub fn notification_rules(&self) -> Result<Vec<NotificationRule>> {
        self.read(|db| store::notification_rules(db.connection_ref()))
    }

    /// The channel settings, secrets included (for senders; show `redacted()` to people).
    pub fn channel_settings(&self) -> Result<ChannelSettings> {
        self.read(channel_settings)
    }

    /// Rule-made desktop notifications waiting for `user`. Those the user's preferences
    /// hold back (muted kind, do-not-disturb) are recorded as suppressed, not shown.
    pub fn desktop_deliveries(&self, user: &str) -> Result<Vec<(Delivery, DesktopNotification)>> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let pending = store::pending_desktop(db.connection_ref(), user, 100)?;
        if pending.is_empty() {
            return Ok(vec![]);
        }
        let prefs = super::desk::preferences(&db, user)?;
        let now = self.clock.now();
        let (held, shown): (Vec<_>, Vec<_>) =
            pending.into_iter().partition(|(_, kind)| prefs.do_not_disturb || prefs.muted.contains(kind));
        if !held.is_empty() {
            db.write(|tx| {
                for (d, kind) in &held {
                    let why = if prefs.do_not_disturb { "do not disturb".to_string() } else { format!("{kind} muted") };
                    tx.finish_delivery(d.id, None, "suppressed", d.attempts, Some(&why), now, now)?;
                }
                Ok(())
            })?;
        }
        Ok(shown
            .into_iter()
            .map(|(d, kind)| {
                let n = DesktopNotification { outbox_id: 0, kind, title: d.subject.clone(), body: d.body.clone() };
                (d, n)
            })
            .collect())
    }

    /// Records that a rule-made desktop notification was shown.
    pub fn desktop_delivery_shown(&self, delivery_id: i64) -> Result<()> {
        let now = self.clock.now();
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        db.write(|tx| tx.finish_delivery(delivery_id, None, "sent", 1, None, now, now)).map(|_| ())
    }
}

fn channel_settings(db: &crate::store::Db) -> Result<ChannelSettings> {
    Ok(db.setting(SETTINGS_KEY)?.map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or_default())
}
