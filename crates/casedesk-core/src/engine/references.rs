//! Blocks of reference numbers, so that cases created offline get references that never
//! collide: the hub reserves a block off its sequence, the client records it as granted.

use super::permissions::{require, Action};
use super::Ctx;
use crate::error::{Error, Result};
use serde_json::{json, Value};

const MAX_BLOCK: i64 = 1_000_000;
/// The highest number a case reference takes: twelve digits, far beyond any workspace,
/// and far enough below 2^63 that no sequence arithmetic overflows (SQLite would turn
/// an overflowing integer into a float).
pub const MAX_REFERENCE_NUMBER: i64 = 999_999_999_999;

pub fn check_prefix(prefix: &str) -> Result<()> {
    if (2..=6).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::field("prefix", "must be 2 to 6 upper-case letters or digits"))
    }
}

/// Refuses a block given from outside (`field` names where `first` came from) that starts
/// below 1 or runs past the last reference number.
pub fn check_block(field: &str, first: i64, last: i64) -> Result<()> {
    if first < 1 || last < first || last > MAX_REFERENCE_NUMBER {
        return Err(Error::field(field, format!("a block needs 1 <= first <= last <= {MAX_REFERENCE_NUMBER}")));
    }
    Ok(())
}

/// Refuses a number (or a block ending at `last`) taken off a sequence past the last one.
pub fn check_left(prefix: &str, last: i64) -> Result<()> {
    if last > MAX_REFERENCE_NUMBER {
        return Err(Error::Conflict(format!(
            "{prefix} has no reference numbers left (the last is {MAX_REFERENCE_NUMBER})"
        )));
    }
    Ok(())
}

pub fn reserve(ctx: &mut Ctx, prefix: &str, size: i64) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    check_prefix(prefix)?;
    if !(1..=MAX_BLOCK).contains(&size) {
        return Err(Error::field("size", format!("a reference block holds 1 to {MAX_BLOCK} numbers")));
    }
    let (first, last) = ctx.tx.reserve_reference_block(prefix, size)?;
    check_left(prefix, last)?;
    ctx.created_id = Some(format!("{first}-{last}"));
    ctx.emit(
        "reference_block_reserved",
        None,
        None,
        Value::Null,
        json!({ "prefix": prefix, "first": first, "last": last }),
    )
}

pub fn grant(ctx: &mut Ctx, prefix: &str, first: i64, last: i64) -> Result<()> {
    require(ctx.actor, Action::Configure)?;
    check_prefix(prefix)?;
    check_block("first", first, last)?;
    if last - first >= MAX_BLOCK {
        return Err(Error::field("first", format!("a block holds at most {MAX_BLOCK} numbers")));
    }
    if let Some((a, b)) = ctx.tx.overlapping_reference_block(prefix, first, last)? {
        return Err(Error::field(
            "first",
            format!("{prefix} {first}..{last} overlaps the block {a}..{b} granted before"),
        ));
    }
    let issued = ctx.tx.local_reference_next(prefix)?;
    if first < issued {
        return Err(Error::field(
            "first",
            format!(
                "{prefix} numbers below {issued} were already issued here; a block must start at {issued} or later"
            ),
        ));
    }
    ctx.tx.grant_reference_block(prefix, first, last)?;
    ctx.emit(
        "reference_block_granted",
        None,
        None,
        Value::Null,
        json!({ "prefix": prefix, "first": first, "last": last }),
    )
}
