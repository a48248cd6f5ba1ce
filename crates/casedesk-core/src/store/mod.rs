//! Storage. All SQL of the engine lives below this module; the engine's rules call the
//! methods of [`Tx`] (inside a write transaction) and [`Db`] (reads). A second back end
//! (PostgreSQL, for the hub) implements the same set of methods.

pub mod access;
pub mod automation;
pub mod catalogue;
pub mod changes;
pub mod checkpoint;
mod db;
pub mod intents;
pub mod migrations;
pub mod notifications;
pub mod reports;
pub mod routing;
mod rows;
pub mod sync;
mod tx;

pub use checkpoint::Checkpointer;
pub use db::{Db, OpenOptions, Table};
pub use tx::{EventDraft, Tx};
