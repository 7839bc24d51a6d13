//! People and their face templates; the templates of one model, for a gallery.

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::Store;
use super::entities::{face_template, person};
use crate::domain::{Embedding, PersonId};

/// A template to store.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub embedding: Embedding,
    pub quality: f32,
    /// Where it came from (a file name), for audits; never the image itself.
    pub source: String,
    /// sha256 of the photo: enrolling the same photo twice stores one template.
    pub photo_sha256: String,
}

/// What an enrolment stored.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// For each template given, whether it was new (a photo enrolled before adds nothing).
    pub added: Vec<bool>,
    /// The gallery's generation this enrolment committed (`cache::keys::gallery`).
    pub gallery_generation: i64,
}

const TEMPLATE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x2f0b_58c4_7d1e_4a93_b6a0_5e3c_91d2_7f48);

/// The INSERT of one `people` row created now; callers choose what a conflict does.
pub(super) fn person_row(id: &PersonId, display_name: &str) -> sea_orm::sea_query::InsertStatement {
    let now = super::now();
    let mut insert = person_insert();
    insert.values_panic([id.as_str().into(), display_name.into(), now.into(), now.into()]);
    insert
}

/// An INSERT into `people` of (id, display name, created at, updated at) rows.
pub(super) fn person_insert() -> sea_orm::sea_query::InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(person::Entity).columns([
        person::Column::Id,
        person::Column::DisplayName,
        person::Column::CreatedAt,
        person::Column::UpdatedAt,
    ]);
    insert
}

/// An INSERT into `face_templates` of (id, person, model, embedding, quality, source, created
/// at) rows, a template already there kept.
pub(super) fn template_insert() -> sea_orm::sea_query::InsertStatement {
    let mut insert = Query::insert();
    insert
        .into_table(face_template::Entity)
        .columns([
            face_template::Column::Id,
            face_template::Column::PersonId,
            face_template::Column::ModelId,
            face_template::Column::Embedding,
            face_template::Column::Quality,
            face_template::Column::Source,
            face_template::Column::CreatedAt,
        ])
        .on_conflict(OnConflict::column(face_template::Column::Id).do_nothing().to_owned());
    insert
}

impl Store {
    /// Creates the person or renames them, and adds templates, in one transaction.
    pub async fn enrol(
        &self,
        id: &PersonId,
        display_name: &str,
        model_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Enrolment, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let now = super::now();
        let mut upsert = person_row(id, display_name);
        upsert.on_conflict(
            OnConflict::column(person::Column::Id)
                .update_columns([person::Column::DisplayName, person::Column::UpdatedAt])
                .to_owned(),
        );
        txn.execute(&upsert).await?;
        let mut added = Vec::with_capacity(templates.len());
        for t in templates {
            let template_id = Uuid::new_v5(
                &TEMPLATE_ID_NAMESPACE,
                format!("{id}/{model_id}/{}", t.photo_sha256).as_bytes(),
            );
            let mut insert = template_insert();
            insert.values_panic([
                template_id.into(),
                id.as_str().into(),
                model_id.into(),
                t.embedding.to_bytes().into(),
                t.quality.into(),
                t.source.as_str().into(),
                now.into(),
            ]);
            added.push(txn.execute(&insert).await?.rows_affected() > 0);
        }
        // The person's cached record (name, template count) changed with it, and the gallery.
        let gallery = crate::cache::keys::gallery();
        let generations =
            super::changes::bump(&txn, &[crate::cache::keys::person(id.as_str()), gallery.clone()]).await?;
        txn.commit().await?;
        Ok(Enrolment {
            added,
            gallery_generation: super::changes::generation_of(&generations, &gallery),
        })
    }

    pub async fn people(&self) -> Result<Vec<person::Model>, sea_orm::DbErr> {
        person::Entity::find().all(&self.db).await
    }
}
