//! The engine's intent model: built on the first suggestion (not at start-up) from the
//! case types' example phrases and the closed cases, then kept current by reading only
//! the events since it last looked. Training happens outside the database lock, so a
//! first build over many closed cases never holds up commands.

use super::Engine;
use crate::casetype::CaseTypeDef;
use crate::error::Result;
use crate::intent::{Classifier, IntentKey, IntentSuggestion, IntentSuggestions, MIN_CONFIDENCE, TOP};
use crate::store::intents as store;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

#[derive(Default)]
pub struct IntentModel {
    classifier: Classifier,
    /// The last event looked at.
    seen_seq: i64,
    learned_cases: HashSet<Uuid>,
    /// Case-type name and intent label of the intents published now; only these are
    /// offered.
    names: HashMap<IntentKey, (String, String)>,
}

/// What the model learns from, read in one go under the database lock.
enum Lessons {
    /// Everything, for a first build or after a case type changed (its intents or
    /// examples may have gone).
    All { head: i64, types: Vec<CaseTypeDef>, closed: Vec<store::ClosedCase> },
    /// Cases closed since the model last looked.
    Closed { head: i64, closed: Vec<store::ClosedCase> },
}

impl IntentModel {
    fn build(head: i64, types: &[CaseTypeDef], closed: Vec<store::ClosedCase>) -> Self {
        let mut m = IntentModel { seen_seq: head, ..Default::default() };
        for def in types {
            for intent in &def.intents {
                let key = IntentKey { case_type: def.id.clone(), intent: intent.id.clone() };
                m.names.insert(key.clone(), (def.name.clone(), intent.label.clone()));
                for example in &intent.examples {
                    m.classifier.learn(&key, example);
                }
            }
        }
        m.learn_cases(closed);
        m
    }

    fn learn_cases(&mut self, closed: Vec<store::ClosedCase>) {
        for (id, case_type, intent, text) in closed {
            // A case reopened and closed again teaches once.
            if self.learned_cases.insert(id) {
                self.classifier.learn(&IntentKey { case_type, intent }, &text);
            }
        }
    }

    fn suggest(&self, text: &str) -> IntentSuggestions {
        let none = |reason: &str| IntentSuggestions { suggestions: vec![], reason: Some(reason.into()) };
        if text.trim().is_empty() {
            return none("type what the customer wants");
        }
        let ranked = self.classifier.rank(text);
        if ranked.is_empty() {
            return none("none of these words is known yet");
        }
        // Only intents published now are offered (closed cases may carry older ones).
        let suggestions: Vec<IntentSuggestion> = ranked
            .into_iter()
            .filter_map(|(key, confidence)| {
                let (type_name, label) = self.names.get(&key)?.clone();
                Some(IntentSuggestion {
                    case_type: key.case_type,
                    case_type_name: type_name,
                    intent: key.intent,
                    intent_label: label,
                    confidence,
                })
            })
            .take(TOP)
            .collect();
        if suggestions.first().is_none_or(|s| s.confidence < MIN_CONFIDENCE) {
            return none("no intent is likely enough");
        }
        IntentSuggestions { suggestions, reason: None }
    }
}

impl Engine {
    /// The likeliest case types and intents for what a customer said, best first, or no
    /// suggestion (with the reason) when nothing is likely enough.
    pub fn suggest_intents(&self, text: &str) -> Result<IntentSuggestions> {
        let mut model = self.intents.lock().unwrap_or_else(|p| p.into_inner());
        let seen = model.as_ref().map(|m| m.seen_seq);
        let lessons = self.read(|db| {
            let conn = db.connection_ref();
            let everything = |head| -> Result<Lessons> {
                Ok(Lessons::All {
                    head,
                    types: super::latest_case_types(db)?,
                    closed: store::closed_cases_with_intent(conn)?,
                })
            };
            match seen {
                None => everything(store::event_head(conn)?),
                Some(seq) => {
                    let (closed, published, head) = store::lessons_after(conn, seq)?;
                    if published {
                        return everything(head);
                    }
                    let closed: Result<Vec<_>> = closed
                        .into_iter()
                        .filter_map(|id| store::closed_case_with_intent(conn, id).transpose())
                        .collect();
                    Ok(Lessons::Closed { head, closed: closed? })
                }
            }
        })?;
        let model = match lessons {
            Lessons::All { head, types, closed } => model.insert(IntentModel::build(head, &types, closed)),
            Lessons::Closed { head, closed } => {
                let m = model.as_mut().expect("a model was there to catch up");
                m.learn_cases(closed);
                m.seen_seq = head;
                m
            }
        };
        Ok(model.suggest(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_guess_is_no_suggestion() {
        let mut m = IntentModel::default();
        for i in ["a", "b", "c", "d", "e"] {
            let key = IntentKey { case_type: "t".into(), intent: i.into() };
            m.names.insert(key.clone(), ("T".into(), i.into()));
            m.classifier.learn(&key, &format!("please help {i}{i}{i}"));
        }
        let s = m.suggest("please help");
        assert!(s.suggestions.is_empty());
        assert_eq!(s.reason.as_deref(), Some("no intent is likely enough"));
        assert_eq!(m.suggest("please help ccc").suggestions[0].intent, "c");
    }
}
