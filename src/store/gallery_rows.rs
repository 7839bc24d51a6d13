//! The templates a recognizer's gallery is made of: all of a model's, streamed; one person's,
//! for a change; the gallery's generation, for the periodic check; and many at once, for
//! benchmarks and tests that need a gallery of a million.

use futures::TryStreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use uuid::Uuid;

use super::Store;
use super::entities::{face_template, person};
use super::rows::{Cell, Rows, rows_per_statement};
use crate::domain::{Embedding, PersonId};

/// Ids of imported templates: one per person, model and position.
const IMPORTED_TEMPLATE_NAMESPACE: Uuid = Uuid::from_u128(0x6c1d_0e2a_93f4_4b7e_8a51_d2c7_30be_19f6);

impl Store {
    /// Calls `each` with every template of `model_id` (templates of other models live in
    /// another space and cannot be compared), streamed from the database so that a large
    /// gallery is never held twice. Returns how many there were.
    pub async fn each_template(
        &self,
        model_id: &str,
        mut each: impl FnMut(&PersonId, &Embedding),
    ) -> anyhow::Result<usize> {
        let mut rows = face_template::Entity::find()
            .select_only()
            .columns([face_template::Column::PersonId, face_template::Column::Embedding])
            .filter(face_template::Column::ModelId.eq(model_id))
            .into_tuple::<(String, Vec<u8>)>()
            .stream(&self.db)
            .await?;
        let mut count = 0;
        while let Some((person, bytes)) = rows.try_next().await? {
            let person = PersonId::parse(person)?;
            let embedding =
                Embedding::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("a template of {person}: {e}"))?;
            each(&person, &embedding);
            count += 1;
        }
        Ok(count)
    }

    /// The templates of one person for `model_id`.
    pub async fn templates_of(&self, person: &PersonId, model_id: &str) -> anyhow::Result<Vec<Embedding>> {
        let rows: Vec<Vec<u8>> = face_template::Entity::find()
            .select_only()
            .column(face_template::Column::Embedding)
            .filter(face_template::Column::ModelId.eq(model_id))
            .filter(face_template::Column::PersonId.eq(person.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.iter()
            .map(|bytes| Embedding::from_bytes(bytes).map_err(|e| anyhow::anyhow!("a template of {person}: {e}")))
            .collect()
    }

    /// Adds people (named by their ids) with templates of `model_id`, many rows per statement,
    /// in one transaction; people and templates already there are kept. Bypasses enrolment's
    /// per-photo bookkeeping: for benchmarks and tests that need a large gallery.
    pub async fn import_templates(&self, model_id: &str, people: &[(PersonId, Vec<Embedding>)]) -> anyhow::Result<()> {
        let backend = self.db.get_database_backend();
        let per_statement = rows_per_statement(backend);
        let now = super::now();
        let txn = self.db.begin().await?;
        for batch in people.chunks(per_statement) {
            let mut rows = Rows::new(backend, &["text", "text", "timestamptz", "timestamptz"]);
            for (id, _) in batch {
                rows.push(&[&id.as_str(), &id.as_str(), &now, &now]);
            }
            let mut insert = super::people::person_insert();
            insert.on_conflict(OnConflict::column(person::Column::Id).do_nothing().to_owned());
            rows.into(&mut insert)?;
            txn.execute(&insert).await?;
        }
        let templates: Vec<(Uuid, &PersonId, Vec<u8>)> = people
            .iter()
            .flat_map(|(id, embeddings)| {
                embeddings.iter().enumerate().map(move |(i, e)| {
                    let name = format!("{id}/{model_id}/{i}");
                    (
                        Uuid::new_v5(&IMPORTED_TEMPLATE_NAMESPACE, name.as_bytes()),
                        id,
                        e.to_bytes(),
                    )
                })
            })
            .collect();
        for batch in templates.chunks(per_statement) {
            let mut rows = Rows::new(
                backend,
                &["uuid", "text", "text", "bytea", "real", "text", "timestamptz"],
            );
            for (template_id, person, bytes) in batch {
                rows.push(&[
                    template_id,
                    &person.as_str(),
                    &model_id,
                    &bytes.as_slice(),
                    &1.0f32,
                    &"import",
                    &now,
                ]);
            }
            let mut insert = super::people::template_insert();
            rows.into(&mut insert)?;
            txn.execute(&insert).await?;
        }
        // Recognizers find the gallery changed on their next check.
        super::changes::bump(&txn, &[crate::cache::keys::gallery()]).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The gallery's generation (`cache::keys::gallery`): one more for each enrolment, erasure
    /// and import.
    pub async fn gallery_generation(&self) -> Result<i64, sea_orm::DbErr> {
        self.cache_generation(&crate::cache::keys::gallery()).await
    }
}

impl Cell for &[u8] {
    fn value(&self) -> sea_orm::sea_query::Value {
        self.to_vec().into()
    }

    fn write_element(&self, out: &mut String) {
        // bytea's hex input, its backslash escaped for the array literal.
        out.push_str("\"\\\\x");
        out.push_str(&hex::encode(self));
        out.push('"');
    }
}
