//! Intent suggestion: which case type and intent a customer's words most likely mean.
//! Learns from the example phrases of the case-type files and from the organisation's
//! own closed cases; no network, no downloaded model.
//!
//! - [`text`]: words to features (Unicode word breaks, English stemming, word pairs).
//! - [`classifier`]: multinomial naive Bayes, trained incrementally.
//! - The engine keeps one model, built on the first suggestion and caught up from the
//!   event log on each later one (`engine/intents.rs`).

pub mod classifier;
pub mod text;

pub use classifier::{Classifier, IntentKey};

use serde::Serialize;
use ts_rs::TS;

/// Below this confidence the engine says "no suggestion" rather than guess.
pub const MIN_CONFIDENCE: f64 = 0.30;

/// How many suggestions are returned at most.
pub const TOP: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct IntentSuggestion {
    pub case_type: String,
    pub case_type_name: String,
    pub intent: String,
    pub intent_label: String,
    /// The model's probability for this intent, 0 to 1.
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct IntentSuggestions {
    /// Best first; empty when there is no suggestion.
    pub suggestions: Vec<IntentSuggestion>,
    /// Why there is no suggestion, when there is none.
    pub reason: Option<String>,
}
