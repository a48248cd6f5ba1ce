//! Rulebooks: the rules of a case-type version (or of the workspace) with their
//! expressions compiled once and cached, as published versions never change.

use super::super::Ctx;
use super::WORKSPACE_RULES_KEY;
use crate::casetype::CaseTypeDef;
use crate::error::Result;
use crate::rules::{self, expr, Action, Check, Rule, RuleSet, Scope, Text, Trigger};
use rhai::AST;
use std::collections::HashMap;
use std::sync::Arc;

pub struct CompiledRule {
    pub rule: Rule,
    condition: Option<std::result::Result<AST, String>>,
    /// The compiled expression of each action's text, where it is one.
    texts: Vec<Option<std::result::Result<AST, String>>>,
}

pub struct CompiledCheck {
    pub check: Check,
    pub ast: std::result::Result<AST, String>,
}

pub struct Rulebook {
    /// The case type the rules belong to, or "*" for the workspace's.
    pub origin: String,
    pub rules: Vec<CompiledRule>,
    /// Cross-field checks of the case fields, and of each step's form.
    pub checks: Vec<CompiledCheck>,
    pub step_checks: HashMap<String, Vec<CompiledCheck>>,
}

fn compile(source: &str, vars: &[&str]) -> std::result::Result<AST, String> {
    // Checked when saved; an error here means the rule was saved by another version.
    expr::compile(source, vars).map_err(|e| format!("the expression does not compile: {e}"))
}

fn compile_checks(checks: &[Check], fields: &[crate::fields::FieldDef]) -> Vec<CompiledCheck> {
    let mut vars: Vec<&str> = fields.iter().map(|f| f.id.as_str()).collect();
    vars.extend(["now", "today"]);
    checks.iter().map(|c| CompiledCheck { check: c.clone(), ast: compile(&c.rule, &vars) }).collect()
}

impl Rulebook {
    pub fn build(origin: &str, rules: &[Rule], scope: Scope) -> Rulebook {
        let compiled = rules
            .iter()
            .map(|rule| {
                let task = match rule.on {
                    Trigger::TaskCreated => true,
                    Trigger::Timer => rule.timer.as_ref().is_some_and(|t| t.from.is_task()),
                    Trigger::CaseCreated => false,
                };
                let vars = rules::variables(scope, task);
                let condition = (!rule.condition.trim().is_empty()).then(|| compile(&rule.condition, &vars));
                let texts = rule
                    .actions
                    .iter()
                    .map(|a| match a {
                        Action::SetOwner(Text::Expr { expr })
                        | Action::RequireLanguage(Text::Expr { expr })
                        | Action::RouteTo(Text::Expr { expr })
                        | Action::PreferAgent(Text::Expr { expr }) => Some(compile(expr, &vars)),
                        _ => None,
                    })
                    .collect();
                CompiledRule { rule: rule.clone(), condition, texts }
            })
            .collect();
        let (checks, step_checks) = match scope {
            Scope::CaseType(def) => (
                compile_checks(&def.checks, &def.fields),
                def.stages
                    .iter()
                    .flat_map(|st| &st.steps)
                    .filter(|s| !s.checks.is_empty())
                    .map(|s| (s.id.clone(), compile_checks(&s.checks, &s.fields)))
                    .collect(),
            ),
            Scope::Workspace => (vec![], HashMap::new()),
        };
        Rulebook { origin: origin.to_string(), rules: compiled, checks, step_checks }
    }

    /// How the history and the timers name a rule: `<case type>:<rule id>`.
    pub fn key(&self, rule: usize) -> String {
        format!("{}:{}", self.origin, self.rules[rule].rule.id)
    }

    pub fn position(&self, key: &str) -> Option<usize> {
        (0..self.rules.len()).find(|r| self.key(*r) == key)
    }

    /// Whether rule `r`'s condition holds (an empty condition always does).
    pub fn matches(&self, r: usize, facts: &mut expr::Facts) -> std::result::Result<bool, String> {
        match &self.rules[r].condition {
            None => Ok(true),
            Some(Ok(ast)) => expr::eval_bool(ast, facts),
            Some(Err(e)) => Err(e.clone()),
        }
    }

    pub fn text(&self, r: usize, action: usize) -> Option<&std::result::Result<AST, String>> {
        self.rules[r].texts.get(action).and_then(Option::as_ref)
    }

    pub fn has_timers(&self) -> bool {
        self.rules.iter().any(|r| r.rule.on == Trigger::Timer)
    }
}

/// The rulebook of a published case-type version.
pub(crate) fn type_book(ctx: &Ctx, case_type: &str, version: u32) -> Result<Arc<Rulebook>> {
    let key = (case_type.to_string(), version);
    if let Some(book) = ctx.engine.rulebooks.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(book.clone());
    }
    let def: Arc<CaseTypeDef> = ctx.case_type(case_type, version)?;
    let book = Arc::new(Rulebook::build(&def.id, &def.rules, Scope::CaseType(&def)));
    ctx.engine.rulebooks.lock().unwrap_or_else(|p| p.into_inner()).insert(key, book.clone());
    Ok(book)
}

/// The workspace's rules as stored now (inside this transaction), read once per command.
pub(crate) fn workspace_book(ctx: &Ctx) -> Result<Arc<Rulebook>> {
    if let Some(book) = ctx.workspace_rules.get() {
        return Ok(book.clone());
    }
    let book = stored_workspace_book(ctx)?;
    Ok(ctx.workspace_rules.get_or_init(|| book).clone())
}

fn stored_workspace_book(ctx: &Ctx) -> Result<Arc<Rulebook>> {
    let stored = ctx.tx.setting(WORKSPACE_RULES_KEY)?.unwrap_or_default();
    let mut cache = ctx.engine.workspace_rules.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((source, book)) = cache.as_ref() {
        if *source == stored {
            return Ok(book.clone());
        }
    }
    let set: RuleSet = if stored.is_empty() { RuleSet::default() } else { serde_json::from_str(&stored)? };
    let book = Arc::new(Rulebook::build("*", &set.rules, Scope::Workspace));
    *cache = Some((stored, book.clone()));
    Ok(book)
}
