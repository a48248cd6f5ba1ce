//! Multinomial naive Bayes over [`super::text::features`], with add-one smoothing. It
//! learns one document at a time (no retraining pass), and scores a text by walking only
//! the features it contains.

use super::text::features;
use std::collections::HashMap;

/// A case type's intent: what the classifier tells apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntentKey {
    pub case_type: String,
    pub intent: String,
}

#[derive(Debug, Default, Clone)]
pub struct Classifier {
    labels: Vec<IntentKey>,
    index: HashMap<IntentKey, usize>,
    /// Documents learnt, per intent and in all.
    docs: Vec<u64>,
    total_docs: u64,
    /// Feature occurrences per intent.
    feature_total: Vec<u64>,
    /// For each feature, the intents it occurred in and how often.
    counts: HashMap<String, Vec<(u32, u32)>>,
}

impl Classifier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn intents(&self) -> usize {
        self.labels.len()
    }

    pub fn documents(&self) -> u64 {
        self.total_docs
    }

    fn class(&mut self, key: &IntentKey) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.labels.len();
        self.labels.push(key.clone());
        self.index.insert(key.clone(), i);
        self.docs.push(0);
        self.feature_total.push(0);
        i
    }

    /// Learns that `text` meant `key`.
    pub fn learn(&mut self, key: &IntentKey, text: &str) {
        let c = self.class(key);
        self.docs[c] += 1;
        self.total_docs += 1;
        for f in features(text) {
            self.feature_total[c] += 1;
            let postings = self.counts.entry(f).or_default();
            match postings.iter_mut().find(|(class, _)| *class as usize == c) {
                Some((_, n)) => *n += 1,
                None => postings.push((c as u32, 1)),
            }
        }
    }

    /// Every intent with its probability for `text`, best first; empty when no feature
    /// of the text has been seen in training (nothing to go on).
    pub fn rank(&self, text: &str) -> Vec<(IntentKey, f64)> {
        let classes = self.labels.len();
        if classes == 0 {
            return vec![];
        }
        let known: Vec<(&Vec<(u32, u32)>, f64)> = {
            let mut tally: HashMap<&str, f64> = HashMap::new();
            let features = features(text);
            for f in &features {
                if self.counts.contains_key(f.as_str()) {
                    *tally.entry(f.as_str()).or_default() += 1.0;
                }
            }
            tally.into_iter().map(|(f, n)| (&self.counts[f], n)).collect()
        };
        if known.is_empty() {
            return vec![];
        }
        let vocabulary = self.counts.len() as f64;
        let occurrences: f64 = known.iter().map(|(_, n)| n).sum();
        // Every known feature first scores as unseen in every class; the classes it was
        // seen in then get the difference.
        let mut score: Vec<f64> = (0..classes)
            .map(|c| {
                let prior = ((self.docs[c] + 1) as f64 / (self.total_docs + classes as u64) as f64).ln();
                prior - occurrences * (self.feature_total[c] as f64 + vocabulary).ln()
            })
            .collect();
        for (postings, n) in &known {
            for &(c, count) in postings.iter() {
                score[c as usize] += n * ((count as f64 + 1.0).ln());
            }
        }
        // Softmax: probabilities that sum to one.
        let best = score.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = score.iter().map(|s| (s - best).exp()).collect();
        let sum: f64 = weights.iter().sum();
        let mut ranked: Vec<(IntentKey, f64)> =
            weights.iter().enumerate().map(|(c, w)| (self.labels[c].clone(), w / sum)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: &str) -> IntentKey {
        IntentKey { case_type: "t".into(), intent: i.into() }
    }

    #[test]
    fn it_tells_two_intents_apart_and_knows_when_it_knows_nothing() {
        let mut c = Classifier::new();
        c.learn(&key("billing"), "my card was charged twice");
        c.learn(&key("billing"), "the invoice amount is wrong");
        c.learn(&key("internet"), "my internet keeps dropping");
        c.learn(&key("internet"), "wifi is very slow");
        let r = c.rank("I was charged twice on my card");
        assert_eq!(r[0].0, key("billing"));
        assert!(r[0].1 > 0.8, "{r:?}");
        assert!((r.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(c.rank("the wifi drops")[0].0, key("internet"));
        assert!(c.rank("zebra xylophone").is_empty());
        assert!(c.rank("").is_empty());
    }
}
