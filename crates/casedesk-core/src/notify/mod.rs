//! Notifications: who is told what, in which words, through which channel.
//!
//! - [`desktop`]: the built-in work alerts every agent gets on their desk (an offer, an
//!   assignment, an escalation, at risk, breached), read per desk from the outbox.
//! - [`rules`]: what admins add, per case type × event × channel, with recipients.
//! - [`template`]: the variables a rule's words may use, checked when the rule is saved.
//! - [`delivery`]: the retry policy and the [`Transport`] seam that email, SMS and
//!   webhook senders implement (outside this crate, which speaks no network).

pub mod delivery;
pub mod desktop;
pub mod rules;
pub mod template;

pub use delivery::{
    ChannelSettings, Delivery, DeliveryRound, EmailSecurity, EmailSettings, SendError, SmsGateway, Transport,
};
pub use desktop::*;
pub use rules::{Channel, NotificationRule, NotifyEvent, Recipient};
