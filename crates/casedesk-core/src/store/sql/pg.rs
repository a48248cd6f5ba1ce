//! The PostgreSQL driver under [`super::Conn`]: the store's `?N` statements run as `$N`,
//! arguments take the type PostgreSQL infers for them (an integer goes as int4 where the
//! statement wants int4), and cells come back as SQLite's five kinds, so that the store,
//! and the rows a hub sends its desks, are the same on both back ends.

use super::{Arg, ErrorKind, Result, SqlError, ValueRef};
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type};
use std::cell::RefCell;
use std::collections::HashMap;

/// The first key of every advisory lock Casedesk takes (its SQLite application id).
pub const LOCK_CLASS: i32 = 0x4344_534b;
/// The second key: the workspace's writer lock.
const WRITER: i32 = 1;

pub struct PgConn {
    client: RefCell<postgres::Client>,
    cache: RefCell<HashMap<String, postgres::Statement>>,
}

impl From<postgres::Error> for SqlError {
    fn from(e: postgres::Error) -> Self {
        let kind = match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => ErrorKind::Unique,
            Some(c) if *c == SqlState::CHARACTER_NOT_IN_REPERTOIRE => ErrorKind::BadText,
            _ => ErrorKind::Other,
        };
        let message = match e.as_db_error() {
            Some(db) => {
                let mut m = format!("{}: {}", db.severity(), db.message());
                if let Some(d) = db.detail() {
                    m.push_str(&format!(" ({d})"));
                }
                m
            }
            None => e.to_string(),
        };
        SqlError { kind, message }
    }
}

impl PgConn {
    pub fn connect(url: &str) -> Result<PgConn> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(PgConn { client: RefCell::new(client), cache: RefCell::new(HashMap::new()) })
    }

    pub fn prepare(&self, sql: &str, cached: bool) -> Result<postgres::Statement> {
        if let Some(s) = self.cache.borrow().get(sql) {
            return Ok(s.clone());
        }
        let statement = self.client.borrow_mut().prepare(&placeholders(sql))?;
        if cached {
            self.cache.borrow_mut().insert(sql.to_string(), statement.clone());
        }
        Ok(statement)
    }

    pub fn execute(&self, statement: &postgres::Statement, args: &[Arg<'_>]) -> Result<usize> {
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        Ok(self.client.borrow_mut().execute(statement, &refs)? as usize)
    }

    pub fn query(&self, statement: &postgres::Statement, args: &[Arg<'_>]) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        Ok(self.client.borrow_mut().query(statement, &refs)?)
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// A write transaction: READ COMMITTED, so that each statement sees every earlier
    /// commit, and the workspace's writer lock, so that writes run one at a time across
    /// every hub process, as on SQLite. The lock goes with the transaction (or with the
    /// connection of a process that dies).
    pub fn begin_write(&self) -> Result<()> {
        self.batch(&format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {WRITER});"
        ))
    }
}

/// `?N` placeholders as `$N` (and a bare `?` as the next number), outside quotes.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut next = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    next += 1;
                    digits = next.to_string();
                }
                out.push('$');
                out.push_str(&digits);
            }
            (None, c) => out.push(c),
        }
    }
    out
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// An argument as the type PostgreSQL gave its placeholder: SQLite takes any value in
/// any column, and the store's statements are written for it.
impl ToSql for Arg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> std::result::Result<IsNull, BoxError> {
        let text = |t: &str, out: &mut bytes::BytesMut| t.to_sql(&Type::TEXT, out);
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => text(&i.to_string(), out),
                _ => Err(format!("an integer cannot be sent as {ty}").into()),
            },
            Arg::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => text(&r.to_string(), out),
                _ => Err(format!("a real cannot be sent as {ty}").into()),
            },
            Arg::Text(t) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => text(t, out),
                Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
                _ => Err(format!("text cannot be sent as {ty}").into()),
            },
            Arg::Blob(b) => match *ty {
                Type::BYTEA => b.as_ref().to_sql(ty, out),
                _ => Err(format!("a blob cannot be sent as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Column `i` of `row` as one of SQLite's five kinds.
pub fn cell(row: &postgres::Row, i: usize) -> Result<ValueRef<'_>> {
    let column = row.columns().get(i).ok_or_else(|| SqlError::conversion(format!("there is no column {i}")))?;
    Ok(match *column.type_() {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(ValueRef::Null, ValueRef::Integer),
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map_or(ValueRef::Null, |v| ValueRef::Integer(v.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map_or(ValueRef::Null, |v| ValueRef::Integer(v.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map_or(ValueRef::Null, |v| ValueRef::Integer(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map_or(ValueRef::Null, ValueRef::Real),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map_or(ValueRef::Null, |v| ValueRef::Real(v.into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            row.try_get::<_, Option<&str>>(i)?.map_or(ValueRef::Null, ValueRef::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<&[u8]>>(i)?.map_or(ValueRef::Null, ValueRef::Blob),
        ref other => {
            return Err(SqlError::conversion(format!(
                "column {} is of type {other}, which the store does not read (cast it)",
                column.name()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_numbered_outside_quotes_only() {
        assert_eq!(
            placeholders("SELECT ?1, ?2 + ?1 FROM t WHERE a = '?3' AND \"b?\" = ?"),
            "SELECT $1, $2 + $1 FROM t WHERE a = '?3' AND \"b?\" = $1"
        );
    }
}
