//! Storage. All SQL of the engine lives below this module; the engine's rules call the
//! methods of [`Tx`] (inside a write transaction) and [`Db`] (reads). Statements reach
//! the driver only through [`sql`], so that a second back end (PostgreSQL, for the hub)
//! runs the same methods.

pub mod access;
pub mod automation;
pub mod catalogue;
pub mod changes;
pub mod checkpoint;
mod db;
pub mod intents;
pub mod migrations;
pub mod notifications;
pub mod portal;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod reports;
pub mod routing;
mod rows;
pub mod sql;
pub mod sync;
mod tx;

pub use checkpoint::Checkpointer;
pub use db::{Db, OpenOptions, Table};
pub use tx::{EventDraft, Tx};
