//! `erased_people`: a tombstone per erased person (the digest of their id, not the id).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "erased_people")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_digest: String,
    pub erased_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
