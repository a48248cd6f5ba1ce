//! Casedesk's engine: case types, cases, tasks and their events over a SQLite store.
//! No Tauri and no HTTP here: the desktop shell and the hub server both use this crate.

pub mod calendar;
pub mod casetype;
pub mod clock;
pub mod command;
pub mod demo;
pub mod engine;
pub mod error;
pub mod fields;
pub mod formats;
pub mod hlc;
pub mod intent;
pub mod model;
pub mod notify;
pub mod reports;
pub mod routing;
pub mod rules;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Executed};
pub use engine::{ChangePage, Engine, Limits, RouteTarget};
pub use error::{Error, ErrorPayload, Result};
pub use model::{Actor, Role};
pub use store::OpenOptions;
