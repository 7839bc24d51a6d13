//! Negative examples of people ("not this person"): stored with an audit entry and a gallery
//! generation bump in one transaction, read whole for a gallery load and per person for a change.

use futures::TryStreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::Store;
use super::entities::person_negative as negative;
use crate::domain::{Embedding, PersonId};

/// Ids of negative examples: one per person, model and source.
const NEGATIVE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x3b9e_51c7_0d2a_4f86_9e13_a7c4_58d0_e26b);

/// What marking a face cost: whether it was new, and the gallery generation it made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegativeAdded {
    pub added: bool,
    pub gallery_generation: i64,
}

impl Store {
    /// Keeps `embedding` as a face that is not `person` (marking the same source again adds
    /// nothing), audited under `actor`.
    pub async fn add_negative(
        &self,
        actor: &str,
        person: &PersonId,
        model_id: &str,
        embedding: &Embedding,
        source: &str,
    ) -> Result<NegativeAdded, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let negative_id = Uuid::new_v5(
            &NEGATIVE_ID_NAMESPACE,
            format!("{person}/{model_id}/{source}").as_bytes(),
        );
        let row = negative::ActiveModel {
            negative_id: Set(negative_id),
            person_id: Set(person.to_string()),
            model_id: Set(model_id.to_owned()),
            embedding: Set(embedding.to_bytes()),
            source: Set(source.chars().take(500).collect()),
            created_at: Set(super::now()),
        };
        let added = negative::Entity::insert(row)
            .on_conflict(OnConflict::column(negative::Column::NegativeId).do_nothing().to_owned())
            .exec_without_returning(&txn)
            .await?
            > 0;
        let gallery = crate::cache::keys::gallery();
        let generations = super::changes::bump(&txn, std::slice::from_ref(&gallery)).await?;
        let details = serde_json::json!({ "source": source, "model_id": model_id, "added": added });
        super::changes::audit(&txn, actor, "review.not_this_person", person.as_str(), details).await?;
        txn.commit().await?;
        Ok(NegativeAdded {
            added,
            gallery_generation: super::changes::generation_of(&generations, &gallery),
        })
    }

    /// The negative examples of one person for `model_id`.
    pub async fn negatives_of(&self, person: &PersonId, model_id: &str) -> anyhow::Result<Vec<Embedding>> {
        let rows: Vec<Vec<u8>> = negative::Entity::find()
            .select_only()
            .column(negative::Column::Embedding)
            .filter(negative::Column::ModelId.eq(model_id))
            .filter(negative::Column::PersonId.eq(person.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.iter()
            .map(|bytes| Embedding::from_bytes(bytes).map_err(|e| anyhow::anyhow!("a negative of {person}: {e}")))
            .collect()
    }

    /// Calls `each` with every negative example of `model_id`, streamed.
    pub async fn each_negative(&self, model_id: &str, mut each: impl FnMut(PersonId, Embedding)) -> anyhow::Result<()> {
        let mut rows = negative::Entity::find()
            .select_only()
            .columns([negative::Column::PersonId, negative::Column::Embedding])
            .filter(negative::Column::ModelId.eq(model_id))
            .into_tuple::<(String, Vec<u8>)>()
            .stream(&self.db)
            .await?;
        while let Some((person, bytes)) = rows.try_next().await? {
            let person = PersonId::parse(person)?;
            let embedding =
                Embedding::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("a negative of {person}: {e}"))?;
            each(person, embedding);
        }
        Ok(())
    }
}

/// Deletes the negative examples of `person` (their erasure); returns how many.
pub(super) async fn erase_negatives(txn: &impl ConnectionTrait, person: &PersonId) -> Result<u64, sea_orm::DbErr> {
    Ok(negative::Entity::delete_many()
        .filter(negative::Column::PersonId.eq(person.as_str()))
        .exec(txn)
        .await?
        .rows_affected)
}
