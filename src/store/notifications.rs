//! The notification outbox: channels, notifications (each once, by idempotency key) and their
//! deliveries, claimed by a lease so several dispatchers share the work without a lock.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::Store;
use super::entities::{notification, notification_channel as channel, notification_delivery as delivery};
use crate::notify::Notification;

/// Candidates fanned out to a channel per look.
const FAN_OUT_BATCH: u64 = 1_000;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered,
    /// Failed; tried again at `at`.
    Retry {
        error: String,
        at: DateTime<Utc>,
    },
    /// Failed for the last time.
    GiveUp {
        error: String,
    },
}

/// A delivery as the dispatcher and the API see it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryView {
    pub delivery: delivery::Model,
    pub kind: String,
    pub subject: String,
    pub payload: String,
}

impl Store {
    pub async fn notification_channels(&self) -> Result<Vec<channel::Model>, sea_orm::DbErr> {
        channel::Entity::find()
            .order_by_asc(channel::Column::CreatedAt)
            .all(&self.db)
            .await
    }

    /// Adds a channel, or (for the configured MQTT broker) updates its address and kinds while
    /// keeping when it was first added: what it takes counts from then.
    pub async fn put_notification_channel(&self, row: channel::Model) -> Result<(), sea_orm::DbErr> {
        let active = channel::ActiveModel {
            channel_id: Set(row.channel_id),
            kind: Set(row.kind),
            url: Set(row.url),
            secret: Set(row.secret),
            events: Set(row.events),
            created_at: Set(row.created_at),
        };
        channel::Entity::insert(active)
            .on_conflict(
                OnConflict::column(channel::Column::ChannelId)
                    .update_columns([channel::Column::Url, channel::Column::Secret, channel::Column::Events])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Removes a channel and the deliveries still waiting for it; false if there is none.
    pub async fn remove_notification_channel(&self, id: &str) -> Result<bool, sea_orm::DbErr> {
        delivery::Entity::delete_many()
            .filter(delivery::Column::ChannelId.eq(id))
            .filter(delivery::Column::Status.eq(PENDING))
            .exec(&self.db)
            .await?;
        Ok(channel::Entity::delete_by_id(id).exec(&self.db).await?.rows_affected == 1)
    }

    /// Puts notifications in the outbox; one already there (same id) is left as it is. Returns
    /// how many were new.
    pub async fn enqueue_notifications(&self, notes: &[Notification]) -> Result<usize, sea_orm::DbErr> {
        let mut added = 0;
        // Six values a row: well under either database's limit on bound values.
        for chunk in notes.chunks(500) {
            let mut insert = Query::insert();
            insert.into_table(notification::Entity).columns([
                notification::Column::NotificationId,
                notification::Column::Kind,
                notification::Column::Subject,
                notification::Column::PersonId,
                notification::Column::Payload,
                notification::Column::CreatedAt,
            ]);
            for note in chunk {
                insert.values_panic([
                    note.id.into(),
                    note.kind.as_str().into(),
                    note.subject.as_str().into(),
                    note.person_id.clone().into(),
                    note.document().to_string().into(),
                    note.created_at.into(),
                ]);
            }
            insert.on_conflict(
                OnConflict::column(notification::Column::NotificationId)
                    .do_nothing()
                    .to_owned(),
            );
            added += self.db.execute(&insert).await?.rows_affected() as usize;
        }
        Ok(added)
    }

    /// Gives `channel` a delivery of each notification of `kinds` made since it was added that it
    /// has none of yet. Returns how many were added.
    pub async fn fan_out(
        &self,
        channel: &channel::Model,
        kinds: &[&str],
        now: DateTime<Utc>,
    ) -> Result<u64, sea_orm::DbErr> {
        let mut has = Query::select();
        has.expr(Expr::val(1))
            .from(delivery::Entity)
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::NotificationId))
                    .equals((notification::Entity, notification::Column::NotificationId)),
            )
            .and_where(Expr::col((delivery::Entity, delivery::Column::ChannelId)).eq(channel.channel_id.as_str()));
        let waiting: Vec<Uuid> = notification::Entity::find()
            .select_only()
            .column(notification::Column::NotificationId)
            .filter(notification::Column::Kind.is_in(kinds.iter().copied()))
            .filter(notification::Column::CreatedAt.gte(channel.created_at))
            .filter(Expr::exists(has).not())
            .order_by_asc(notification::Column::CreatedAt)
            .limit(FAN_OUT_BATCH)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut added = 0;
        for id in waiting {
            let row = delivery::ActiveModel {
                delivery_id: Set(Uuid::new_v5(&id, channel.channel_id.as_bytes())),
                notification_id: Set(id),
                channel_id: Set(channel.channel_id.clone()),
                status: Set(PENDING.into()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                updated_at: Set(now),
            };
            let inserted = delivery::Entity::insert(row)
                .on_conflict(OnConflict::column(delivery::Column::DeliveryId).do_nothing().to_owned())
                .exec_without_returning(&self.db)
                .await?;
            added += inserted;
        }
        Ok(added)
    }

    /// Claims up to `limit` deliveries due at `now` for `lease`: another dispatcher skips them
    /// until the lease runs out (a dispatcher that dies mid-delivery leaves them to the next).
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::TimeDelta,
        limit: u64,
    ) -> Result<Vec<DeliveryView>, sea_orm::DbErr> {
        let due = delivery::Entity::find()
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for d in due {
            // Only if nobody claimed it since it was read.
            let taken = delivery::Entity::update_many()
                .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + lease))
                .filter(delivery::Column::DeliveryId.eq(d.delivery_id))
                .filter(delivery::Column::NextAttemptAt.eq(d.next_attempt_at))
                .filter(delivery::Column::Status.eq(PENDING))
                .exec(&self.db)
                .await?;
            if taken.rows_affected != 1 {
                continue;
            }
            // None: erased meanwhile.
            claimed.extend(self.view_of(d).await?);
        }
        Ok(claimed)
    }

    /// Records what an attempt at `delivery` came to.
    pub async fn record_attempt(
        &self,
        delivery: Uuid,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let (status, error, next) = match attempt {
            Attempt::Delivered => (DELIVERED, None, now),
            Attempt::Retry { error, at } => (PENDING, Some(error.clone()), *at),
            Attempt::GiveUp { error } => (FAILED, Some(error.clone()), now),
        };
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(status))
            .col_expr(delivery::Column::Attempts, Expr::col(delivery::Column::Attempts).add(1))
            .col_expr(delivery::Column::LastError, Expr::value(error))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(next))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::DeliveryId.eq(delivery))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Deliveries with `status` (any when `None`), newest change first.
    pub async fn notification_deliveries(
        &self,
        status: Option<&str>,
        limit: u64,
    ) -> Result<Vec<DeliveryView>, sea_orm::DbErr> {
        let mut find = delivery::Entity::find();
        if let Some(status) = status {
            find = find.filter(delivery::Column::Status.eq(status));
        }
        let rows = find
            .order_by_desc(delivery::Column::UpdatedAt)
            .order_by_asc(delivery::Column::DeliveryId)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for d in rows {
            out.extend(self.view_of(d).await?);
        }
        Ok(out)
    }

    /// A delivery with its notification, unless the notification is gone (erased).
    async fn view_of(&self, delivery: delivery::Model) -> Result<Option<DeliveryView>, sea_orm::DbErr> {
        let note = notification::Entity::find_by_id(delivery.notification_id)
            .one(&self.db)
            .await?;
        Ok(note.map(|note| DeliveryView {
            delivery,
            kind: note.kind,
            subject: note.subject,
            payload: note.payload,
        }))
    }

    /// Sends a failed delivery round again from its first attempt; false if it is not failed.
    pub async fn retry_delivery(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
        let updated = delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(PENDING))
            .col_expr(delivery::Column::Attempts, Expr::value(0))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::DeliveryId.eq(id))
            .filter(delivery::Column::Status.eq(FAILED))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Deliveries per (channel kind, status), for the metrics.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, String, u64)>, sea_orm::DbErr> {
        let channels: std::collections::HashMap<String, String> = self
            .notification_channels()
            .await?
            .into_iter()
            .map(|c| (c.channel_id, c.kind))
            .collect();
        let rows: Vec<(String, String, i64)> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::ChannelId)
            .column(delivery::Column::Status)
            .column_as(delivery::Column::DeliveryId.count(), "n")
            .group_by(delivery::Column::ChannelId)
            .group_by(delivery::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut counts: std::collections::BTreeMap<(String, String), u64> = Default::default();
        for (channel, status, n) in rows {
            let kind = channels.get(&channel).cloned().unwrap_or_else(|| "removed".into());
            *counts.entry((kind, status)).or_default() += n as u64;
        }
        Ok(counts.into_iter().map(|((k, s), n)| (k, s, n)).collect())
    }
}

/// Erasure: the person's notifications and their deliveries, sent or not. Returns how many
/// notifications went.
pub(super) async fn erase_notifications(txn: &impl ConnectionTrait, person: &str) -> Result<u64, sea_orm::DbErr> {
    let ids: Vec<Uuid> = notification::Entity::find()
        .select_only()
        .column(notification::Column::NotificationId)
        .filter(notification::Column::PersonId.eq(person))
        .into_tuple()
        .all(txn)
        .await?;
    for chunk in ids.chunks(1_000) {
        delivery::Entity::delete_many()
            .filter(delivery::Column::NotificationId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(notification::Entity::delete_many()
        .filter(notification::Column::PersonId.eq(person))
        .exec(txn)
        .await?
        .rows_affected)
}
