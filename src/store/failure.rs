//! Whether a failed write can ever succeed: data and constraint errors are the data's fault and
//! fail again every time; anything else (a connection lost, a timeout, a deadlock, the disk
//! full) may pass on a retry.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr};

/// True when the database refused the data itself: SQLSTATE class 22 (data exception) or 23
/// (integrity constraint violation) on PostgreSQL, a constraint violation on SQLite.
pub fn is_permanent(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = error else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(database) = e.deref() else {
        return false;
    };
    if !matches!(database.kind(), sea_orm::sqlx::error::ErrorKind::Other) {
        return true;
    }
    let postgres = database
        .try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
        .is_some();
    let code = database.code().unwrap_or_default();
    postgres && (code.starts_with("22") || code.starts_with("23"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_not_permanent() {
        let closed = DbErr::Conn(RuntimeErr::Internal("connection closed".into()));
        assert!(!is_permanent(&closed));
        let pool = DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::PoolTimedOut,
        )));
        assert!(!is_permanent(&pool));
    }
}
