//! The recognizers' anchors (see `recognize::commits`): per camera, the frames topic position
//! of its latest frame whose decisions depend on that frame alone.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};

use super::Store;
use super::entities::recognize_anchor as anchor;
use crate::bus::Position;
use crate::domain::CameraId;

impl Store {
    /// Records each camera's latest anchor. Written before the offsets that rely on it are
    /// committed; a later offset in the same partition wins, so an old write arriving late
    /// cannot move an anchor back.
    pub async fn record_anchors(&self, anchors: &[(CameraId, Position)]) -> Result<(), sea_orm::DbErr> {
        if anchors.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert();
        insert.into_table(anchor::Entity).columns([
            anchor::Column::CameraId,
            anchor::Column::FramePartition,
            anchor::Column::FrameOffset,
        ]);
        for (camera, at) in anchors {
            insert.values_panic([camera.as_str().into(), at.partition.into(), at.offset.into()]);
        }
        // A camera's frames move partition only when the topic grows; then the new one wins.
        insert.on_conflict(
            OnConflict::column(anchor::Column::CameraId)
                .value(
                    anchor::Column::FrameOffset,
                    Expr::cust(
                        "CASE WHEN excluded.frame_partition <> recognize_anchors.frame_partition \
                         OR excluded.frame_offset > recognize_anchors.frame_offset \
                         THEN excluded.frame_offset ELSE recognize_anchors.frame_offset END",
                    ),
                )
                .update_column(anchor::Column::FramePartition)
                .to_owned(),
        );
        self.db.execute(&insert).await?;
        Ok(())
    }

    /// The camera's latest recorded anchor.
    pub async fn anchor_of(&self, camera: &CameraId) -> Result<Option<Position>, sea_orm::DbErr> {
        let mut select = Query::select();
        select
            .columns([anchor::Column::FramePartition, anchor::Column::FrameOffset])
            .from(anchor::Entity)
            .and_where(Expr::col(anchor::Column::CameraId).eq(camera.as_str()));
        let Some(row) = self.db.query_one(&select).await? else {
            return Ok(None);
        };
        Ok(Some(Position {
            partition: row.try_get_by_index(0)?,
            offset: row.try_get_by_index(1)?,
        }))
    }
}
