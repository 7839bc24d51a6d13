//! Copies a whole store into another, table by table, in one transaction on the target, and
//! checks every table's count: `rollcall migrate-store` (the embedded SQLite store into PostgreSQL).

use anyhow::{Context, bail};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Iterable, PaginatorTrait, PrimaryKeyToColumn,
    QueryOrder, TransactionTrait,
};

use super::Store;
use super::entities::{
    attendance_day, attendance_event, attendance_retraction, audit_entry, cache_generation, camera, erased_person,
    face_template, group, group_member, notification, notification_channel, notification_delivery, person,
    person_negative, recognize_anchor, recognize_cooldown, session_schedule, unknown_cluster, unknown_face,
};

/// One table's rows in the source and, after the copy, in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

/// Rows per read and per insert: well under SQLite's and PostgreSQL's parameter limits.
const PAGE: u64 = 500;

async fn count<E: EntityTrait>(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr>
where
    E::Model: Sync,
{
    E::find().count(db).await
}

/// Copies every row of `E`, in primary-key order, page by page.
async fn copy_table<E>(
    table: &'static str,
    from: &Store,
    to: &impl ConnectionTrait,
) -> Result<TableCopy, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    let mut pages = query.paginate(from.connection(), PAGE);
    while let Some(rows) = pages.fetch_and_next().await? {
        let rows: Vec<E::ActiveModel> = rows.into_iter().map(IntoActiveModel::into_active_model).collect();
        E::insert_many(rows)
            .on_conflict_do_nothing()
            .exec_without_returning(to)
            .await?;
    }
    Ok(TableCopy {
        table,
        source: count::<E>(from.connection()).await?,
        target: count::<E>(to).await?,
    })
}

/// Every table of the schema, parents before children.
async fn copy_all(from: &Store, to: &impl ConnectionTrait) -> Result<Vec<TableCopy>, sea_orm::DbErr> {
    Ok(vec![
        copy_table::<person::Entity>("people", from, to).await?,
        copy_table::<camera::Entity>("cameras", from, to).await?,
        copy_table::<face_template::Entity>("face_templates", from, to).await?,
        copy_table::<attendance_event::Entity>("attendance_events", from, to).await?,
        copy_table::<attendance_day::Entity>("attendance_days", from, to).await?,
        copy_table::<attendance_retraction::Entity>("attendance_retractions", from, to).await?,
        copy_table::<cache_generation::Entity>("cache_generations", from, to).await?,
        copy_table::<recognize_cooldown::Entity>("recognize_cooldowns", from, to).await?,
        copy_table::<recognize_anchor::Entity>("recognize_anchors", from, to).await?,
        copy_table::<audit_entry::Entity>("audit_log", from, to).await?,
        copy_table::<erased_person::Entity>("erased_people", from, to).await?,
        copy_table::<group::Entity>("groups", from, to).await?,
        copy_table::<group_member::Entity>("group_members", from, to).await?,
        copy_table::<session_schedule::Entity>("session_schedules", from, to).await?,
        copy_table::<unknown_cluster::Entity>("unknown_clusters", from, to).await?,
        copy_table::<unknown_face::Entity>("unknown_faces", from, to).await?,
        copy_table::<person_negative::Entity>("person_negatives", from, to).await?,
        copy_table::<notification_channel::Entity>("notification_channels", from, to).await?,
        copy_table::<notification::Entity>("notifications", from, to).await?,
        copy_table::<notification_delivery::Entity>("notification_deliveries", from, to).await?,
        // Console sessions stay behind: a move is a cut-over, and whoever was signed in signs in again.
    ])
}

/// Copies `from` into `to`, which must be migrated and hold no people, templates or attendance.
/// Either every table arrives with the source's count, or nothing is committed.
pub async fn copy_store(from: &Store, to: &Store) -> anyhow::Result<Vec<TableCopy>> {
    let occupied = [
        ("people", count::<person::Entity>(to.connection()).await?),
        ("face_templates", count::<face_template::Entity>(to.connection()).await?),
        (
            "attendance_events",
            count::<attendance_event::Entity>(to.connection()).await?,
        ),
    ];
    if let Some((table, rows)) = occupied.iter().find(|(_, rows)| *rows > 0) {
        bail!("the target store is not empty ({table} has {rows} rows): migrate into a new database");
    }
    let txn = to.connection().begin().await?;
    let copied = copy_all(from, &txn).await.context("copying the store")?;
    let short: Vec<String> = copied
        .iter()
        .filter(|t| t.source != t.target)
        .map(|t| {
            format!(
                "{}: {} rows in the source, {} in the target",
                t.table, t.source, t.target
            )
        })
        .collect();
    if !short.is_empty() {
        txn.rollback().await?;
        bail!("the copy does not match, nothing was kept: {}", short.join("; "));
    }
    txn.commit().await?;
    Ok(copied)
}
