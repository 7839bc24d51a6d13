//! Keeping a recognizer's gallery equal to the store's templates: reloaded on every change
//! announced on NATS, and on an interval in every mode.

use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::gallery::{Gallery, SharedGallery};
use crate::control::{GALLERY_SUBJECT, GalleryChange};
use crate::store::Store;

/// The gallery of `model_id` as the store has it now.
pub async fn load_gallery(store: &Store, model_id: &str) -> anyhow::Result<Gallery> {
    Ok(Gallery::new(store.templates(model_id).await?))
}

/// Keeps `gallery` equal to the store's templates of `model_id`: reloads on every change
/// message when `nats` is given, and every `interval` in any case (a message missed while
/// disconnected, or no NATS at all).
pub async fn keep_gallery_current(
    nats: Option<async_nats::Client>,
    store: Store,
    model_id: String,
    gallery: SharedGallery,
    interval: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut changes = match &nats {
        Some(client) => Some(client.subscribe(GALLERY_SUBJECT).await?),
        None => None,
    };
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        let reason = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            message = next_change(&mut changes) => match message {
                Some(m) => match serde_json::from_slice::<GalleryChange>(&m.payload) {
                    Ok(change) => format!("{:?} {}", change.kind, change.person_id),
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring a malformed gallery change");
                        continue;
                    }
                },
                None => anyhow::bail!("the NATS subscription to {GALLERY_SUBJECT} ended"),
            },
            _ = tick.tick() => "periodic check".to_owned(),
        };
        match load_gallery(&store, &model_id).await {
            Ok(fresh) => {
                tracing::info!(
                    reason,
                    people = fresh.people(),
                    templates = fresh.len(),
                    "gallery reloaded"
                );
                gallery.replace(fresh);
            }
            // Keep matching with the gallery in hand; the next change or tick tries again.
            Err(e) => tracing::warn!(error = format!("{e:#}"), "reloading the gallery failed"),
        }
    }
}

/// The next change message; never, without a subscription.
async fn next_change(changes: &mut Option<async_nats::Subscriber>) -> Option<async_nats::Message> {
    match changes {
        Some(subscriber) => subscriber.next().await,
        None => std::future::pending().await,
    }
}
