//! The engine's intent model: built on the first suggestion (not at start-up) from the
//! case types' example phrases and the closed cases, then kept current by reading only
//! the events since it last looked (cases closed, case types published).

use super::Engine;
use crate::casetype::CaseTypeDef;
use crate::error::Result;
use crate::intent::{Classifier, IntentKey, IntentSuggestion, IntentSuggestions, MIN_CONFIDENCE, TOP};
use crate::store::intents as store;
use crate::store::Db;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

#[derive(Default)]
pub struct IntentModel {
    classifier: Classifier,
    /// The last event looked at.
    seen_seq: i64,
    learned_cases: HashSet<Uuid>,
    learned_examples: HashSet<(IntentKey, String)>,
    /// Case-type name and intent label, from the latest versions.
    names: HashMap<IntentKey, (String, String)>,
}

impl IntentModel {
    fn learn_case_types(&mut self, types: &[CaseTypeDef]) {
        for def in types {
            for intent in &def.intents {
                let key = IntentKey { case_type: def.id.clone(), intent: intent.id.clone() };
                self.names.insert(key.clone(), (def.name.clone(), intent.label.clone()));
                for example in &intent.examples {
                    if self.learned_examples.insert((key.clone(), example.clone())) {
                        self.classifier.learn(&key, example);
                    }
                }
            }
        }
    }

    fn learn_case(&mut self, (id, case_type, intent, text): store::ClosedCase) {
        // A case reopened and closed again teaches once.
        if self.learned_cases.insert(id) {
            self.classifier.learn(&IntentKey { case_type, intent }, &text);
        }
    }

    fn catch_up(&mut self, db: &Db) -> Result<()> {
        let (closed, published, head) = store::lessons_after(db.connection_ref(), self.seen_seq)?;
        if published {
            self.learn_case_types(&super::latest_case_types(db)?);
        }
        for id in closed {
            if let Some(case) = store::closed_case_with_intent(db.connection_ref(), id)? {
                self.learn_case(case);
            }
        }
        self.seen_seq = head;
        Ok(())
    }

    fn suggest(&self, text: &str) -> IntentSuggestions {
        let none = |reason: &str| IntentSuggestions { suggestions: vec![], reason: Some(reason.into()) };
        if text.trim().is_empty() {
            return none("type what the customer wants");
        }
        let ranked = self.classifier.rank(text);
        let Some((_, best)) = ranked.first() else { return none("none of these words is known yet") };
        if *best < MIN_CONFIDENCE {
            return none("no intent is likely enough");
        }
        let suggestions = ranked
            .into_iter()
            .filter_map(|(key, confidence)| {
                // Intents of case types no longer published are not offered.
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
        IntentSuggestions { suggestions, reason: None }
    }
}

impl Engine {
    /// The likeliest case types and intents for what a customer said, best first, or no
    /// suggestion (with the reason) when nothing is likely enough.
    pub fn suggest_intents(&self, text: &str) -> Result<IntentSuggestions> {
        let mut model = self.intents.lock().unwrap_or_else(|p| p.into_inner());
        self.read(|db| {
            let model = match &mut *model {
                Some(m) => {
                    m.catch_up(db)?;
                    m
                }
                None => {
                    let mut m = IntentModel::default();
                    let head = store::event_head(db.connection_ref())?;
                    m.learn_case_types(&super::latest_case_types(db)?);
                    for case in store::closed_cases_with_intent(db.connection_ref())? {
                        m.learn_case(case);
                    }
                    m.seen_seq = head;
                    model.insert(m)
                }
            };
            Ok(model.suggest(text))
        })
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
