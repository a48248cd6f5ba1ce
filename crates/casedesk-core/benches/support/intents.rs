//! A generated, labelled set of case descriptions over ten intents, for intent
//! suggestion's accuracy test and benchmark. Each description mixes an opener, two or
//! three phrases of its intent, general words every intent uses, often (40%) a phrase of
//! another intent (customers mention more than one thing), and one in twenty is filed
//! under a random intent (as real agents sometimes do). Intents are unevenly common, as
//! in real contact centres.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// (case type, intent, how common, its phrases)
pub const INTENTS: &[(&str, &str, u32, &[&str])] = &[
    (
        "finance",
        "billing_dispute",
        20,
        &[
            "charged twice",
            "double charge on my card",
            "wrong amount on the invoice",
            "billed for something I did not order",
            "the bill is too high",
            "unknown charge on my statement",
            "invoice does not match my contract",
            "overcharged this month",
        ],
    ),
    (
        "finance",
        "payment_plan",
        8,
        &[
            "pay in instalments",
            "cannot pay this month",
            "need more time to pay",
            "spread the payment",
            "payment plan please",
            "postpone the due date",
            "pay the rest later",
            "monthly payments instead",
        ],
    ),
    (
        "refund",
        "refund_request",
        14,
        &[
            "want my money back",
            "refund my order",
            "returned the item",
            "cancelled order still charged",
            "money back guarantee",
            "refund has not arrived",
            "send the refund to my card",
            "reimburse me",
        ],
    ),
    (
        "technical",
        "connectivity",
        18,
        &[
            "internet keeps dropping",
            "no connection since this morning",
            "wifi is very slow",
            "line drops every evening",
            "cannot get online",
            "connection lost",
            "broadband outage",
            "speed is far below my plan",
        ],
    ),
    (
        "technical",
        "device_fault",
        10,
        &[
            "router does not turn on",
            "modem shows a red light",
            "set-top box is broken",
            "device keeps restarting",
            "the power light is off",
            "remote control stopped working",
            "screen stays black",
            "router makes a noise",
        ],
    ),
    (
        "replacement",
        "replace_device",
        7,
        &[
            "send me a new router",
            "need a replacement",
            "device arrived broken",
            "swap the faulty modem",
            "exchange the box",
            "replacement unit",
            "new device please",
            "damaged in delivery",
        ],
    ),
    (
        "business_account",
        "open_business_account",
        5,
        &[
            "open a company account",
            "business account for my shop",
            "account for our limited company",
            "register my firm",
            "commercial contract",
            "several lines for my office",
            "tax number of the company",
            "invoice in the company name",
        ],
    ),
    (
        "urgent_callback",
        "call_me_back",
        6,
        &[
            "please call me back",
            "ring me back",
            "was cut off",
            "call me on my mobile",
            "speak to someone today",
            "phone me this afternoon",
            "callback as soon as possible",
            "nobody answered my call",
        ],
    ),
    (
        "moving",
        "move_address",
        7,
        &[
            "moving house next month",
            "new address",
            "transfer my contract to my new flat",
            "relocate the line",
            "change of address",
            "installation at the new home",
            "moving date",
            "take my service with me",
        ],
    ),
    (
        "contract",
        "cancel_contract",
        5,
        &[
            "cancel my contract",
            "terminate the subscription",
            "notice period",
            "end my plan",
            "switch to another provider",
            "stop the service",
            "cancellation confirmation",
            "do not renew",
        ],
    ),
];

const OPENERS: &[&str] = &[
    "Hello,",
    "Hi there,",
    "Good morning,",
    "I am writing because",
    "Customer called:",
    "Please help,",
    "Dear team,",
    "",
];

const GENERAL: &[&str] = &[
    "my account",
    "again",
    "since yesterday",
    "urgent",
    "as soon as possible",
    "thanks",
    "my contract",
    "this is the second time",
    "customer number 4471",
    "I am not happy",
    "last week",
    "on my phone",
    "the service",
    "please check",
];

pub struct Sample {
    pub case_type: &'static str,
    pub intent: &'static str,
    pub text: String,
}

/// `n` descriptions from `seed`, always the same for the same seed.
pub fn generate(n: usize, seed: u64) -> Vec<Sample> {
    let mut rng = StdRng::seed_from_u64(seed);
    let total: u32 = INTENTS.iter().map(|i| i.2).sum();
    let pick = |rng: &mut StdRng, items: &[&'static str]| items[rng.random_range(0..items.len())];
    (0..n)
        .map(|_| {
            let mut roll = rng.random_range(0..total);
            let &(case_type, intent, _, phrases) = INTENTS
                .iter()
                .find(|i| {
                    if roll < i.2 {
                        true
                    } else {
                        roll -= i.2;
                        false
                    }
                })
                .expect("the roll falls on an intent");
            let mut parts = vec![pick(&mut rng, OPENERS).to_string()];
            for _ in 0..rng.random_range(2..=3) {
                parts.push(pick(&mut rng, phrases).to_string());
            }
            for _ in 0..rng.random_range(0..=2) {
                parts.push(pick(&mut rng, GENERAL).to_string());
            }
            if rng.random_bool(0.4) {
                let other = INTENTS[rng.random_range(0..INTENTS.len())].3;
                parts.push(pick(&mut rng, other).to_string());
            }
            // Some cases end up filed under another intent than their words say.
            let (case_type, intent) = if rng.random_bool(0.05) {
                let (t, i, _, _) = INTENTS[rng.random_range(0..INTENTS.len())];
                (t, i)
            } else {
                (case_type, intent)
            };
            Sample { case_type, intent, text: parts.join(" ").trim().to_string() }
        })
        .collect()
}

/// Shares of a held-out set: right first, right in the top three, right by always
/// guessing the training set's most common intent, and given a suggestion at all.
pub struct Accuracy {
    pub top1: f64,
    pub top3: f64,
    pub most_common: f64,
    pub answered: f64,
    pub most_common_intent: &'static str,
}

/// Trains a fresh model on `train` and measures it on `test`.
pub fn evaluate(train: &[Sample], test: &[Sample]) -> Accuracy {
    use casedesk_core::intent::{Classifier, IntentKey, MIN_CONFIDENCE};
    let mut model = Classifier::new();
    let mut frequency = std::collections::HashMap::new();
    for s in train {
        model.learn(&IntentKey { case_type: s.case_type.into(), intent: s.intent.into() }, &s.text);
        *frequency.entry(s.intent).or_insert(0usize) += 1;
    }
    let most_common_intent = frequency.iter().max_by_key(|(_, n)| **n).map(|(i, _)| *i).expect("a training set");
    let (mut top1, mut top3, mut base, mut answered) = (0, 0, 0, 0);
    for s in test {
        let ranked = model.rank(&s.text);
        let at = ranked.iter().position(|(k, _)| k.intent == s.intent);
        top1 += usize::from(at == Some(0));
        top3 += usize::from(at.is_some_and(|p| p < 3));
        base += usize::from(s.intent == most_common_intent);
        answered += usize::from(ranked.first().is_some_and(|(_, p)| *p >= MIN_CONFIDENCE));
    }
    let share = |n: usize| n as f64 / test.len() as f64;
    Accuracy {
        top1: share(top1),
        top3: share(top3),
        most_common: share(base),
        answered: share(answered),
        most_common_intent,
    }
}
