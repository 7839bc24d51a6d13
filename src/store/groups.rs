//! Groups, memberships and session schedules. Every change bumps the group's cache generation in
//! the same transaction, so cached session reports of the group move on with it.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::Store;
use super::entities::{group, group_member, person, session_schedule};
use crate::cache::keys;

/// One membership period; open ends are unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Period {
    pub fn overlaps(&self, other: &Period) -> bool {
        let starts_before_other_ends = match (self.from, other.until) {
            (Some(from), Some(until)) => from <= until,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.from, self.until) {
            (Some(from), Some(until)) => from <= until,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_this_ends
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.until.is_none_or(|u| day <= u)
    }
}

/// What a membership change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    Added {
        id: Uuid,
        generations: Vec<(String, i64)>,
    },
    NoGroup,
    NoPerson,
    /// The person is already a member over part of that period.
    Overlaps(Period),
}

/// What deleting a group did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupDeletion {
    Deleted {
        generations: Vec<(String, i64)>,
    },
    NotFound,
    /// Schedules must be deleted first: their reports would lose their roster.
    HasSchedules(u64),
}

fn period_of(m: &group_member::Model) -> Period {
    Period {
        from: m.valid_from,
        until: m.valid_until,
    }
}

impl Store {
    /// Creates a group; false if the id is taken.
    pub async fn create_group(&self, id: &str, name: &str, actor: &str) -> Result<bool, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        if group::Entity::find_by_id(id).one(&txn).await?.is_some() {
            return Ok(false);
        }
        let now = super::now();
        group::Model {
            id: id.to_owned(),
            name: name.to_owned(),
            created_at: now,
            updated_at: now,
        }
        .into_active_model()
        .insert(&txn)
        .await?;
        super::changes::bump(&txn, &[keys::group(id)]).await?;
        super::changes::audit(&txn, actor, "group.created", id, serde_json::json!({ "name": name })).await?;
        txn.commit().await?;
        Ok(true)
    }

    pub async fn group(&self, id: &str) -> Result<Option<group::Model>, sea_orm::DbErr> {
        group::Entity::find_by_id(id).one(&self.db).await
    }

    pub async fn groups(&self) -> Result<Vec<group::Model>, sea_orm::DbErr> {
        group::Entity::find()
            .order_by_asc(group::Column::Id)
            .all(&self.db)
            .await
    }

    /// Deletes a group and its memberships, unless it has schedules.
    pub async fn delete_group(&self, id: &str, actor: &str) -> Result<GroupDeletion, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        if group::Entity::find_by_id(id).one(&txn).await?.is_none() {
            return Ok(GroupDeletion::NotFound);
        }
        let schedules = session_schedule::Entity::find()
            .filter(session_schedule::Column::GroupId.eq(id))
            .all(&txn)
            .await?
            .len() as u64;
        if schedules > 0 {
            return Ok(GroupDeletion::HasSchedules(schedules));
        }
        let members = group_member::Entity::delete_many()
            .filter(group_member::Column::GroupId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected;
        group::Entity::delete_by_id(id).exec(&txn).await?;
        let generations = super::changes::bump(&txn, &[keys::group(id)]).await?;
        super::changes::audit(
            &txn,
            actor,
            "group.deleted",
            id,
            serde_json::json!({ "memberships_removed": members }),
        )
        .await?;
        txn.commit().await?;
        Ok(GroupDeletion::Deleted { generations })
    }

    /// Adds a membership period, refused when it overlaps one the person already has in the group.
    pub async fn add_member(
        &self,
        group_id: &str,
        person_id: &str,
        period: Period,
        actor: &str,
    ) -> Result<MembershipChange, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        // Locking the group row serialises membership edits of one group (PostgreSQL; SQLite
        // serialises every write anyway), so two overlapping periods cannot both pass the check.
        let locked = group::Entity::find_by_id(group_id).lock_exclusive().one(&txn).await?;
        if locked.is_none() {
            return Ok(MembershipChange::NoGroup);
        }
        if person::Entity::find_by_id(person_id).one(&txn).await?.is_none() {
            return Ok(MembershipChange::NoPerson);
        }
        let existing = group_member::Entity::find()
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::PersonId.eq(person_id))
            .all(&txn)
            .await?;
        if let Some(clash) = existing.iter().map(period_of).find(|p| p.overlaps(&period)) {
            return Ok(MembershipChange::Overlaps(clash));
        }
        let id = Uuid::new_v4();
        group_member::Model {
            id,
            group_id: group_id.to_owned(),
            person_id: person_id.to_owned(),
            valid_from: period.from,
            valid_until: period.until,
        }
        .into_active_model()
        .insert(&txn)
        .await?;
        let generations = super::changes::bump(&txn, &[keys::group(group_id), keys::person(person_id)]).await?;
        super::changes::audit(
            &txn,
            actor,
            "group.member_added",
            group_id,
            serde_json::json!({ "person_id": person_id, "from": period.from, "until": period.until }),
        )
        .await?;
        txn.commit().await?;
        Ok(MembershipChange::Added { id, generations })
    }

    /// Removes every membership period of a person in a group; None if there was none.
    pub async fn remove_member(
        &self,
        group_id: &str,
        person_id: &str,
        actor: &str,
    ) -> Result<Option<Vec<(String, i64)>>, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let removed = group_member::Entity::delete_many()
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::PersonId.eq(person_id))
            .exec(&txn)
            .await?
            .rows_affected;
        if removed == 0 {
            return Ok(None);
        }
        let generations = super::changes::bump(&txn, &[keys::group(group_id), keys::person(person_id)]).await?;
        super::changes::audit(
            &txn,
            actor,
            "group.member_removed",
            group_id,
            serde_json::json!({ "person_id": person_id, "periods_removed": removed }),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(generations))
    }

    /// Every membership period of a group, by person id.
    pub async fn members(&self, group_id: &str) -> Result<Vec<(String, Period)>, sea_orm::DbErr> {
        Ok(group_member::Entity::find()
            .filter(group_member::Column::GroupId.eq(group_id))
            .order_by_asc(group_member::Column::PersonId)
            .order_by_asc(group_member::Column::ValidFrom)
            .all(&self.db)
            .await?
            .iter()
            .map(|m| (m.person_id.clone(), period_of(m)))
            .collect())
    }

    /// The group's members on a local date, sorted, each once.
    pub async fn roster(&self, group_id: &str, day: NaiveDate) -> Result<Vec<String>, sea_orm::DbErr> {
        let mut people: Vec<String> = self
            .members(group_id)
            .await?
            .into_iter()
            .filter(|(_, p)| p.contains(day))
            .map(|(person, _)| person)
            .collect();
        people.dedup();
        Ok(people)
    }

    /// The groups a person belongs to, with each period.
    pub async fn memberships_of(&self, person_id: &str) -> Result<Vec<(String, Period)>, sea_orm::DbErr> {
        Ok(group_member::Entity::find()
            .filter(group_member::Column::PersonId.eq(person_id))
            .order_by_asc(group_member::Column::GroupId)
            .all(&self.db)
            .await?
            .iter()
            .map(|m| (m.group_id.clone(), period_of(m)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn periods_overlap_when_they_share_a_day() {
        let autumn = Period {
            from: day("2026-09-01"),
            until: day("2026-12-31"),
        };
        let spring = Period {
            from: day("2027-01-01"),
            until: None,
        };
        let december = Period {
            from: day("2026-12-31"),
            until: day("2027-01-15"),
        };
        let always = Period {
            from: None,
            until: None,
        };
        assert!(!autumn.overlaps(&spring) && !spring.overlaps(&autumn));
        assert!(autumn.overlaps(&december) && december.overlaps(&spring));
        assert!(always.overlaps(&autumn));
        assert!(autumn.contains("2026-12-31".parse().unwrap()));
        assert!(!autumn.contains("2027-01-01".parse().unwrap()));
    }
}
