//! Registering cameras as ingest starts them.

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};

use super::Store;
use super::entities::camera;
use crate::domain::CameraId;
use crate::domain::CameraRole;

impl Store {
    /// Creates the camera or updates its name, location and role.
    pub async fn upsert_camera(
        &self,
        id: &CameraId,
        name: &str,
        location: &str,
        role: CameraRole,
    ) -> Result<(), sea_orm::DbErr> {
        let mut upsert = Query::insert();
        upsert
            .into_table(camera::Entity)
            .columns([
                camera::Column::Id,
                camera::Column::Name,
                camera::Column::Location,
                camera::Column::Role,
                camera::Column::CreatedAt,
            ])
            .values_panic([
                id.as_str().into(),
                name.into(),
                location.into(),
                role.as_str().into(),
                super::now().into(),
            ])
            .on_conflict(
                OnConflict::column(camera::Column::Id)
                    .update_columns([camera::Column::Name, camera::Column::Location, camera::Column::Role])
                    .to_owned(),
            );
        let txn = self.db.begin().await?;
        let before = camera::Entity::find_by_id(id.as_str()).one(&txn).await?;
        txn.execute(&upsert).await?;
        // Session reports depend on which cameras are entries and exits, and where they are.
        if before.is_none_or(|c| c.role != role.as_str() || c.location != location) {
            super::changes::bump(&txn, &[crate::cache::keys::cameras()]).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
