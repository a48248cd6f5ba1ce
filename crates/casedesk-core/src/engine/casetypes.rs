//! Publishing case types as immutable versions.

use super::permissions::{require, Action};
use super::Ctx;
use crate::casetype::{load_case_type, load_rule_set};
use crate::error::Result;
use crate::rules::{Action as RuleAction, Rule};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Validates and publishes a case-type file. The same content again is a no-op; a change
/// becomes version n+1, and cases already open keep the version they started with.
pub fn publish(ctx: &mut Ctx, file_name: &str, source: &str) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let def = load_case_type(file_name, source)?;
    let hash = hex::encode(Sha256::digest(source.as_bytes()));
    let latest = ctx.tx.latest_case_type(&def.id)?;
    if let Some((_, h)) = &latest {
        if *h == hash {
            return Ok(());
        }
    }
    let version = latest.map(|(v, _)| v + 1).unwrap_or(1);
    ctx.warnings = super::sla::ola_warnings(ctx, &def)?;
    let definition = serde_json::to_string(&def)?;
    ctx.tx.insert_case_type_version(
        &def.id,
        version,
        &def.name,
        &definition,
        source,
        &hash,
        ctx.now,
        &ctx.actor.user_id,
    )?;
    // Rules written for the earlier version (or for every type) may name fields it lost.
    let stale = super::notifications::rules_that_no_longer_fit(ctx, &def.id)?;
    ctx.warnings.extend(stale);
    ctx.warnings.extend(unpublished_targets(ctx, &def.rules, Some(&def.id))?);
    ctx.created_id = Some(format!("{}@{version}", def.id));
    ctx.emit(
        "case_type_published",
        None,
        None,
        serde_json::Value::Null,
        json!({ "case_type": def.id, "version": version, "name": def.name, "source_hash": hash, "warnings": ctx.warnings }),
    )
}

/// Rules that set a case type not (yet) published: until it is, they fail and are logged.
fn unpublished_targets(ctx: &Ctx, rules: &[Rule], this: Option<&str>) -> Result<Vec<String>> {
    let mut out = vec![];
    for rule in rules {
        for action in &rule.actions {
            if let RuleAction::SetCaseType(t) = action {
                if Some(t.as_str()) != this && ctx.tx.latest_case_type(t)?.is_none() {
                    out.push(format!("rule '{}' sets case type '{t}', which is not published yet", rule.id));
                }
            }
        }
    }
    Ok(out)
}

/// Replaces the workspace's rules (those for every case type) with a checked file.
pub fn define_workspace_rules(ctx: &mut Ctx, file_name: &str, source: &str) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    let set = load_rule_set(file_name, source)?;
    let stored = serde_json::to_string(&set)?;
    let key = super::automation::WORKSPACE_RULES_KEY;
    let before = ctx.tx.setting(key)?;
    if before.as_deref() == Some(stored.as_str()) {
        return Ok(());
    }
    ctx.warnings = unpublished_targets(ctx, &set.rules, None)?;
    ctx.tx.put_setting(key, &stored, ctx.now, &ctx.actor.user_id)?;
    ctx.workspace_rules = std::cell::OnceCell::new();
    // Timed rules for every type must reach the open cases nothing else touches: the
    // timer service sweeps them, a page at a time.
    ctx.tx.put_setting(super::automation::SWEEP_KEY, "", ctx.now, &ctx.actor.user_id)?;
    let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
    ctx.emit(
        "workspace_rules_defined",
        None,
        None,
        serde_json::Value::Null,
        json!({ "file": file_name, "rules": ids, "source_hash": hex::encode(Sha256::digest(source.as_bytes())) }),
    )
}
