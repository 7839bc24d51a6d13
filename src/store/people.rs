//! People and their face templates; the templates of one model, for a gallery.

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::Store;
use super::entities::{face_template, person};
use crate::domain::{Embedding, PersonId, Template};

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

const TEMPLATE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x2f0b_58c4_7d1e_4a93_b6a0_5e3c_91d2_7f48);

/// The INSERT of one `people` row created now; callers choose what a conflict does.
pub(super) fn person_row(id: &PersonId, display_name: &str) -> sea_orm::sea_query::InsertStatement {
    let now = super::now();
    let mut insert = Query::insert();
    insert
        .into_table(person::Entity)
        .columns([
            person::Column::Id,
            person::Column::DisplayName,
            person::Column::CreatedAt,
            person::Column::UpdatedAt,
        ])
        .values_panic([id.as_str().into(), display_name.into(), now.into(), now.into()]);
    insert
}

impl Store {
    /// Creates the person or renames them, and adds templates, in one transaction.
    /// Returns how many templates were new.
    pub async fn enrol(
        &self,
        id: &PersonId,
        display_name: &str,
        model_id: &str,
        templates: &[NewTemplate],
    ) -> Result<Vec<bool>, sea_orm::DbErr> {
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
                .values_panic([
                    template_id.into(),
                    id.as_str().into(),
                    model_id.into(),
                    t.embedding.to_bytes().into(),
                    t.quality.into(),
                    t.source.as_str().into(),
                    now.into(),
                ])
                .on_conflict(OnConflict::column(face_template::Column::Id).do_nothing().to_owned());
            added.push(txn.execute(&insert).await?.rows_affected() > 0);
        }
        // The person's cached record (name, template count) changed with it.
        super::changes::bump(&txn, &[crate::cache::keys::person(id.as_str())]).await?;
        txn.commit().await?;
        Ok(added)
    }

    /// Every template of `model_id`. Templates of other models are left out: their embeddings
    /// live in another space and cannot be compared.
    pub async fn templates(&self, model_id: &str) -> anyhow::Result<Vec<Template>> {
        let rows = face_template::Entity::find()
            .filter(face_template::Column::ModelId.eq(model_id))
            .all(&self.db)
            .await?;
        let mut templates = Vec::with_capacity(rows.len());
        for row in rows {
            let person = PersonId::parse(row.person_id.clone())?;
            let embedding =
                Embedding::from_bytes(&row.embedding).map_err(|e| anyhow::anyhow!("template {}: {e}", row.id))?;
            templates.push(Template { person, embedding });
        }
        Ok(templates)
    }

    pub async fn people(&self) -> Result<Vec<person::Model>, sea_orm::DbErr> {
        person::Entity::find().all(&self.db).await
    }
}
