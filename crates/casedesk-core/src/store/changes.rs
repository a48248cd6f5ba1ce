//! Change capture for sync. Triggers on every replicated table keep `row_changes`: the
//! latest change of each row, numbered in one order. A hub serves the rows changed after
//! a replica's cursor (with tombstones for deleted ones); a desktop writes them into its
//! mirror of the hub (`mirror`, an attached file with the same schema) and then resets
//! the rows it changed itself, or the pull changed, to the mirror's values.
//!
//! Invariant: on a desktop, every row of a replicated table equals the mirror's, except
//! the rows listed in `row_changes` after the local mark (the effects of commands the hub
//! has not reflected back yet). A table is replicated unless it is in [`LOCAL_TABLES`].

use super::sql::{params_from_iter, Conn, Dialect};
use super::sql::{Value, ValueRef};
use super::tx::Tx;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Tables that belong to one database only: secrets, delivery progress, the hub's record
/// of pushes, sign-in attempts, reference counters and blocks, sync's own bookkeeping, and attachment
/// content (which travels on its own, not in pulls).
pub const LOCAL_TABLES: &[&str] = &[
    "attachment_contents",
    "local_secrets",
    "portal_links",
    "portal_sessions",
    "access_tokens",
    "credentials",
    "outbox_cursors",
    "pushed_commands",
    "reference_blocks",
    "reference_sequences",
    "row_changes",
    "sign_in_attempts",
    "sync_state",
    "pending_commands",
    "client_reference_blocks",
];

/// One SQLite value as it travels in a pull: integers and text as JSON, a real as
/// `{"r": 1.5}` and a blob as `{"b": "<hex>"}`, so every JSON value has one reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Cell {
    Null,
    Int(i64),
    Real { r: f64 },
    Text(String),
    Blob { b: String },
}

impl Cell {
    fn from_sql(v: ValueRef) -> Cell {
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(r) => Cell::Real { r },
            ValueRef::Text(t) => Cell::Text(t.to_string()),
            ValueRef::Blob(b) => Cell::Blob { b: hex::encode(b) },
        }
    }

    fn to_sql(&self) -> Result<Value> {
        Ok(match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Integer(*i),
            Cell::Real { r } => Value::Real(*r),
            Cell::Text(t) => Value::Text(t.clone()),
            Cell::Blob { b } => Value::Blob(hex::decode(b).map_err(|_| Error::field("rows", "a blob is not hex"))?),
        })
    }
}

/// A row changed after the cursor: its key, and its values (None: it was deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangedRow {
    pub table: String,
    pub seq: i64,
    pub key: Vec<Cell>,
    pub row: Option<Vec<Cell>>,
}

/// Each table's column names, in the order a [`ChangedRow`]'s values come.
pub type Columns = BTreeMap<String, Vec<String>>;

/// A table's columns and primary key, as this database has them.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub columns: Vec<String>,
    pub key: Vec<String>,
    /// The key columns' declared types (PostgreSQL's keep `row_changes` keys as text).
    pub key_types: Vec<String>,
}

/// A row's change replaces its earlier one: one entry per row, at its latest number.
const UPSERT: &str = "ON CONFLICT (tbl, k1, k2, k3) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted";

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The replicated tables of `schema` ("main" or "mirror"; PostgreSQL has only "main").
pub fn shapes(conn: &Conn, schema: &str) -> Result<Vec<Shape>> {
    if conn.dialect() == Dialect::Postgres {
        return shapes_pg(conn);
    }
    let names: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<super::sql::Result<_>>()?;
    let mut out = vec![];
    for name in names.into_iter().filter(|n| !LOCAL_TABLES.contains(&n.as_str())) {
        let mut cols: Vec<(String, String, i64)> = conn
            .prepare(&format!("PRAGMA {schema}.table_info({})", quoted(&name)))?
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(5)?)))?
            .collect::<super::sql::Result<_>>()?;
        let columns = cols.iter().map(|c| c.0.clone()).collect();
        cols.retain(|c| c.2 > 0);
        cols.sort_by_key(|c| c.2);
        out.push(shape(name, columns, cols.into_iter().map(|c| (c.0, c.1)).collect())?);
    }
    Ok(out)
}

fn shape(name: String, columns: Vec<String>, key: Vec<(String, String)>) -> Result<Shape> {
    if key.is_empty() || key.len() > 3 {
        return Err(Error::Storage(format!("table {name} needs a primary key of 1 to 3 columns to be replicated")));
    }
    let (key, key_types) = key.into_iter().unzip();
    Ok(Shape { name, columns, key, key_types })
}

fn shapes_pg(conn: &Conn) -> Result<Vec<Shape>> {
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut types: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut st = conn.prepare(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    )?;
    for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))? {
        let (table, column, ty) = row?;
        columns.entry(table.clone()).or_default().push(column.clone());
        types.insert((table, column), ty);
    }
    let mut keys: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut st = conn.prepare(
        "SELECT tc.table_name::text, k.column_name::text
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage k
           ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name
         WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()
         ORDER BY tc.table_name, k.ordinal_position",
    )?;
    for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (table, column) = row?;
        let ty = types.get(&(table.clone(), column.clone())).cloned().unwrap_or_default();
        keys.entry(table).or_default().push((column, ty));
    }
    columns
        .into_iter()
        .filter(|(name, _)| !LOCAL_TABLES.contains(&name.as_str()) && name != "casedesk_meta")
        .map(|(name, cols)| {
            let key = keys.remove(&name).unwrap_or_default();
            shape(name, cols, key)
        })
        .collect()
}

/// A key as `row_changes` holds it on PostgreSQL (text, see `casedesk_row_changed`) back
/// in its column's type, as SQLite keeps it.
fn typed_key(shape: &Shape, key: Vec<Cell>) -> Result<Vec<Cell>> {
    key.into_iter()
        .zip(&shape.key_types)
        .map(|(cell, ty)| match (cell, ty.as_str()) {
            (Cell::Text(t), "bytea") => {
                let hex = t.strip_prefix("\\x").unwrap_or(&t);
                hex::decode(hex).map_err(|_| Error::Storage(format!("a key of {} is not bytea", shape.name)))?;
                Ok(Cell::Blob { b: hex.to_string() })
            }
            (Cell::Text(t), "bigint" | "integer" | "smallint") => t
                .parse()
                .map(Cell::Int)
                .map_err(|_| Error::Storage(format!("a key of {} is not an integer", shape.name))),
            (cell, _) => Ok(cell),
        })
        .collect()
}

/// `a = ?1 AND b = ?2` over a shape's key, with parameters from `first`.
fn key_match(shape: &Shape, alias: &str, first: usize) -> String {
    shape
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{alias}{} = ?{}", quoted(k), first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The k1..k3 values a trigger records for `row` ("NEW" or "OLD").
fn key_values(shape: &Shape, row: &str) -> String {
    (0..3)
        .map(|i| shape.key.get(i).map_or("''".to_string(), |k| format!("{row}.{}", quoted(k))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates the change triggers of every replicated table that lacks them, and lists the
/// rows already there as changed (a database from before sync, or a new table).
pub fn install_triggers(conn: &Conn) -> Result<()> {
    if conn.dialect() == Dialect::Postgres {
        return install_triggers_pg(conn);
    }
    let record = |shape: &Shape, row: &str, deleted: u8| {
        format!(
            "INSERT INTO row_changes (tbl, k1, k2, k3, seq, deleted)
             VALUES ('{}', {}, (SELECT coalesce(max(seq), 0) + 1 FROM row_changes), {deleted}) {UPSERT};",
            shape.name,
            key_values(shape, row)
        )
    };
    for shape in shapes(conn, "main")? {
        let t = &shape.name;
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [format!("changed_{t}_insert")],
            |r| r.get(0),
        )?;
        if exists {
            continue;
        }
        let key_moved =
            shape.key.iter().map(|k| format!("OLD.{0} IS NOT NEW.{0}", quoted(k))).collect::<Vec<_>>().join(" OR ");
        let base: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM row_changes", [], |r| r.get(0))?;
        let keys =
            (0..3).map(|i| shape.key.get(i).map_or("''".to_string(), |k| quoted(k))).collect::<Vec<_>>().join(", ");
        conn.execute_batch(&format!(
            "BEGIN;
             CREATE TRIGGER changed_{t}_insert AFTER INSERT ON {q} BEGIN {ins} END;
             CREATE TRIGGER changed_{t}_update AFTER UPDATE ON {q} BEGIN
               INSERT INTO row_changes (tbl, k1, k2, k3, seq, deleted)
                 SELECT '{t}', {old}, (SELECT coalesce(max(seq), 0) + 1 FROM row_changes), 1 WHERE {key_moved} {UPSERT};
               {ins}
             END;
             CREATE TRIGGER changed_{t}_delete AFTER DELETE ON {q} BEGIN {del} END;
             INSERT INTO row_changes (tbl, k1, k2, k3, seq, deleted)
               SELECT '{t}', {keys}, {base} + row_number() OVER (), 0 FROM {q} WHERE true {UPSERT};
             COMMIT;",
            q = quoted(t),
            ins = record(&shape, "NEW", 0),
            del = record(&shape, "OLD", 1),
            old = key_values(&shape, "OLD"),
        ))?;
    }
    Ok(())
}

/// The PostgreSQL form: one trigger per table on the function `casedesk_row_changed`
/// (`schema_pg.sql`), given the key's column names.
fn install_triggers_pg(conn: &Conn) -> Result<()> {
    for shape in shapes(conn, "main")? {
        let t = &shape.name;
        let exists: bool =
            conn.query_row("SELECT count(*) > 0 FROM pg_trigger WHERE tgname = ?1", [format!("changed_{t}")], |r| {
                r.get(0)
            })?;
        if exists {
            continue;
        }
        let names = shape.key.iter().map(|k| format!("'{}'", k.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
        let keys = (0..3)
            .map(|i| {
                shape.key.get(i).map_or("''".to_string(), |k| format!("to_jsonb(x) ->> '{}'", k.replace('\'', "''")))
            })
            .collect::<Vec<_>>()
            .join(", ");
        conn.execute_batch(&format!(
            "BEGIN;
             CREATE TRIGGER changed_{t} AFTER INSERT OR UPDATE OR DELETE ON {q}
               FOR EACH ROW EXECUTE FUNCTION casedesk_row_changed({names});
             INSERT INTO row_changes (tbl, k1, k2, k3, seq, deleted)
               SELECT '{t}', {keys}, (SELECT coalesce(max(seq), 0) FROM row_changes) + row_number() OVER (), 0
               FROM {q} x {UPSERT};
             COMMIT;",
            q = quoted(t),
        ))?;
    }
    Ok(())
}

/// The last number of `schema`'s change order (0 when nothing changed).
pub fn head(conn: &Conn, schema: &str) -> Result<i64> {
    let table = if schema == "main" { "row_changes".to_string() } else { format!("{schema}.row_changes") };
    Ok(conn.query_row(&format!("SELECT coalesce(max(seq), 0) FROM {table}"), [], |r| r.get(0))?)
}

/// Up to `limit` rows changed after `cursor`, in change order, with each table's columns.
pub fn changes_after(conn: &Conn, cursor: i64, limit: i64) -> Result<(Vec<ChangedRow>, Columns)> {
    let shapes: BTreeMap<String, Shape> = shapes(conn, "main")?.into_iter().map(|s| (s.name.clone(), s)).collect();
    let mut st = conn
        .prepare_cached("SELECT tbl, k1, k2, k3, seq, deleted FROM row_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let listed = st.query_map([cursor, limit], |r| {
        let key = (1..=3).map(|i| r.get_ref(i).map(Cell::from_sql)).collect::<super::sql::Result<Vec<_>>>()?;
        Ok((r.get::<_, String>(0)?, key, r.get::<_, i64>(4)?, r.get::<_, bool>(5)?))
    })?;
    let mut rows = vec![];
    let mut columns = BTreeMap::new();
    for item in listed {
        let (table, mut key, seq, deleted) = item?;
        let shape = shapes.get(&table).ok_or_else(|| Error::Storage(format!("changes list unknown table {table}")))?;
        key.truncate(shape.key.len());
        if conn.dialect() == Dialect::Postgres {
            key = typed_key(shape, key)?;
        }
        let row = if deleted {
            None
        } else {
            let sql = format!(
                "SELECT {} FROM {} WHERE {}",
                shape.columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "),
                quoted(&shape.name),
                key_match(shape, "", 1)
            );
            let values = key.iter().map(Cell::to_sql).collect::<Result<Vec<_>>>()?;
            let mut one = conn.prepare_cached(&sql)?;
            let mut found = one.query(params_from_iter(values))?;
            match found.next()? {
                Some(r) => Some(
                    (0..shape.columns.len())
                        .map(|i| r.get_ref(i).map(Cell::from_sql))
                        .collect::<super::sql::Result<_>>()?,
                ),
                None => None,
            }
        };
        columns.entry(table.clone()).or_insert_with(|| shape.columns.clone());
        rows.push(ChangedRow { table, seq, key, row });
    }
    Ok((rows, columns))
}

impl Tx<'_> {
    /// Writes pulled rows into the mirror (upserts, and deletes for tombstones). Run with
    /// foreign keys off: a page may hold a row before the row it refers to.
    pub fn apply_to_mirror(&self, rows: &[ChangedRow], columns: &Columns) -> Result<()> {
        self.execute_batch(FOLLOWING_HUB)?;
        let shapes: BTreeMap<String, Shape> =
            shapes(self, "mirror")?.into_iter().map(|s| (s.name.clone(), s)).collect();
        for row in rows {
            let shape = shapes.get(&row.table).ok_or_else(|| newer(&row.table, "the table"))?;
            if row.key.len() != shape.key.len() {
                return Err(Error::field("rows", format!("a key of {} needs {} values", row.table, shape.key.len())));
            }
            let key = row.key.iter().map(Cell::to_sql).collect::<Result<Vec<_>>>()?;
            match &row.row {
                None => {
                    let sql = format!("DELETE FROM mirror.{} WHERE {}", quoted(&shape.name), key_match(shape, "", 1));
                    self.prepare_cached(&sql)?.execute(params_from_iter(key))?;
                }
                Some(values) => {
                    let cols = columns
                        .get(&row.table)
                        .ok_or_else(|| Error::field("columns", format!("{} is not described", row.table)))?;
                    if cols.len() != values.len() {
                        return Err(Error::field(
                            "rows",
                            format!("a row of {} needs {} values", row.table, cols.len()),
                        ));
                    }
                    if let Some(c) = cols.iter().find(|c| !shape.columns.contains(c)) {
                        return Err(newer(&row.table, &format!("the column {c} of")));
                    }
                    let updates: Vec<String> = cols
                        .iter()
                        .filter(|c| !shape.key.contains(c))
                        .map(|c| format!("{0} = excluded.{0}", quoted(c)))
                        .collect();
                    let sql = format!(
                        "INSERT INTO mirror.{} ({}) VALUES ({}) ON CONFLICT ({}) DO {}",
                        quoted(&shape.name),
                        cols.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "),
                        (1..=cols.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", "),
                        shape.key.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "),
                        if updates.is_empty() {
                            "NOTHING".to_string()
                        } else {
                            format!("UPDATE SET {}", updates.join(", "))
                        }
                    );
                    let values = values.iter().map(Cell::to_sql).collect::<Result<Vec<_>>>()?;
                    self.prepare_cached(&sql)?.execute(params_from_iter(values))?;
                }
            }
        }
        self.execute_batch(FOLLOWED_HUB)?;
        Ok(())
    }

    /// Empties the mirror (to pull it again from the start).
    pub fn clear_mirror(&self) -> Result<()> {
        self.execute_batch(FOLLOWING_HUB)?;
        for shape in shapes(self, "mirror")? {
            self.execute(&format!("DELETE FROM mirror.{}", quoted(&shape.name)), [])?;
        }
        self.execute_batch(FOLLOWED_HUB)?;
        Ok(())
    }

    /// Sets every row changed here after `local_mark`, or in the mirror after
    /// `mirror_mark`, to the mirror's value (deleting it where the mirror has none).
    /// Returns how many rows were looked at.
    pub fn reset_from_mirror(&self, local_mark: i64, mirror_mark: i64) -> Result<usize> {
        self.execute_batch(
            "PRAGMA defer_foreign_keys = ON;
             CREATE TEMP TABLE IF NOT EXISTS touched (tbl TEXT, k1, k2, k3, PRIMARY KEY (tbl, k1, k2, k3)) WITHOUT ROWID;
             DELETE FROM temp.touched;",
        )?;
        let mut n = self
            .prepare_cached(
                "INSERT OR IGNORE INTO temp.touched SELECT tbl, k1, k2, k3 FROM main.row_changes WHERE seq > ?1",
            )?
            .execute([local_mark])?;
        n += self
            .prepare_cached(
                "INSERT OR IGNORE INTO temp.touched SELECT tbl, k1, k2, k3 FROM mirror.row_changes WHERE seq > ?1",
            )?
            .execute([mirror_mark])?;
        if n == 0 {
            return Ok(0);
        }
        self.execute_batch(FOLLOWING_HUB)?;
        let shapes = shapes(self, "main")?;
        let in_touched = |s: &Shape| {
            let ks = (1..=s.key.len()).map(|i| format!("k{i}")).collect::<Vec<_>>().join(", ");
            let cols = s.key.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
            format!("({cols}) IN (SELECT {ks} FROM temp.touched WHERE tbl = '{}')", s.name)
        };
        // Every touched row goes, then the mirror's come back: a row of this desk's may
        // hold a unique value (a delivery's event and rule) that the hub's row with
        // another key holds, so no row may be written while a touched one is still here.
        for s in &shapes {
            self.execute(&format!("DELETE FROM main.{} WHERE {}", quoted(&s.name), in_touched(s)), [])?;
        }
        for s in &shapes {
            let q = quoted(&s.name);
            let cols = s.columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
            self.execute(
                &format!("INSERT INTO main.{q} ({cols}) SELECT {cols} FROM mirror.{q} WHERE {}", in_touched(s)),
                [],
            )?;
        }
        self.execute_batch(FOLLOWED_HUB)?;
        Ok(n)
    }
}

/// Rows being set to the hub's values may change what is otherwise immutable (a case-type
/// version made here that the hub numbered differently): the flag the guards allow it by.
const FOLLOWING_HUB: &str = "INSERT OR IGNORE INTO main.sync_state VALUES ('following_hub', 1);
     INSERT OR IGNORE INTO mirror.sync_state VALUES ('following_hub', 1);";
const FOLLOWED_HUB: &str = "DELETE FROM main.sync_state WHERE key = 'following_hub';
     DELETE FROM mirror.sync_state WHERE key = 'following_hub';";

fn newer(table: &str, what: &str) -> Error {
    Error::Conflict(format!(
        "{what} {table} is unknown to this desktop: the hub runs a newer version; update the desktop"
    ))
}
