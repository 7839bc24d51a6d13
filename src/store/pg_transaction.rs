//! A PostgreSQL transaction that sea-orm's queries run in (it is a `ConnectionTrait`) and that
//! can also take a `COPY … FROM STDIN`, which sea-orm's own transaction cannot: the projector
//! copies a batch's events and folds its days in one transaction.

use std::sync::Arc;

use sea_orm::sea_query::Values;
use sea_orm::sqlx::{self, Executor, Postgres, postgres::PgPool};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;
use uuid::Uuid;

pub(super) struct PgTransaction {
    // sea-orm's calls borrow the transaction shared; the lock serialises them, as they would be
    // on the one connection anyway.
    transaction: Mutex<sqlx::Transaction<'static, Postgres>>,
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query(statement: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = statement.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(statement.sql.as_str()), SqlxValues(values))
}

impl PgTransaction {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, DbErr> {
        let transaction = pool
            .begin()
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
        Ok(Self {
            transaction: Mutex::new(transaction),
        })
    }

    /// Runs `statement` (a `COPY … FROM STDIN`) with `data` as its input; returns the rows copied.
    pub(super) async fn copy_in(&self, statement: &str, data: Vec<u8>) -> Result<u64, DbErr> {
        let mut transaction = self.transaction.lock().await;
        let connection: &mut sqlx::PgConnection = &mut transaction;
        let mut copy = connection.copy_in_raw(statement).await.map_err(exec_err)?;
        if let Err(e) = copy.send(data).await {
            // Tell the server, so that the connection is usable for the rollback.
            let _ = copy.abort("the client failed to send").await;
            return Err(exec_err(e));
        }
        copy.finish().await.map_err(exec_err)
    }

    /// The ids `sql` selects given `ids` as its one parameter, a `uuid[]` sent in binary (a text
    /// array of thousands of ids costs the server milliseconds to parse).
    pub(super) async fn select_ids(&self, sql: &str, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
        let mut transaction = self.transaction.lock().await;
        sqlx::query_scalar::<_, Uuid>(sqlx::AssertSqlSafe(sql))
            .bind(ids)
            .fetch_all(&mut **transaction)
            .await
            .map_err(query_err)
    }

    pub(super) async fn commit(self) -> Result<(), DbErr> {
        self.transaction.into_inner().commit().await.map_err(exec_err)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PgTransaction {
    fn get_database_backend(&self) -> DatabaseBackend {
        DatabaseBackend::Postgres
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        let mut transaction = self.transaction.lock().await;
        let result = query(&statement).execute(&mut **transaction).await.map_err(exec_err)?;
        Ok(result.into())
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut transaction = self.transaction.lock().await;
        let result = transaction
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .map_err(exec_err)?;
        Ok(result.into())
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut transaction = self.transaction.lock().await;
        let row = query(&statement)
            .fetch_optional(&mut **transaction)
            .await
            .map_err(query_err)?;
        Ok(row.map(Into::into))
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut transaction = self.transaction.lock().await;
        let rows = query(&statement)
            .fetch_all(&mut **transaction)
            .await
            .map_err(query_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
