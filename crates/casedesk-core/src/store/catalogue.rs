//! The read side of a workspace's configuration, as an admin edits it: the source of
//! each case type's latest version and the business calendars.

use super::sql::Conn;
use crate::calendar::CalendarDef;
use crate::error::Result;

/// The latest published version of each case type, with the TOML it was published from.
pub struct CaseTypeSourceRow {
    pub case_type: String,
    pub name: String,
    pub version: u32,
    pub source: String,
    pub published_at: i64,
    pub published_by: String,
}

pub fn latest_case_type_sources(conn: &Conn) -> Result<Vec<CaseTypeSourceRow>> {
    let mut st = conn.prepare_cached(
        "SELECT v.case_type, v.name, v.version, v.source, v.published_at, v.published_by
         FROM case_type_versions v
         WHERE v.version = (SELECT max(version) FROM case_type_versions w WHERE w.case_type = v.case_type)
         ORDER BY v.name",
    )?;
    let rows = st.query_map([], |r| {
        Ok(CaseTypeSourceRow {
            case_type: r.get(0)?,
            name: r.get(1)?,
            version: r.get(2)?,
            source: r.get(3)?,
            published_at: r.get(4)?,
            published_by: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<super::sql::Result<_>>()?)
}

pub fn calendars(conn: &Conn) -> Result<Vec<CalendarDef>> {
    let mut st = conn.prepare_cached("SELECT definition FROM calendars ORDER BY id")?;
    let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<super::sql::Result<_>>()?;
    rows.iter().map(|j| Ok(serde_json::from_str(j)?)).collect()
}
