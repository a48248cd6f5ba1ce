//! The SQL layer under the store: one connection, statement, row and value type over the
//! database driver, so every statement of the store is written once. Its shape follows
//! rusqlite's (`prepare_cached`, `query_row`, `query_map`, `params!`), and placeholders
//! are SQLite's `?1`, `?2`, ….
//!
//! Why a layer of our own: the hub is to run on PostgreSQL as well as SQLite, and a store
//! that names the driver's types everywhere could only move by being copied.

use std::borrow::Cow;
use std::fmt;

#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
pub use pg::LOCK_CLASS;

/// A value read from a row, borrowed from it (SQLite's five storage classes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// An owned value: a cell read to keep, or an argument built at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A statement argument, borrowing what it can from the value it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `query_row` found no row (see [`OptionalExtension`]).
    NoRows,
    /// A unique or primary-key constraint refused the write.
    Unique,
    /// A cell could not be read as the type asked for.
    Conversion,
    /// Text the database cannot hold: PostgreSQL refuses NUL characters.
    BadText,
    Other,
}

#[derive(Debug)]
pub struct SqlError {
    pub kind: ErrorKind,
    message: String,
}

pub type Result<T> = std::result::Result<T, SqlError>;

impl SqlError {
    pub fn conversion(message: impl Into<String>) -> Self {
        SqlError { kind: ErrorKind::Conversion, message: message.into() }
    }

    pub fn is_unique_violation(&self) -> bool {
        self.kind == ErrorKind::Unique
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
        let kind = match &e {
            rusqlite::Error::QueryReturnedNoRows => ErrorKind::NoRows,
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == SQLITE_CONSTRAINT_UNIQUE || f.extended_code == SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                ErrorKind::Unique
            }
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => ErrorKind::Conversion,
            _ => ErrorKind::Other,
        };
        SqlError { kind, message: e.to_string() }
    }
}

/// `query_row(...).optional()`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::NoRows => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ---- values in ---------------------------------------------------------------------

/// A Rust value as a statement argument.
pub trait ToSql {
    fn to_arg(&self) -> Result<Arg<'_>>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_arg(&self) -> Result<Arg<'_>> {
        (**self).to_arg()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_arg(&self) -> Result<Arg<'_>> {
        match self {
            Some(v) => v.to_arg(),
            None => Ok(Arg::Null),
        }
    }
}

macro_rules! integer_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_arg(&self) -> Result<Arg<'_>> {
                i64::try_from(*self)
                    .map(Arg::Integer)
                    .map_err(|_| SqlError::conversion(format!("{} does not fit in a 64-bit integer", self)))
            }
        }
    )*};
}
integer_to_sql!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ToSql for bool {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Integer(*self as i64))
    }
}

impl ToSql for f64 {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Real(*self))
    }
}

impl ToSql for str {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Text(Cow::Borrowed(self)))
    }
}

impl ToSql for String {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Text(Cow::Borrowed(self)))
    }
}

impl ToSql for Cow<'_, str> {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Text(Cow::Borrowed(self)))
    }
}

impl ToSql for [u8] {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Blob(Cow::Borrowed(self)))
    }
}

impl ToSql for Vec<u8> {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Blob(Cow::Borrowed(self)))
    }
}

/// A uuid is stored as its 16 bytes.
impl ToSql for uuid::Uuid {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Blob(Cow::Borrowed(self.as_bytes())))
    }
}

/// JSON is stored as the text written, so it reads back byte for byte.
impl ToSql for serde_json::Value {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(Arg::Text(Cow::Owned(self.to_string())))
    }
}

impl ToSql for Value {
    fn to_arg(&self) -> Result<Arg<'_>> {
        Ok(match self {
            Value::Null => Arg::Null,
            Value::Integer(i) => Arg::Integer(*i),
            Value::Real(r) => Arg::Real(*r),
            Value::Text(t) => Arg::Text(Cow::Borrowed(t)),
            Value::Blob(b) => Arg::Blob(Cow::Borrowed(b)),
        })
    }
}

/// A statement's arguments: `[]`, `[a, b]` (one type), `params![a, b]`, or
/// [`params_from_iter`].
pub trait Params {
    fn args(&self) -> Result<Vec<Arg<'_>>>;
}

impl Params for [&dyn ToSql; 0] {
    fn args(&self) -> Result<Vec<Arg<'_>>> {
        Ok(vec![])
    }
}

impl Params for &[&dyn ToSql] {
    fn args(&self) -> Result<Vec<Arg<'_>>> {
        self.iter().map(|v| v.to_arg()).collect()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn args(&self) -> Result<Vec<Arg<'_>>> {
                self.iter().map(|v| v.to_arg()).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Arguments from an iterator (their number known only at run time).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator + Clone,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator + Clone,
    I::Item: ToSql,
{
    fn args(&self) -> Result<Vec<Arg<'_>>> {
        self.0
            .clone()
            .into_iter()
            .map(|v| {
                v.to_arg().map(|a| match a {
                    Arg::Text(t) => Arg::Text(Cow::Owned(t.into_owned())),
                    Arg::Blob(b) => Arg::Blob(Cow::Owned(b.into_owned())),
                    Arg::Null => Arg::Null,
                    Arg::Integer(i) => Arg::Integer(i),
                    Arg::Real(r) => Arg::Real(r),
                })
            })
            .collect()
    }
}

/// Arguments of several types: `params![id, name, 3]`.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[&dyn $crate::store::sql::ToSql] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::sql::ToSql),+] as &[&dyn $crate::store::sql::ToSql] };
}
pub use crate::sql_params as params;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as R};
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Null => R::Null,
            Arg::Integer(i) => R::Integer(*i),
            Arg::Real(r) => R::Real(*r),
            Arg::Text(t) => R::Text(t.as_bytes()),
            Arg::Blob(b) => R::Blob(b),
        }))
    }
}

// ---- values out --------------------------------------------------------------------

/// A cell read as a Rust value.
pub trait FromSql: Sized {
    fn from_sql(v: ValueRef<'_>) -> Result<Self>;
}

fn wrong(v: ValueRef<'_>, wanted: &str) -> SqlError {
    let found = match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    };
    SqlError::conversion(format!("found {found} where {wanted} was expected"))
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}

macro_rules! integer_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_sql(v: ValueRef<'_>) -> Result<Self> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| SqlError::conversion(format!("{i} is out of range for {}", stringify!($t)))),
                    v => Err(wrong(v, "an integer")),
                }
            }
        }
    )*};
}
integer_from_sql!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl FromSql for bool {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Integer(i) => Ok(i != 0),
            v => Err(wrong(v, "a boolean")),
        }
    }
}

impl FromSql for f64 {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Real(r) => Ok(r),
            ValueRef::Integer(i) => Ok(i as f64),
            v => Err(wrong(v, "a number")),
        }
    }
}

impl FromSql for String {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Text(t) => Ok(t.to_string()),
            v => Err(wrong(v, "text")),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            v => Err(wrong(v, "a blob")),
        }
    }
}

impl FromSql for uuid::Uuid {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => uuid::Uuid::from_slice(b).map_err(|e| SqlError::conversion(e.to_string())),
            ValueRef::Text(t) => uuid::Uuid::parse_str(t).map_err(|e| SqlError::conversion(e.to_string())),
            v => Err(wrong(v, "a uuid")),
        }
    }
}

impl FromSql for serde_json::Value {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Text(t) => serde_json::from_str(t).map_err(|e| SqlError::conversion(e.to_string())),
            v => Err(wrong(v, "JSON text")),
        }
    }
}

impl FromSql for Value {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        Ok(v.to_owned())
    }
}

impl<'a> ValueRef<'a> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(t.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    pub fn as_blob(self) -> Result<&'a [u8]> {
        match self {
            ValueRef::Blob(b) => Ok(b),
            v => Err(wrong(v, "a blob")),
        }
    }
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Result<ValueRef<'_>> {
    use rusqlite::types::ValueRef as R;
    Ok(match v {
        R::Null => ValueRef::Null,
        R::Integer(i) => ValueRef::Integer(i),
        R::Real(r) => ValueRef::Real(r),
        R::Text(t) => ValueRef::Text(std::str::from_utf8(t).map_err(|e| SqlError::conversion(e.to_string()))?),
        R::Blob(b) => ValueRef::Blob(b),
    })
}

// ---- rows ----------------------------------------------------------------------------

/// One row of a result.
pub struct Row<'a> {
    inner: RowInner<'a>,
}

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    #[cfg(feature = "postgres")]
    Postgres(&'a postgres::Row),
}

impl<'a> Row<'a> {
    /// Column `idx` (from 0) as a `T`.
    pub fn get<I: ColumnIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        T::from_sql(self.get_ref(idx)?).map_err(|e| SqlError::conversion(format!("column {idx}: {e}")))
    }

    /// Column `idx` as it is stored.
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        match &self.inner {
            RowInner::Sqlite(r) => from_sqlite(r.get_ref(idx)?),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(r) => pg::cell(r, idx),
        }
    }
}

/// What names a column of a row: its position, from 0.
pub trait ColumnIndex {
    fn index(self) -> usize;
}

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// A result read one row at a time.
pub struct Rows<'s> {
    inner: RowsInner<'s>,
}

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    #[cfg(feature = "postgres")]
    Postgres {
        rows: std::vec::IntoIter<postgres::Row>,
        current: Option<postgres::Row>,
    },
}

impl<'s> Rows<'s> {
    // A lending iterator (the row borrows the result), which `Iterator` cannot express.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.inner {
            RowsInner::Sqlite(rows) => Ok(rows.next()?.map(|r| Row { inner: RowInner::Sqlite(r) })),
            #[cfg(feature = "postgres")]
            RowsInner::Postgres { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(|r| Row { inner: RowInner::Postgres(r) }))
            }
        }
    }
}

/// The rows of a result, each mapped by `f` as it is read.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.f)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

fn no_rows() -> SqlError {
    SqlError { kind: ErrorKind::NoRows, message: "the query returned no rows".into() }
}

// ---- statements and connections -------------------------------------------------

pub struct Statement<'c> {
    inner: StatementInner<'c>,
}

enum StatementInner<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Once(rusqlite::Statement<'c>),
    #[cfg(feature = "postgres")]
    Postgres(&'c pg::PgConn, postgres::Statement),
}

impl<'c> Statement<'c> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let args = params.args()?;
        match &mut self.inner {
            StatementInner::Cached(s) => Ok(s.execute(rusqlite::params_from_iter(args.iter()))?),
            StatementInner::Once(s) => Ok(s.execute(rusqlite::params_from_iter(args.iter()))?),
            #[cfg(feature = "postgres")]
            StatementInner::Postgres(conn, s) => conn.execute(s, &args),
        }
    }

    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let args = params.args()?;
        let inner = match &mut self.inner {
            StatementInner::Cached(s) => RowsInner::Sqlite(s.query(rusqlite::params_from_iter(args.iter()))?),
            StatementInner::Once(s) => RowsInner::Sqlite(s.query(rusqlite::params_from_iter(args.iter()))?),
            #[cfg(feature = "postgres")]
            StatementInner::Postgres(conn, s) => {
                RowsInner::Postgres { rows: conn.query(s, &args)?.into_iter(), current: None }
            }
        };
        Ok(Rows { inner })
    }

    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows { rows: self.query(params)?, f })
    }

    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(no_rows()),
        }
    }

    pub fn column_count(&self) -> usize {
        match &self.inner {
            StatementInner::Cached(s) => s.column_count(),
            StatementInner::Once(s) => s.column_count(),
            #[cfg(feature = "postgres")]
            StatementInner::Postgres(_, s) => s.columns().len(),
        }
    }
}

/// Which database a connection speaks to: where a statement needs a form of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A database connection.
pub struct Conn {
    inner: ConnInner,
}

enum ConnInner {
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<pg::PgConn>),
}

impl Conn {
    pub fn sqlite(conn: rusqlite::Connection) -> Conn {
        Conn { inner: ConnInner::Sqlite(conn) }
    }

    /// Connects to a PostgreSQL database (`postgres://user@host/db`).
    pub fn postgres(url: &str) -> Result<Conn> {
        #[cfg(feature = "postgres")]
        return Ok(Conn { inner: ConnInner::Postgres(Box::new(pg::PgConn::connect(url)?)) });
        #[cfg(not(feature = "postgres"))]
        Err(SqlError {
            kind: ErrorKind::Other,
            message: format!("cannot open {url}: this build has no PostgreSQL back end (feature postgres)"),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            ConnInner::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// `sqlite` on SQLite, `postgres` on PostgreSQL: a statement with two forms.
    pub fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self.dialect() {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }

    /// The SQLite connection under this one, for what only SQLite has (pragmas, attached
    /// files, backups, migrations). None on PostgreSQL.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            ConnInner::Sqlite(c) => Some(c),
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(_) => None,
        }
    }

    pub fn as_sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.inner {
            ConnInner::Sqlite(c) => Some(c),
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(_) => None,
        }
    }

    /// A statement kept in the connection's cache, for statements run again and again.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        let inner = match &self.inner {
            ConnInner::Sqlite(c) => StatementInner::Cached(c.prepare_cached(sql)?),
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(c) => StatementInner::Postgres(c, c.prepare(sql, true)?),
        };
        Ok(Statement { inner })
    }

    /// A statement run once (text built at run time).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        let inner = match &self.inner {
            ConnInner::Sqlite(c) => StatementInner::Once(c.prepare(sql)?),
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(c) => StatementInner::Postgres(c, c.prepare(sql, false)?),
        };
        Ok(Statement { inner })
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// Several statements without arguments.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            ConnInner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(c) => c.batch(sql),
        }
    }

    /// Opens a transaction, rolled back when dropped uncommitted. `write` takes the
    /// database's write lock at once (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL the
    /// workspace's advisory lock), so writers run one at a time and a write never fails
    /// half-way for a lock another connection took after it began.
    pub fn begin(&mut self, write: bool) -> Result<Transaction<'_>> {
        match &self.inner {
            ConnInner::Sqlite(c) => c.execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })?,
            #[cfg(feature = "postgres")]
            ConnInner::Postgres(c) => c.begin_write()?,
        }
        Ok(Transaction { conn: self, open: true })
    }
}

/// An open transaction; dereferences to its connection.
pub struct Transaction<'c> {
    conn: &'c Conn,
    open: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Conn {
        Conn::sqlite(rusqlite::Connection::open_in_memory().unwrap())
    }

    #[test]
    fn values_go_in_and_come_back_as_they_were() {
        let c = conn();
        c.execute_batch("CREATE TABLE t (id BLOB PRIMARY KEY, n INTEGER, s TEXT, f REAL, j TEXT, b INTEGER)").unwrap();
        let id = uuid::Uuid::now_v7();
        let json = serde_json::json!({ "z": 1, "a": [true] });
        c.execute("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)", params![id, u32::MAX, "text", 1.5, json, true])
            .unwrap();
        let back: (uuid::Uuid, u32, String, f64, serde_json::Value, bool) = c
            .query_row("SELECT id, n, s, f, j, b FROM t WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .unwrap();
        assert_eq!(back, (id, u32::MAX, "text".into(), 1.5, json, true));
        let none: Option<String> = c.query_row("SELECT s FROM t WHERE n = 0", [], |r| r.get(0)).optional().unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn a_cell_of_the_wrong_type_or_range_is_an_error_naming_the_column() {
        let c = conn();
        let e = c.query_row("SELECT 1, -1", [], |r| r.get::<_, u32>(1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conversion);
        assert!(e.to_string().contains("column 1"), "{e}");
        assert!(c.query_row("SELECT 'x'", [], |r| r.get::<_, i64>(0)).is_err());
        assert!(u64::MAX.to_arg().is_err(), "no silent wrap past i64");
    }

    #[test]
    fn a_unique_violation_is_told_apart_and_a_dropped_transaction_rolls_back() {
        let mut c = conn();
        c.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY)").unwrap();
        c.execute("INSERT INTO t VALUES ('a')", []).unwrap();
        assert!(c.execute("INSERT INTO t VALUES ('a')", []).unwrap_err().is_unique_violation());
        {
            let tx = c.begin(true).unwrap();
            tx.execute("INSERT INTO t VALUES ('b')", []).unwrap();
        }
        let n: i64 = c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        let tx = c.begin(true).unwrap();
        tx.execute("INSERT INTO t VALUES ('c')", []).unwrap();
        tx.commit().unwrap();
        let n: i64 = c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
    }
}
