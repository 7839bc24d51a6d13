//! Web console sessions: opened at sign-in, looked up on every console request, closed at
//! sign-out; expired ones are swept whenever a session is opened.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::Store;
use super::entities::console_session as session;

/// A signed-in console session: the API key it speaks for and its forms' token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub key_name: String,
    pub form_token: String,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Stores a session under the digest of its cookie's secret, first sweeping the expired ones.
    pub async fn open_console_session(
        &self,
        digest: &str,
        session: &ConsoleSession,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        session::Entity::insert(session::ActiveModel {
            digest: Set(digest.to_owned()),
            key_name: Set(session.key_name.clone()),
            form_token: Set(session.form_token.clone()),
            created_at: Set(now),
            expires_at: Set(session.expires_at),
        })
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// The session of a cookie's digest, unless it has expired.
    pub async fn console_session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsoleSession>, sea_orm::DbErr> {
        let row = session::Entity::find_by_id(digest.to_owned())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        Ok(row.map(|r| ConsoleSession {
            key_name: r.key_name,
            form_token: r.form_token,
            expires_at: r.expires_at,
        }))
    }

    /// Ends a session (sign-out); ending one that is gone is not an error.
    pub async fn close_console_session(&self, digest: &str) -> Result<(), sea_orm::DbErr> {
        session::Entity::delete_by_id(digest.to_owned()).exec(&self.db).await?;
        Ok(())
    }
}
