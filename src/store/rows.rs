//! Many rows in one INSERT: a VALUES list on SQLite; on PostgreSQL one array per column, sent as
//! a single text parameter in PostgreSQL's array syntax and unnested by the server, so that a
//! batch of thousands of rows is a dozen parameters, parsed as cheaply as COPY's text format,
//! instead of one bound value per field.

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseBackend;
use sea_orm::sea_query::{Expr, InsertStatement, Query, Value};
use uuid::Uuid;

/// How many rows one statement takes on `backend`: SQLite is bounded by its 32,766 bind
/// parameters (rows of up to 14 columns here), PostgreSQL only by the memory a chunk holds,
/// which this keeps at a few megabytes whatever the batch size.
pub(super) fn rows_per_statement(backend: DatabaseBackend) -> usize {
    match backend {
        DatabaseBackend::Postgres => 10_000,
        _ => 1_000,
    }
}

/// One field of a row.
pub(super) trait Cell {
    fn value(&self) -> Value;
    /// Appends the field as an element of a PostgreSQL array literal.
    fn write_element(&self, out: &mut String);
}

/// The rows of one INSERT, gathered column by column on PostgreSQL and row by row on SQLite.
pub(super) struct Rows {
    backend: DatabaseBackend,
    /// PostgreSQL's type of each column (`uuid`, `text`, `timestamptz`, …).
    types: &'static [&'static str],
    arrays: Vec<String>,
    values: Vec<Vec<Expr>>,
}

impl Rows {
    pub(super) fn new(backend: DatabaseBackend, types: &'static [&'static str]) -> Self {
        Self {
            backend,
            types,
            arrays: types.iter().map(|_| String::from("{")).collect(),
            values: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, row: &[&dyn Cell]) {
        debug_assert_eq!(row.len(), self.types.len());
        if self.backend != DatabaseBackend::Postgres {
            self.values
                .push(row.iter().map(|cell| Expr::val(cell.value())).collect());
            return;
        }
        for (array, cell) in self.arrays.iter_mut().zip(row) {
            if array.len() > 1 {
                array.push(',');
            }
            cell.write_element(array);
        }
    }

    /// Sets the rows as the insert's source.
    pub(super) fn into(self, insert: &mut InsertStatement) -> Result<(), sea_orm::DbErr> {
        if self.backend != DatabaseBackend::Postgres {
            for row in self.values {
                insert.values(row).map_err(mismatch)?;
            }
            return Ok(());
        }
        // Several set-returning functions in one select list advance together (PostgreSQL 10 and
        // later), so `SELECT unnest($1), unnest($2), …` gives back the rows as they were.
        let mut select = Query::select();
        select.exprs(self.types.iter().zip(self.arrays).map(|(ty, mut array)| {
            array.push('}');
            Expr::cust_with_values(format!("unnest(CAST($1 AS {ty}[]))"), [array])
        }));
        insert.select_from(select).map_err(mismatch)?;
        Ok(())
    }
}

fn mismatch(e: sea_orm::sea_query::error::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("rows do not fit the insert's columns: {e}"))
}

impl Cell for &str {
    fn value(&self) -> Value {
        (*self).into()
    }

    fn write_element(&self, out: &mut String) {
        out.push('"');
        for c in self.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
}

/// Numbers and ids, written as they print.
macro_rules! plain_cell {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn value(&self) -> Value {
                (*self).into()
            }

            fn write_element(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

// f32 prints the shortest text that reads back as the same float (PostgreSQL's `real` too).
plain_cell!(i16, i32, i64, f32, Uuid, NaiveDate);

impl Cell for DateTime<Utc> {
    fn value(&self) -> Value {
        (*self).into()
    }

    fn write_element(&self, out: &mut String) {
        // Microseconds, truncated, as PostgreSQL keeps them (and as the binary encoding does).
        let _ = write!(out, "\"{}\"", self.format("%Y-%m-%d %H:%M:%S%.6f+00"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_elements_are_quoted_and_escaped() {
        let mut rows = Rows::new(DatabaseBackend::Postgres, &["text", "real", "timestamptz"]);
        let at: DateTime<Utc> = "2026-11-22T08:00:00.123456789Z".parse().unwrap();
        rows.push(&[&r#"a"b\c,{d}"#, &0.4f32, &at]);
        rows.push(&[&"plain", &1.5e-7f32, &at]);
        assert_eq!(rows.arrays[0], r#"{"a\"b\\c,{d}","plain""#);
        assert_eq!(rows.arrays[1], "{0.4,0.00000015");
        assert_eq!(
            rows.arrays[2],
            r#"{"2026-11-22 08:00:00.123456+00","2026-11-22 08:00:00.123456+00""#
        );
    }
}
