//! Publishing case types as immutable versions.

use super::permissions::{require, Action};
use super::Ctx;
use crate::casetype::load_case_type;
use crate::error::Result;
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
    ctx.created_id = Some(format!("{}@{version}", def.id));
    ctx.emit(
        "case_type_published",
        None,
        None,
        serde_json::Value::Null,
        json!({ "case_type": def.id, "version": version, "name": def.name, "source_hash": hash, "warnings": ctx.warnings }),
    )
}
