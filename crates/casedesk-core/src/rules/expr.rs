//! The expression language of rules: Rhai (a well-kept embedded language for Rust),
//! compiled as *expressions only* — no statements, loops, closures, `eval` or modules —
//! with every variable known when the rule is saved (strict variables), limits on
//! operations, nesting, string, array and map sizes, and a time limit per evaluation.
//! A rule sees only the facts it is given; time comes from the engine's clock.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rhai::{Dynamic, Engine, EvalAltResult, OptimizationLevel, Scope, AST, INT};
use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest expression source accepted, in bytes.
pub const MAX_SOURCE: usize = 2_000;
/// Operations one evaluation may take (a comparison or a property read is one or two).
pub const MAX_OPERATIONS: u64 = 20_000;
/// Wall time one evaluation may take.
pub const TIME_LIMIT: Duration = Duration::from_millis(20);
const MAX_DEPTH: usize = 32;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new();
        e.set_optimization_level(OptimizationLevel::None)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(true)
            .set_allow_anonymous_fn(false)
            .set_allow_looping(false)
            .set_allow_statement_expression(false)
            .set_max_operations(MAX_OPERATIONS)
            .set_max_expr_depths(MAX_DEPTH, MAX_DEPTH)
            .set_max_call_levels(8)
            // A case's description may be 20,000 characters (in UTF-8, up to 80,000 bytes).
            .set_max_string_size(100_000)
            .set_max_array_size(1_000)
            .set_max_map_size(1_000);
        e.disable_symbol("eval");
        e.on_print(|_| {});
        e.on_debug(|_, _, _| {});
        e.on_progress(|ops| {
            let late = ops % 64 == 0 && DEADLINE.with(|d| d.get().is_some_and(|d| Instant::now() > d));
            late.then(|| Dynamic::from("the time limit"))
        });
        register_functions(&mut e);
        e
    })
}

/// Date and format helpers. Dates are `YYYY-MM-DD`, instants RFC 3339 (as `now`).
fn register_functions(e: &mut Engine) {
    e.register_fn("days_between", |a: &str, b: &str| -> Result<INT, Box<EvalAltResult>> {
        Ok((instant(b)?.date_naive() - instant(a)?.date_naive()).num_days())
    });
    e.register_fn("hours_between", |a: &str, b: &str| -> Result<INT, Box<EvalAltResult>> {
        Ok((instant(b)? - instant(a)?).num_hours())
    });
    e.register_fn("weekday", |a: &str| -> Result<String, Box<EvalAltResult>> {
        Ok(instant(a)?.weekday().to_string().to_lowercase())
    });
    e.register_fn("hour", |a: &str| -> Result<INT, Box<EvalAltResult>> { Ok(INT::from(instant(a)?.hour())) });
    e.register_fn("is_iban", |s: &str| crate::formats::iban(s).is_some());
    e.register_fn("is_card_number", |s: &str| crate::formats::card_number(s).is_some());
    e.register_fn("is_postcode", |s: &str, country: &str| matches!(crate::formats::postcode(s, country), Some(Ok(()))));
}

fn instant(s: &str) -> Result<DateTime<Utc>, Box<EvalAltResult>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("'{s}' is neither a date (YYYY-MM-DD) nor an instant (RFC 3339)").into())
}

/// An expression that did not compile, with where in it.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (line {}, column {} of the expression)", self.message, self.line, self.column)
    }
}

/// Compiles an expression in which only `variables` exist.
pub fn compile(source: &str, variables: &[&str]) -> Result<AST, CompileError> {
    if source.len() > MAX_SOURCE {
        return Err(CompileError {
            line: 1,
            column: MAX_SOURCE,
            message: format!("an expression may be at most {MAX_SOURCE} bytes"),
        });
    }
    let mut scope = Scope::new();
    for v in variables {
        scope.push_constant(*v, ());
    }
    engine().compile_expression_with_scope(&scope, source).map_err(|e| CompileError {
        line: e.position().line().unwrap_or(1),
        column: e.position().position().unwrap_or(1),
        message: e.err_type().to_string(),
    })
}

/// The values a rule may read, by variable name.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    scope: Scope<'static>,
}

impl Facts {
    /// Facts are constants: a method that would change a value in place (`remove`,
    /// `clear`, …) is refused, so one rule never changes what the next one sees.
    pub fn set(&mut self, name: &str, value: Dynamic) {
        self.scope.push_constant_dynamic(name.to_string(), value);
    }

    pub fn set_json(&mut self, name: &str, value: &serde_json::Value) {
        self.set(name, from_json(value));
    }

    pub fn names(&self) -> Vec<String> {
        self.scope.iter_raw().map(|(n, _, _)| n.to_string()).collect()
    }
}

/// Evaluates a compiled expression against `facts`, within the limits.
pub fn eval(ast: &AST, facts: &mut Facts) -> Result<Dynamic, String> {
    DEADLINE.with(|d| d.set(Some(Instant::now() + TIME_LIMIT)));
    let out = engine().eval_ast_with_scope::<Dynamic>(&mut facts.scope, ast);
    DEADLINE.with(|d| d.set(None));
    out.map_err(|e| match *e {
        EvalAltResult::ErrorTerminated(..) => {
            format!("stopped: the expression took longer than {} ms", TIME_LIMIT.as_millis())
        }
        EvalAltResult::ErrorTooManyOperations(..) => {
            format!("stopped: the expression took more than {MAX_OPERATIONS} operations")
        }
        e => e.to_string(),
    })
}

/// A condition: true or false, anything else is an error.
pub fn eval_bool(ast: &AST, facts: &mut Facts) -> Result<bool, String> {
    let v = eval(ast, facts)?;
    v.as_bool().map_err(|t| format!("the condition gave {t}, not true or false"))
}

/// A text: strings as they are, numbers written out; nothing (`()`) is an error.
pub fn eval_text(ast: &AST, facts: &mut Facts) -> Result<String, String> {
    let v = eval(ast, facts)?;
    if v.is_unit() {
        return Err("the expression gave nothing (a field with no value?)".into());
    }
    Ok(v.to_string())
}

/// JSON → Rhai: null is `()`, whole numbers are integers.
pub fn from_json(v: &serde_json::Value) -> Dynamic {
    use serde_json::Value;
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(f64::NAN).into(),
        },
        Value::String(s) => s.clone().into(),
        Value::Array(a) => Dynamic::from_array(a.iter().map(from_json).collect()),
        Value::Object(o) => Dynamic::from_map(o.iter().map(|(k, v)| (k.as_str().into(), from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.set_json("language", &json!("de"));
        f.set_json("segment", &json!("gold"));
        f.set_json("amount", &json!(120.5));
        f.set_json("start_date", &json!("2026-11-01"));
        f.set_json("end_date", &json!(null));
        f.set_json("customer", &json!({ "name": "Ann", "tier": 2 }));
        f.set_json("now", &json!("2026-11-23T10:00:00Z"));
        f
    }

    const VARS: &[&str] = &["language", "segment", "amount", "start_date", "end_date", "customer", "now"];

    fn run(src: &str) -> Result<bool, String> {
        let ast = compile(src, VARS).map_err(|e| e.to_string())?;
        eval_bool(&ast, &mut facts())
    }

    #[test]
    fn conditions_over_fields_customer_and_dates() {
        assert_eq!(run(r#"language == "de" && segment == "gold""#), Ok(true));
        assert_eq!(run(r#"amount > 100 && customer.tier >= 2"#), Ok(true));
        assert_eq!(run(r#"end_date == ()"#), Ok(true), "an empty field is ()");
        assert_eq!(run(r#"end_date == "2026-11-01""#), Ok(false), "comparing unlike types is false");
        assert_eq!(run(r#"days_between(start_date, now) == 22"#), Ok(true));
        assert_eq!(run(r#"weekday(now) == "mon" && hour(now) == 10"#), Ok(true));
        assert_eq!(run(r#"is_iban("DE89 3704 0044 0532 0130 00") && !is_card_number("4111")"#), Ok(true));
    }

    #[test]
    fn unknown_names_and_bad_syntax_are_refused_with_a_position() {
        let e = compile(r#"language == "de" && segmnt == "gold""#, VARS).unwrap_err();
        assert_eq!((e.line, e.column), (1, 21));
        assert!(e.message.contains("segmnt"), "{e}");
        let e = compile("language == ", VARS).unwrap_err();
        assert_eq!(e.line, 1);
        for statement in ["let x = 1; x == 1", "loop { }", "eval(\"1\") == 1", "|x| x"] {
            assert!(compile(statement, VARS).is_err(), "{statement}");
        }
        let long = "amount > 1 || ".repeat(200) + "true";
        assert!(compile(&long, VARS).unwrap_err().message.contains("at most"));
    }

    #[test]
    fn limits_stop_runaway_expressions() {
        // Expressions cannot loop, and the built-ins that could build something huge are
        // stopped by the size limits.
        for huge in [r#""x".pad(100000000, "y").len() > 0"#, "[0].pad(100000000, 0).len() > 0"] {
            let ast = compile(huge, VARS).unwrap();
            let e = eval_bool(&ast, &mut facts()).unwrap_err();
            assert!(e.to_lowercase().contains("too large"), "{huge}: {e}");
        }
        // Facts are constants: no rule can change what the next one sees.
        let mut f = facts();
        let remove = compile(r#"customer.remove("name") == "Ann""#, VARS).unwrap();
        assert!(eval_bool(&remove, &mut f).is_err(), "a fact cannot be changed");
        let read = compile(r#"customer.name == "Ann""#, VARS).unwrap();
        assert_eq!(eval_bool(&read, &mut f), Ok(true));
        // A long text (a description may be 20,000 characters) can still be searched.
        let mut f = facts();
        f.set_json("customer", &json!({ "name": "é".repeat(20_000) + "needle" }));
        let ast = compile(r#"customer.name.contains("needle")"#, VARS).unwrap();
        assert_eq!(eval_bool(&ast, &mut f), Ok(true));
        let e = run("customer.tierr == 2").unwrap_err();
        assert!(e.contains("tierr"), "a missing property is an error, not false: {e}");
        assert!(run("amount + 1").unwrap_err().contains("not true or false"));
    }
}
