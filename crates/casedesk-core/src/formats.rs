//! Built-in checks of common formats: IBAN, payment card numbers (Luhn) and postcodes by
//! country. Field definitions name them (`format = "iban"`), and rules may call them.

use regex::Regex;
use std::sync::OnceLock;

/// The IBAN without spaces, in capitals, if it is one: the country's length where known
/// (15 to 34 otherwise) and the ISO 13616 check digits (mod 97 = 1).
pub fn iban(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let bytes = compact.as_bytes();
    if bytes.len() < 15
        || bytes.len() > 34
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    if let Some(len) = iban_length(&compact[..2]) {
        if bytes.len() != len {
            return None;
        }
    }
    // Move the first four characters to the end, letters count as 10..35; mod 97 piecewise.
    let rearranged = bytes[4..].iter().chain(&bytes[..4]);
    let mut rest: u32 = 0;
    for b in rearranged {
        let v = if b.is_ascii_digit() { u32::from(b - b'0') } else { u32::from(b - b'A') + 10 };
        rest = if v >= 10 { (rest * 100 + v) % 97 } else { (rest * 10 + v) % 97 };
    }
    (rest == 1).then_some(compact)
}

/// IBAN lengths of the SEPA countries and a few more (ISO 13616 registry).
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "NL" | "FO" | "GL" => 18,
        "MK" | "SI" => 19,
        "AT" | "BA" | "EE" | "KZ" | "LT" | "LU" | "XK" => 20,
        "CH" | "HR" | "LI" | "LV" => 21,
        "BG" | "BH" | "CR" | "DE" | "GB" | "GE" | "IE" | "ME" | "RS" => 22,
        "AE" | "GI" | "IL" | "TL" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "PT" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "MR" | "SM" => 27,
        "AL" | "AZ" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" => 28,
        "BR" | "PS" | "QA" | "UA" => 29,
        "JO" | "KW" | "MU" => 30,
        "MT" | "SC" => 31,
        _ => return None,
    })
}

/// The card number's digits, if it is 12 to 19 digits (spaces and dashes allowed) with a
/// valid Luhn check digit.
pub fn card_number(s: &str) -> Option<String> {
    if s.chars().any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-')) {
        return None;
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(12..=19).contains(&digits.len()) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10).then(|| digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect())
}

/// Postcode patterns by ISO 3166 country code.
const POSTCODES: &[(&str, &str, &str)] = &[
    ("AT", r"\d{4}", "4 digits"),
    ("BE", r"\d{4}", "4 digits"),
    ("CA", r"[A-Z]\d[A-Z] ?\d[A-Z]\d", "like K1A 0B1"),
    ("CH", r"\d{4}", "4 digits"),
    ("DE", r"\d{5}", "5 digits"),
    ("DK", r"\d{4}", "4 digits"),
    ("ES", r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", "5 digits, starting 01 to 52"),
    ("FI", r"\d{5}", "5 digits"),
    ("FR", r"\d{5}", "5 digits"),
    ("GB", r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "like SW1A 1AA"),
    (
        "IE",
        r"[AC-FHKNPRTV-Y]\d{2}|D6W ?[0-9AC-FHKNPRTV-Y]{4}|[AC-FHKNPRTV-Y]\d{2} ?[0-9AC-FHKNPRTV-Y]{4}",
        "an Eircode like D02 X285",
    ),
    ("IT", r"\d{5}", "5 digits"),
    ("LU", r"(L-)?\d{4}", "4 digits"),
    ("NL", r"[1-9]\d{3} ?[A-Z]{2}", "like 1012 AB"),
    ("NO", r"\d{4}", "4 digits"),
    ("PL", r"\d{2}-\d{3}", "like 00-950"),
    ("PT", r"\d{4}-\d{3}", "like 1000-001"),
    ("SE", r"\d{3} ?\d{2}", "like 114 55"),
    ("US", r"\d{5}(-\d{4})?", "a ZIP code like 12345 or 12345-6789"),
];

/// The countries whose postcodes can be checked.
pub fn postcode_countries() -> Vec<&'static str> {
    POSTCODES.iter().map(|(c, _, _)| *c).collect()
}

/// Whether `s` is a postcode of `country`: `Some(true/false)`, or `None` when the
/// country's postcodes are unknown here. On a mismatch, the expected form is given.
pub fn postcode(s: &str, country: &str) -> Option<Result<(), &'static str>> {
    static COMPILED: OnceLock<Vec<(&'static str, Regex, &'static str)>> = OnceLock::new();
    let table = COMPILED.get_or_init(|| {
        POSTCODES.iter().map(|(c, p, d)| (*c, Regex::new(&format!("^(?:{p})$")).expect("valid pattern"), *d)).collect()
    });
    let country = country.trim().to_ascii_uppercase();
    let (_, re, described) = table.iter().find(|(c, _, _)| *c == country)?;
    Some(if re.is_match(&s.trim().to_ascii_uppercase()) { Ok(()) } else { Err(described) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans() {
        assert_eq!(iban("DE89 3704 0044 0532 0130 00").as_deref(), Some("DE89370400440532013000"));
        assert_eq!(iban("gb82 west 1234 5698 7654 32").as_deref(), Some("GB82WEST12345698765432"));
        assert!(iban("NL91ABNA0417164300").is_some());
        assert!(iban("DE89370400440532013001").is_none(), "wrong check digits");
        assert!(iban("DE8937040044053201300").is_none(), "one short for Germany");
        assert!(iban("DE89-3704-0044-0532-0130-00").is_none(), "dashes are not part of an IBAN");
        assert!(iban("").is_none());
    }

    #[test]
    fn card_numbers() {
        assert_eq!(card_number("4111 1111 1111 1111").as_deref(), Some("4111111111111111"));
        assert!(card_number("5500-0000-0000-0004").is_some());
        assert!(card_number("378282246310005").is_some(), "15-digit Amex");
        assert!(card_number("4111 1111 1111 1112").is_none(), "Luhn fails");
        assert!(card_number("4111").is_none(), "too short");
        assert!(card_number("4111 1111 1111 111a").is_none());
    }

    #[test]
    fn postcodes() {
        assert_eq!(postcode("10115", "DE"), Some(Ok(())));
        assert_eq!(postcode("1011", "de"), Some(Err("5 digits")));
        assert_eq!(postcode("sw1a 1aa", "GB"), Some(Ok(())));
        assert_eq!(postcode("1012 AB", "NL"), Some(Ok(())));
        assert_eq!(postcode("0123 AB", "NL"), Some(Err("like 1012 AB")));
        assert_eq!(postcode("00-950", "PL"), Some(Ok(())));
        assert_eq!(postcode("12345-6789", "US"), Some(Ok(())));
        assert_eq!(postcode("12345", "ZZ"), None);
    }
}
