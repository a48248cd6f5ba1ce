//! From text to the features the classifier counts: words split at Unicode word
//! boundaries, lower-cased, common English words dropped, Latin-script words stemmed
//! (Snowball English, so "charged" and "charges" meet), and each pair of neighbouring
//! words as one more feature ("charg twice"), which keeps short phrases apart.

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;
use unicode_segmentation::UnicodeSegmentation;

/// Only the start of a very long text is read: what a customer wants is said early, and
/// a suggestion must stay fast whatever is pasted.
pub const MAX_BYTES: usize = 8 * 1024;
pub const MAX_WORDS: usize = 400;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had", "has", "have", "i", "i'm",
    "in", "is", "it", "it's", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the", "their", "them", "then",
    "there", "this", "to", "us", "was", "we", "were", "will", "with", "you", "your",
];

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

fn head(text: &str) -> &str {
    if text.len() <= MAX_BYTES {
        return text;
    }
    let mut end = MAX_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The words of `text` as the classifier sees them.
pub fn words(text: &str) -> Vec<String> {
    head(text)
        .unicode_words()
        .take(MAX_WORDS)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| if w.chars().all(|c| c.is_ascii_alphabetic()) { stemmer().stem(&w).into_owned() } else { w })
        .collect()
}

/// Words and neighbouring pairs.
pub fn features(text: &str) -> Vec<String> {
    let words = words(text);
    let pairs: Vec<String> = words.windows(2).map(|p| format!("{} {}", p[0], p[1])).collect();
    [words, pairs].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_stemmed_and_common_ones_dropped() {
        assert_eq!(words("My card was CHARGED twice!"), ["card", "charg", "twice"]);
        assert_eq!(features("card charged twice"), ["card", "charg", "twice", "card charg", "charg twice"]);
    }

    #[test]
    fn other_scripts_and_huge_texts_are_fine() {
        assert!(!words("Моя карта списана дважды").is_empty());
        assert!(!words("请给我回电话").is_empty());
        assert!(words("").is_empty());
        let huge = "ä".repeat(100_000);
        assert!(words(&huge).len() <= MAX_WORDS);
        assert_eq!(words(&"refund ".repeat(50_000)).len(), MAX_WORDS.min(MAX_BYTES / 7 + 1));
    }
}
