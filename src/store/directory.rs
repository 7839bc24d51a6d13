//! The people directory as the API manages it: create, read, list by cursor, rename, erase.
//! Every change that cached reads depend on bumps their generations in the same transaction.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::Store;
use super::entities::{
    attendance_day, attendance_event, attendance_retraction, face_template, group_member, person, session_schedule,
};
use crate::cache::keys;
use crate::domain::PersonId;

/// A person with the number of their templates.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonEntry {
    pub person: person::Model,
    pub templates: u64,
}

/// What erasing a person removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub templates: u64,
    pub events: u64,
    pub days: u64,
    pub audit_id: Uuid,
    /// Every cache key family that showed something about the person (each generation of
    /// these goes), and prefixes under which every key goes (their groups' session reports).
    pub cache_families: Vec<String>,
    pub cache_prefixes: Vec<String>,
    /// The gallery's generation this erasure committed (`cache::keys::gallery`).
    pub gallery_generation: i64,
}

impl Store {
    /// Creates a person; false if the id is taken.
    pub async fn create_person(&self, id: &PersonId, display_name: &str) -> Result<bool, sea_orm::DbErr> {
        let mut insert = super::people::person_row(id, display_name);
        insert.on_conflict(OnConflict::column(person::Column::Id).do_nothing().to_owned());
        let txn = self.db.begin().await?;
        if txn.execute(&insert).await?.rows_affected() == 0 {
            return Ok(false);
        }
        // A reader may have cached "no such person".
        super::changes::bump(&txn, &[keys::person(id.as_str())]).await?;
        txn.commit().await?;
        Ok(true)
    }

    pub async fn person(&self, id: &PersonId) -> Result<Option<PersonEntry>, sea_orm::DbErr> {
        let Some(person) = person::Entity::find_by_id(id.as_str()).one(&self.db).await? else {
            return Ok(None);
        };
        let mut counts = self.template_counts(std::slice::from_ref(&person.id)).await?;
        let templates = counts.remove(&person.id).unwrap_or(0);
        Ok(Some(PersonEntry { person, templates }))
    }

    /// Up to `limit` people with ids after `after`, by id; only those whose id or name contains
    /// `containing` (any case) when it is given.
    pub async fn list_people(
        &self,
        after: Option<&str>,
        limit: u64,
        containing: Option<&str>,
    ) -> Result<Vec<PersonEntry>, sea_orm::DbErr> {
        let mut query = person::Entity::find().order_by_asc(person::Column::Id).limit(limit);
        if let Some(after) = after {
            query = query.filter(person::Column::Id.gt(after));
        }
        if let Some(text) = containing.filter(|t| !t.is_empty()) {
            // Case-insensitive on both stores: lower() on each side, the text's own wildcards escaped.
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\');
            let lower = |column: person::Column| Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(column)));
            query = query.filter(
                sea_orm::Condition::any()
                    .add(lower(person::Column::Id).like(pattern.clone()))
                    .add(lower(person::Column::DisplayName).like(pattern)),
            );
        }
        let people = query.all(&self.db).await?;
        let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
        let counts = self.template_counts(&ids).await?;
        Ok(people
            .into_iter()
            .map(|person| PersonEntry {
                templates: counts.get(&person.id).copied().unwrap_or(0),
                person,
            })
            .collect())
    }

    async fn template_counts(&self, ids: &[String]) -> Result<HashMap<String, u64>, sea_orm::DbErr> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, i64)> = face_template::Entity::find()
            .select_only()
            .column(face_template::Column::PersonId)
            .column_as(face_template::Column::Id.count(), "n")
            .filter(face_template::Column::PersonId.is_in(ids.iter().map(String::as_str)))
            .group_by(face_template::Column::PersonId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(id, n)| (id, n as u64)).collect())
    }

    /// Renames a person; None if there is no such person, else the changed cache generations.
    pub async fn rename_person(
        &self,
        id: &PersonId,
        display_name: &str,
        actor: &str,
    ) -> Result<Option<Vec<(String, i64)>>, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let updated = person::Entity::update_many()
            .col_expr(person::Column::DisplayName, Expr::value(display_name))
            .col_expr(person::Column::UpdatedAt, Expr::value(super::now()))
            .filter(person::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        // Day lists show display names too.
        let changed = keys_about(&txn, id).await?;
        let generations = super::changes::bump(&txn, &changed).await?;
        super::changes::audit(
            &txn,
            actor,
            "person.renamed",
            id.as_str(),
            serde_json::json!({ "display_name": display_name }),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(generations))
    }

    /// Erases a person: templates, cooldown entries, the person, and (if asked) their attendance,
    /// with an audit entry, in one transaction. None if there is no such person.
    pub async fn erase_person(
        &self,
        id: &PersonId,
        erase_attendance: bool,
        actor: &str,
    ) -> Result<Option<Erasure>, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        if erase_attendance {
            super::erased::lock_for_erasure(&txn).await?;
        }
        if person::Entity::find_by_id(id.as_str()).one(&txn).await?.is_none() {
            return Ok(None);
        }
        let templates = face_template::Entity::delete_many()
            .filter(face_template::Column::PersonId.eq(id.as_str()))
            .exec(&txn)
            .await?
            .rows_affected;
        let mut cooldowns = Query::delete();
        cooldowns
            .from_table(Alias::new("recognize_cooldowns"))
            .and_where(Expr::col(Alias::new("person_id")).eq(id.as_str()));
        txn.execute(&cooldowns).await?;
        // Read before the days are deleted: every cached read that showed them must move on.
        let changed = keys_about(&txn, id).await?;
        let cache_prefixes = session_report_prefixes(&txn, id).await?;
        let (mut events, mut days_removed) = (0, 0);
        if erase_attendance {
            super::erased::record_erasure(&txn, id.as_str(), super::now()).await?;
            events = attendance_event::Entity::delete_many()
                .filter(attendance_event::Column::PersonId.eq(id.as_str()))
                .exec(&txn)
                .await?
                .rows_affected;
            days_removed = attendance_day::Entity::delete_many()
                .filter(attendance_day::Column::PersonId.eq(id.as_str()))
                .exec(&txn)
                .await?
                .rows_affected;
            // Their retractions name them and their reasons; the tombstone drops any event to come.
            attendance_retraction::Entity::delete_many()
                .filter(attendance_retraction::Column::PersonId.eq(id.as_str()))
                .exec(&txn)
                .await?;
        }
        group_member::Entity::delete_many()
            .filter(group_member::Column::PersonId.eq(id.as_str()))
            .exec(&txn)
            .await?;
        let (unknown_faces, unknown_clusters) = super::review_decisions::erase_assigned(&txn, id).await?;
        let negatives = super::negatives::erase_negatives(&txn, id).await?;
        let notifications = super::notifications::erase_notifications(&txn, id.as_str()).await?;
        person::Entity::delete_by_id(id.as_str()).exec(&txn).await?;
        // Readers move on even if Redis misses the purge below; the purge removes every
        // generation, so the new ones need not be handed back.
        let gallery = keys::gallery();
        let generations =
            super::changes::bump(&txn, &[changed.as_slice(), std::slice::from_ref(&gallery)].concat()).await?;
        let gallery_generation = super::changes::generation_of(&generations, &gallery);
        let mut cache_families = changed;
        cache_families.push(keys::person_sessions(id.as_str()));
        let details = serde_json::json!({
            "templates_removed": templates,
            "attendance_events_removed": events,
            "attendance_days_removed": days_removed,
            "attendance_kept": !erase_attendance,
            "review_faces_removed": unknown_faces,
            "review_clusters_removed": unknown_clusters,
            "negatives_removed": negatives,
            "notifications_removed": notifications,
        });
        let audit_id = super::changes::audit(&txn, actor, "person.erased", id.as_str(), details).await?;
        txn.commit().await?;
        Ok(Some(Erasure {
            templates,
            events,
            days: days_removed,
            audit_id,
            cache_families,
            cache_prefixes,
            gallery_generation,
        }))
    }
}

/// The cache keys whose entries show something about `id`: their record, each day they
/// attended (day lists and daily stats) and their groups. Sorted, without repeats.
async fn keys_about(txn: &DatabaseTransaction, id: &PersonId) -> Result<Vec<String>, sea_orm::DbErr> {
    let days: Vec<NaiveDate> = attendance_day::Entity::find()
        .select_only()
        .column(attendance_day::Column::Day)
        .filter(attendance_day::Column::PersonId.eq(id.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    let rows: Vec<(String, NaiveDate)> = days.into_iter().map(|d| (id.to_string(), d)).collect();
    let mut changed = keys::affected_by(&rows);
    changed.push(keys::person(id.as_str()));
    // Their groups' session reports list them.
    let groups: Vec<String> = group_member::Entity::find()
        .select_only()
        .column(group_member::Column::GroupId)
        .filter(group_member::Column::PersonId.eq(id.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    changed.extend(groups.iter().map(|g| keys::group(g)));
    changed.sort();
    changed.dedup();
    Ok(changed)
}

/// The cache key prefixes of every session report that can list `id`: those of their groups'
/// schedules, whatever the date (an erasure deletes them all, not only the current generation).
async fn session_report_prefixes(txn: &DatabaseTransaction, id: &PersonId) -> Result<Vec<String>, sea_orm::DbErr> {
    let their_groups = Query::select()
        .column(group_member::Column::GroupId)
        .from(group_member::Entity)
        .and_where(group_member::Column::PersonId.eq(id.as_str()))
        .to_owned();
    let schedules: Vec<String> = session_schedule::Entity::find()
        .select_only()
        .column(session_schedule::Column::Id)
        .filter(session_schedule::Column::GroupId.in_subquery(their_groups))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(schedules.iter().map(|s| keys::session_reports_of(s)).collect())
}
