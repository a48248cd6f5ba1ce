//! Routing: who gets which task. The model (agents, queues, requirements) and the
//! decision rules are here, free of storage, so the desktop, the hub and the benchmark
//! use the same rules; `engine/routing.rs` applies them inside commands.

mod decide;
mod model;

pub use decide::{best_agent, best_task, effective_requirements, eligible, next_widening, rank, Candidate, Waiting};
pub use model::*;
