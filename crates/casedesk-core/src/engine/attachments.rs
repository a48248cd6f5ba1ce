//! Attachments: metadata in the database; content under its SHA-256 (so a file attached
//! twice is stored once). On an SQLite workspace (a desk, or a hub on one file) content
//! is a file in the data directory; on PostgreSQL it is a row of `attachment_contents`,
//! written in the command's transaction, so every hub process over the database reads
//! what another stored. A desk holds the content of what was attached on it and fetches
//! the rest from its hub when opened.

use super::permissions::{require, Action};
use super::Ctx;
use crate::error::{Error, Result};
use crate::model::Attachment;
use crate::store::sql::Dialect;
use crate::store::{Db, Tx};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

const NAME_MAX_BYTES: usize = 255;

pub fn blob_path(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("attachments").join(&sha256[..2]).join(sha256)
}

/// Refuses names that try to leave their folder; replaces characters that some file
/// systems forbid. The name is only shown and offered on download, never used as a path.
pub fn sanitise_file_name(name: &str) -> Result<String> {
    let bad = |rule: &str| Err(Error::InvalidFileName { name: name.to_string(), rule: rule.to_string() });
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return bad("must not be empty");
    }
    if trimmed.contains('/')
        || trimmed.contains('\\')
        || trimmed.split('.').all(|p| p.is_empty())
        || trimmed.starts_with("..")
    {
        return bad("must be a plain file name, without folders ('/' or '\\') or '..'");
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return bad("must not contain control characters");
    }
    if trimmed.len() > NAME_MAX_BYTES {
        return bad("must be at most 255 bytes long");
    }
    let cleaned: String = trimmed.chars().map(|c| if "<>:\"|?*".contains(c) { '_' } else { c }).collect();
    Ok(cleaned)
}

fn checked_content_type(ct: &str) -> String {
    let ct = ct.trim().to_ascii_lowercase();
    let ok = ct.split_once('/').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && ct.chars().all(|c| c.is_ascii_alphanumeric() || "/.+-".contains(c))
    });
    if ok {
        ct
    } else {
        "application/octet-stream".into()
    }
}

pub fn add(ctx: &mut Ctx, case_id: Uuid, file_name: &str, content_type: &str, content: &[u8]) -> Result<()> {
    require(ctx.actor, Action::WorkCases)?;
    let case = ctx.case(case_id)?;
    attach(ctx, &case, file_name, content_type, content)
}

/// A file attached by the actor, whoever may attach it (checked by the caller): the name
/// and size rules hold for everyone.
pub(super) fn attach(
    ctx: &mut Ctx,
    case: &crate::model::Case,
    file_name: &str,
    content_type: &str,
    content: &[u8],
) -> Result<()> {
    let file_name = sanitise_file_name(file_name)?;
    let limit = ctx.engine.limits.attachment_max_bytes;
    if content.len() as u64 > limit {
        return Err(Error::AttachmentTooLarge { name: file_name, size: content.len() as u64, limit });
    }
    let sha256 = hex::encode(Sha256::digest(content));
    store(ctx.tx, &ctx.engine.data_dir, &sha256, content)?;
    let attachment = Attachment {
        id: ctx.new_id(),
        case_id: case.id,
        file_name,
        content_type: checked_content_type(content_type),
        size: content.len() as u64,
        sha256,
        added_by: ctx.actor.user_id.clone(),
        added_at: ctx.now,
    };
    ctx.tx.insert_attachment(&attachment)?;
    ctx.created_id = Some(attachment.id.to_string());
    ctx.emit("attachment_added", Some(case.id), None, Value::Null, serde_json::to_value(&attachment)?)
}

/// Keeps `content` under `sha256`. A file is written before the row commits: if the
/// transaction fails, an unreferenced file is left, which is harmless (content-addressed),
/// and there is never a row without its content.
fn store(tx: &Tx, data_dir: &Path, sha256: &str, content: &[u8]) -> Result<()> {
    match tx.dialect() {
        Dialect::Postgres => tx.put_attachment_content(sha256, content),
        Dialect::Sqlite => store_blob(&blob_path(data_dir, sha256), content),
    }
}

/// The content kept under `sha256`, if this workspace holds it.
pub fn content(db: &Db, data_dir: &Path, sha256: &str) -> Result<Option<Vec<u8>>> {
    match db.connection_ref().dialect() {
        Dialect::Postgres => db.attachment_content(sha256),
        Dialect::Sqlite => match std::fs::read(blob_path(data_dir, sha256)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        },
    }
}

/// Keeps content fetched from elsewhere (a desk's from its hub) if it is what
/// `attachment` names: its SHA-256 and size.
pub fn keep(tx: &Tx, data_dir: &Path, attachment: &Attachment, content: &[u8]) -> Result<()> {
    let sha256 = hex::encode(Sha256::digest(content));
    if sha256 != attachment.sha256 || content.len() as u64 != attachment.size {
        return Err(Error::field(
            "content",
            format!(
                "is not the content of attachment {} ({} bytes, SHA-256 {})",
                attachment.id, attachment.size, attachment.sha256
            ),
        ));
    }
    store(tx, data_dir, &sha256, content)
}

fn store_blob(path: &Path, content: &[u8]) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().expect("blob paths have a folder");
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile_in(dir)?;
    tmp.1.write_all(content)?;
    tmp.1.sync_all()?;
    std::fs::rename(&tmp.0, path)?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".tmp-{}", Uuid::new_v4()));
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::sanitise_file_name;

    #[test]
    fn traversal_is_refused_and_odd_characters_replaced() {
        for bad in ["../etc/passwd", "..\\win.ini", "a/b.txt", "..", ".", "", "  ", "a\u{0}b", "..hidden"] {
            assert!(sanitise_file_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(sanitise_file_name(" report: final?.pdf ").unwrap(), "report_ final_.pdf");
        assert_eq!(sanitise_file_name("photo.v2.jpg").unwrap(), "photo.v2.jpg");
    }
}
