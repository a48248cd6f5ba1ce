//! Typed fields: their definitions (in case-type files and customer profiles) and the
//! validation of values against them. One place decides whether a value is acceptable,
//! for the desktop, the hub, the web form and the TOML loader alike.

use crate::error::{Error, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Email,
    Phone,
    Choice,
    Regex,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct FieldDef {
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// For `regex` fields: the pattern the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub pattern: Option<String>,
    /// Shown under the field, and named in the error when `pattern` fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub help: Option<String>,
    /// Shown to the customer in the status portal.
    #[serde(default)]
    pub customer_visible: bool,
    /// A built-in check of a common format, for text fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub format: Option<Format>,
    /// For `postcode`: the country whose postcodes the value must be (ISO code, e.g. "DE")…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub country: Option<String>,
    /// …or the field of the same form that holds the country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub country_field: Option<String>,
}

/// Formats checked by [`crate::formats`]; values are kept in their compact form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Format {
    Iban,
    /// A payment card number with a valid Luhn check digit.
    Card,
    Postcode,
}

/// A definition problem, with the key it concerns (for locating the line).
pub struct DefProblem {
    pub key: &'static str,
    pub rule: String,
}

impl FieldDef {
    /// Checks the definition itself; returns the first rule it breaks.
    pub fn check_definition(&self) -> std::result::Result<(), DefProblem> {
        let p = |key, rule: String| Err(DefProblem { key, rule });
        if !is_identifier(&self.id) {
            return p(
                "id",
                format!("field id '{}' must be lower-case letters, digits and '_', starting with a letter", self.id),
            );
        }
        if self.label.trim().is_empty() {
            return p("label", format!("field '{}' needs a label", self.id));
        }
        if self.min.is_some_and(|m| !m.is_finite()) || self.max.is_some_and(|m| !m.is_finite()) {
            return p("min", format!("field '{}': min and max must be finite numbers", self.id));
        }
        let numeric = self.kind == FieldKind::Number;
        if !numeric && (self.min.is_some() || self.max.is_some()) {
            return p("min", format!("field '{}': min/max apply only to number fields", self.id));
        }
        if let (Some(a), Some(b)) = (self.min, self.max) {
            if a > b {
                return p("min", format!("field '{}': min {a} is greater than max {b}", self.id));
            }
        }
        let textual = matches!(self.kind, FieldKind::Text | FieldKind::Email | FieldKind::Phone | FieldKind::Regex);
        if !textual && (self.min_length.is_some() || self.max_length.is_some()) {
            return p(
                "min_length",
                format!("field '{}': min_length/max_length apply only to text, email, phone and regex fields", self.id),
            );
        }
        if let (Some(a), Some(b)) = (self.min_length, self.max_length) {
            if a > b {
                return p("min_length", format!("field '{}': min_length {a} is greater than max_length {b}", self.id));
            }
        }
        match (self.kind, self.choices.is_empty()) {
            (FieldKind::Choice, true) => {
                return p("choices", format!("choice field '{}' needs at least one choice", self.id))
            }
            (k, false) if k != FieldKind::Choice => {
                return p("choices", format!("field '{}': choices apply only to choice fields", self.id))
            }
            _ => {}
        }
        match (self.kind, &self.pattern) {
            (FieldKind::Regex, None) => return p("type", format!("regex field '{}' needs a pattern", self.id)),
            (FieldKind::Regex, Some(pat)) => {
                if let Err(e) = Regex::new(pat) {
                    return p(
                        "pattern",
                        format!("field '{}': pattern is not a valid regular expression: {e}", self.id),
                    );
                }
            }
            (_, Some(_)) => return p("pattern", format!("field '{}': pattern applies only to regex fields", self.id)),
            _ => {}
        }
        self.check_format_definition()
    }

    fn check_format_definition(&self) -> std::result::Result<(), DefProblem> {
        let p = |key, rule: String| Err(DefProblem { key, rule });
        let Some(format) = self.format else {
            if self.country.is_some() || self.country_field.is_some() {
                return p("country", format!("field '{}': country applies only to postcode fields", self.id));
            }
            return Ok(());
        };
        if self.kind != FieldKind::Text {
            return p("format", format!("field '{}': a format applies only to text fields", self.id));
        }
        match (format, &self.country, &self.country_field) {
            (Format::Postcode, None, None) => {
                p("format", format!("postcode field '{}' needs a country or a country_field", self.id))
            }
            (Format::Postcode, Some(_), Some(_)) => {
                p("country", format!("field '{}': give a country or a country_field, not both", self.id))
            }
            (Format::Postcode, Some(c), None) if crate::formats::postcode("", c).is_none() => p(
                "country",
                format!(
                    "field '{}': no postcode rule for country '{c}'; known: {}",
                    self.id,
                    crate::formats::postcode_countries().join(", ")
                ),
            ),
            (Format::Iban | Format::Card, Some(_), _) | (Format::Iban | Format::Card, _, Some(_)) => {
                p("country", format!("field '{}': country applies only to postcode fields", self.id))
            }
            _ => Ok(()),
        }
    }

    /// Checks a value against the field's format; returns it in its compact form.
    fn check_format(&self, s: &str) -> Result<String> {
        let err = |rule: String| Err(Error::field(&self.id, rule));
        match self.format {
            None => Ok(s.to_string()),
            Some(Format::Iban) => crate::formats::iban(s)
                .map_or_else(|| err("must be a valid IBAN, like DE89 3704 0044 0532 0130 00".into()), Ok),
            Some(Format::Card) => crate::formats::card_number(s)
                .map_or_else(|| err("must be a card number of 12 to 19 digits with a valid check digit".into()), Ok),
            Some(Format::Postcode) => match &self.country {
                Some(country) => postcode_in(&self.id, s, country),
                // The country comes from another field: checked with the whole form.
                None => Ok(s.trim().to_ascii_uppercase()),
            },
        }
    }

    /// Checks one value; `None` and `null` mean "not given". Returns the normalised value.
    pub fn check_value(&self, value: Option<&Value>) -> Result<Option<Value>> {
        let err = |rule: String| Err(Error::field(&self.id, rule));
        let value = match value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(v),
        };
        let Some(value) = value else {
            return if self.required { err("is required".into()) } else { Ok(None) };
        };
        if self.kind == FieldKind::Number {
            let Some(n) = value.as_f64() else {
                return err(format!("must be a number, got {}", type_name(value)));
            };
            if let Some(min) = self.min.filter(|m| n < *m) {
                return err(format!("must be at least {min}"));
            }
            if let Some(max) = self.max.filter(|m| n > *m) {
                return err(format!("must be at most {max}"));
            }
            return Ok(Some(value.clone()));
        }
        let Some(s) = value.as_str() else {
            return err(format!("must be text, got {}", type_name(value)));
        };
        let s = s.trim();
        let chars = s.chars().count() as u32;
        if let Some(min) = self.min_length.filter(|m| chars < *m) {
            return err(format!("must be at least {min} characters"));
        }
        if let Some(max) = self.max_length.filter(|m| chars > *m) {
            return err(format!("must be at most {max} characters"));
        }
        match self.kind {
            FieldKind::Date => {
                if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() {
                    return err("must be a date written YYYY-MM-DD".into());
                }
            }
            FieldKind::Email => {
                if !is_email(s) {
                    return err("must be an email address like name@example.com".into());
                }
            }
            FieldKind::Phone => {
                return match normalise_phone(s) {
                    Some(p) => Ok(Some(Value::String(p))),
                    None => err("must be a phone number of 7 to 15 digits, optionally starting with +".into()),
                };
            }
            FieldKind::Choice => {
                if !self.choices.iter().any(|c| c == s) {
                    return err(format!("must be one of: {}", self.choices.join(", ")));
                }
            }
            FieldKind::Regex => {
                let pattern = self.pattern.as_deref().unwrap_or("");
                if !full_match(pattern, s) {
                    let rule = self.help.clone().unwrap_or_else(|| format!("must match the pattern {pattern}"));
                    return err(rule);
                }
            }
            FieldKind::Text => return Ok(Some(Value::String(self.check_format(s)?))),
            FieldKind::Number => {}
        }
        Ok(Some(Value::String(s.to_string())))
    }
}

/// A value as typed into a web form or a CSV cell (always text), as the field holds it:
/// a number field's text as a number when it reads as one (else left as text, which the
/// field's check then refuses by name); every other kind as text.
pub fn from_form_text(def: &FieldDef, text: &str) -> Value {
    let text = text.trim();
    if def.kind == FieldKind::Number {
        if let Some(n) = text.parse::<f64>().ok().filter(|n| n.is_finite()).and_then(serde_json::Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

/// Validates a set of values against definitions: unknown keys are refused, required
/// fields must be present, each value must satisfy its field. Returns the normalised set.
pub fn check_values(defs: &[FieldDef], values: &Map<String, Value>) -> Result<Map<String, Value>> {
    if let Some(unknown) = values.keys().find(|k| !defs.iter().any(|d| &d.id == *k)) {
        return Err(Error::field(unknown, "is not a field of this form"));
    }
    let (out, mut problems) = check_each(defs, values);
    match problems.is_empty() {
        true => Ok(out),
        false => {
            let first = problems.remove(0);
            Err(Error::field(first.field, first.rule))
        }
    }
}

/// One field's value breaking that field's rule, as a form shows it beside the field.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct FieldProblem {
    pub field: String,
    pub rule: String,
}

/// Every problem of a form at once, in field order, for checking it while it is typed
/// in: the same rules as `check_values`, each field checked on its own.
pub fn problems(defs: &[FieldDef], values: &Map<String, Value>) -> Vec<FieldProblem> {
    check_each(defs, values).1
}

/// Each field's value checked by its rule, then the postcodes whose country is another
/// field's value; a field with a problem is left out of the normalised set.
fn check_each(defs: &[FieldDef], values: &Map<String, Value>) -> (Map<String, Value>, Vec<FieldProblem>) {
    let mut out = Map::new();
    let mut problems = Vec::new();
    let mut note = |e: Error| match e {
        Error::InvalidField { field, rule } => problems.push(FieldProblem { field, rule }),
        other => problems.push(FieldProblem { field: String::new(), rule: other.to_string() }),
    };
    for def in defs {
        match def.check_value(values.get(&def.id)) {
            Ok(Some(v)) => {
                out.insert(def.id.clone(), v);
            }
            Ok(None) => {}
            Err(e) => note(e),
        }
    }
    for def in defs {
        let (Some(country_field), Some(Value::String(code))) = (&def.country_field, out.get(&def.id)) else {
            continue;
        };
        if let Some(Value::String(country)) = out.get(country_field) {
            if let Err(e) = postcode_in(&def.id, code, country) {
                note(e);
            }
        }
    }
    (out, problems)
}

fn postcode_in(field: &str, s: &str, country: &str) -> Result<String> {
    match crate::formats::postcode(s, country) {
        Some(Err(form)) => Err(Error::field(field, format!("must be a postcode of {country}: {form}"))),
        // A country whose postcodes are not known here: accepted as written.
        Some(Ok(())) | None => Ok(s.trim().to_ascii_uppercase()),
    }
}

/// Checks what a field says of the others in its set: a postcode's `country_field` must
/// be another field of the same form. Returns the index of the field that breaks it.
pub fn check_references(defs: &[FieldDef]) -> std::result::Result<(), (usize, DefProblem)> {
    for (i, d) in defs.iter().enumerate() {
        if let Some(other) = &d.country_field {
            if other == &d.id || !defs.iter().any(|o| &o.id == other) {
                let rule = format!("field '{}': country_field '{other}' is not another field of this form", d.id);
                return Err((i, DefProblem { key: "country_field", rule }));
            }
        }
    }
    Ok(())
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn full_match(pattern: &str, s: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // Compiled patterns are cached: validation runs on every keystroke and every create.
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    if !cache.contains_key(pattern) {
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) => {
                cache.insert(pattern.to_string(), re);
            }
            Err(_) => return false,
        }
    }
    cache[pattern].is_match(s)
}

/// A deliberately plain check: one '@', a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

/// Phone numbers are kept as '+' (if given) and digits, so search matches however typed.
pub fn normalise_phone(s: &str) -> Option<String> {
    let plus = s.trim_start().starts_with('+');
    if s.chars().any(|c| !(c.is_ascii_digit() || " +-().".contains(c))) || s.matches('+').count() > usize::from(plus) {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (7..=15).contains(&digits.len()).then(|| if plus { format!("+{digits}") } else { digits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(kind: FieldKind) -> FieldDef {
        FieldDef {
            id: "f".into(),
            label: "F".into(),
            kind,
            required: true,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            choices: vec![],
            pattern: None,
            help: None,
            customer_visible: false,
            format: None,
            country: None,
            country_field: None,
        }
    }

    #[test]
    fn wrong_types_name_the_field_and_rule() {
        let e = def(FieldKind::Number).check_value(Some(&json!("12"))).unwrap_err();
        assert_eq!(e.to_string(), "f: must be a number, got text");
        let e = def(FieldKind::Text).check_value(Some(&json!(3))).unwrap_err();
        assert_eq!(e.to_string(), "f: must be text, got a number");
        let e = def(FieldKind::Date).check_value(Some(&json!("2026-13-01"))).unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DD"));
        let e = def(FieldKind::Text).check_value(None).unwrap_err();
        assert_eq!(e.to_string(), "f: is required");
    }

    #[test]
    fn bounds_and_patterns() {
        let mut d = def(FieldKind::Number);
        d.min = Some(1.0);
        d.max = Some(10.0);
        assert!(d.check_value(Some(&json!(0))).is_err());
        assert!(d.check_value(Some(&json!(11))).is_err());
        assert!(d.check_value(Some(&json!(5.5))).is_ok());
        let mut r = def(FieldKind::Regex);
        r.pattern = Some("[A-Z]{2}[0-9]{4}".into());
        assert!(r.check_value(Some(&json!("AB1234"))).is_ok());
        assert!(r.check_value(Some(&json!("AB12345"))).is_err(), "pattern must match the whole value");
        let mut c = def(FieldKind::Choice);
        c.choices = vec!["a".into(), "b".into()];
        assert_eq!(c.check_value(Some(&json!("c"))).unwrap_err().to_string(), "f: must be one of: a, b");
    }

    #[test]
    fn emails_and_phones() {
        assert!(is_email("ann@example.com"));
        for bad in ["ann", "ann@", "@x.com", "a b@x.com", "a@x", "a@@x.com"] {
            assert!(!is_email(bad), "{bad}");
        }
        assert_eq!(normalise_phone("+49 (30) 123-4567").as_deref(), Some("+49301234567"));
        assert_eq!(normalise_phone("12345"), None);
        assert_eq!(normalise_phone("12a4567890"), None);
        assert_eq!(normalise_phone("12+34567890"), None);
    }

    #[test]
    fn formats_are_checked_and_kept_compact() {
        let mut iban = def(FieldKind::Text);
        iban.format = Some(Format::Iban);
        assert_eq!(
            iban.check_value(Some(&json!("de89 3704 0044 0532 0130 00"))).unwrap(),
            Some(json!("DE89370400440532013000"))
        );
        assert!(iban
            .check_value(Some(&json!("DE89 3704 0044 0532 0130 01")))
            .unwrap_err()
            .to_string()
            .starts_with("f: must be a valid IBAN"));
        let mut card = def(FieldKind::Text);
        card.format = Some(Format::Card);
        assert!(card.check_value(Some(&json!("4111 1111 1111 1112"))).is_err());
        let mut zip = def(FieldKind::Text);
        zip.format = Some(Format::Postcode);
        assert!(zip.check_definition().is_err(), "a postcode needs its country");
        zip.country_field = Some("country".into());
        let mut country = def(FieldKind::Text);
        country.id = "country".into();
        let defs = vec![zip, country];
        let values = |z: &str, c: &str| json!({ "f": z, "country": c }).as_object().unwrap().clone();
        assert!(check_values(&defs, &values("10115", "DE")).is_ok());
        assert_eq!(
            check_values(&defs, &values("1011", "DE")).unwrap_err().to_string(),
            "f: must be a postcode of DE: 5 digits"
        );
        assert!(check_values(&defs, &values("1011", "AT")).is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let defs = vec![def(FieldKind::Text)];
        let mut m = Map::new();
        m.insert("f".into(), json!("x"));
        m.insert("g".into(), json!("y"));
        assert_eq!(check_values(&defs, &m).unwrap_err().to_string(), "g: is not a field of this form");
    }

    #[test]
    fn problems_names_every_field_that_breaks_its_rule_in_field_order() {
        let amount = FieldDef { id: "amount".into(), min: Some(0.01), ..def(FieldKind::Number) };
        let email = FieldDef { id: "email".into(), ..def(FieldKind::Email) };
        let note = FieldDef { id: "note".into(), required: false, ..def(FieldKind::Text) };
        let defs = [amount, email, note];
        let mut m = Map::new();
        m.insert("amount".into(), json!(0));
        m.insert("email".into(), json!("not-an-address"));
        let found = problems(&defs, &m);
        let fields: Vec<_> = found.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["amount", "email"]);
        assert_eq!(found[0].rule, "must be at least 0.01");
        // The first problem is the one check_values refuses with.
        assert_eq!(check_values(&defs, &m).unwrap_err().to_string(), "amount: must be at least 0.01");

        m.insert("amount".into(), json!(59));
        m.insert("email".into(), json!("ada@example.com"));
        assert!(problems(&defs, &m).is_empty());
    }
}
