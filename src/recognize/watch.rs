//! Keeping a recognizer's gallery equal to the store's templates (and negative examples): each change announced on NATS
//! applied to the person it names, and a periodic check in every mode that reloads the whole
//! gallery only when it has missed a change (while disconnected, or with no NATS at all). Every
//! change bumps the store's gallery generation by one and its message carries the new value, so
//! a gallery knows up to which change it is complete: a message one past it is applied, one
//! further on means some went missing.

use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::gallery::{Gallery, GalleryBuilder, SharedGallery};
use crate::control::{ChangeKind, GalleryChange, Nats};
use crate::domain::{Embedding, PersonId};
use crate::store::Store;

/// The gallery of `model_id` as the store has it now, streamed into place.
pub async fn load_gallery(store: &Store, model_id: &str) -> anyhow::Result<Gallery> {
    // Read first: the templates read after it hold every change up to it (and maybe more).
    let generation = store.gallery_generation().await?;
    let mut builder = GalleryBuilder::default();
    store
        .each_template(model_id, |person, embedding| builder.push(person, embedding.values()))
        .await?;
    let mut negatives: std::collections::HashMap<PersonId, Vec<Embedding>> = Default::default();
    store
        .each_negative(model_id, |person, embedding| {
            negatives.entry(person).or_default().push(embedding)
        })
        .await?;
    let gallery = negatives
        .into_iter()
        .fold(builder.build(), |gallery, (person, theirs)| {
            gallery.with_negatives(&person, theirs)
        });
    Ok(gallery.at_generation(Some(generation)))
}

/// Keeps `gallery` equal to the store's templates of `model_id`: by the changes announced on
/// `changes` (from `subscribe_to_gallery_changes`), and by comparing generations every `interval`.
pub async fn keep_gallery_current(
    mut changes: Option<async_nats::Subscriber>,
    store: Store,
    model_id: String,
    gallery: SharedGallery,
    interval: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        let outcome = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            message = next_change(&mut changes) => match message {
                Some(m) => match serde_json::from_slice::<GalleryChange>(&m.payload) {
                    Ok(change) => apply_change(&store, &model_id, &gallery, &change).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring a malformed gallery change");
                        continue;
                    }
                },
                None => anyhow::bail!("the NATS subscription to gallery changes ended"),
            },
            _ = tick.tick() => check(&store, &model_id, &gallery).await,
        };
        // Keep matching with the gallery in hand; the next change or tick tries again (a change
        // that failed leaves the gallery's generation behind, so the next check reloads).
        if let Err(e) = outcome {
            tracing::warn!(error = format!("{e:#}"), "updating the gallery failed");
        }
    }
}

/// Subscribes to gallery changes and returns once the server has the subscription (a flush
/// waits for its answer), so that no change published after this returns is missed; subscribing
/// inside the watcher's own task left a window in which an erasure's message went nowhere.
pub async fn subscribe_to_gallery_changes(nats: &Nats) -> anyhow::Result<async_nats::Subscriber> {
    let subscriber = nats.client().subscribe(nats.gallery_subject()).await?;
    nats.client().flush().await?;
    Ok(subscriber)
}

/// Applies a change: one past the gallery's generation, to the person it names; one the gallery
/// already has, not at all; after a gap, by reloading everything.
async fn apply_change(
    store: &Store,
    model_id: &str,
    gallery: &SharedGallery,
    change: &GalleryChange,
) -> anyhow::Result<()> {
    let have = gallery.current().generation();
    match (have, change.generation) {
        (Some(have), Some(generation)) if generation <= have => return Ok(()),
        (Some(have), Some(generation)) if generation > have + 1 => {
            return reload(store, model_id, gallery, "a gallery change was missed").await;
        }
        _ => {}
    }
    // Completeness is only claimed on top of a known generation (a message from an older
    // sender, without one, leaves it where it was: the next check reloads).
    let next = have.and(change.generation.or(have));
    if change.model_id != model_id {
        // Nothing of this model changed, but the gallery is complete up to it.
        if next != have {
            gallery.update(|current| current.clone().at_generation(next));
        }
        return Ok(());
    }
    let (templates, negatives) = match change.kind {
        ChangeKind::Erased => (Vec::new(), Vec::new()),
        ChangeKind::Enrolled | ChangeKind::Updated => (
            store.templates_of(&change.person_id, model_id).await?,
            store.negatives_of(&change.person_id, model_id).await?,
        ),
    };
    let person = &change.person_id;
    gallery.update(|current| {
        current
            .with_person(person, &templates)
            .with_negatives(person, negatives)
            .at_generation(next)
    });
    tracing::info!(
        kind = ?change.kind,
        person = %change.person_id,
        templates = templates.len(),
        "gallery change applied"
    );
    Ok(())
}

/// Reloads the whole gallery if the store's generation is not the one it is complete up to.
async fn check(store: &Store, model_id: &str, gallery: &SharedGallery) -> anyhow::Result<()> {
    if gallery.current().generation() == Some(store.gallery_generation().await?) {
        return Ok(());
    }
    reload(
        store,
        model_id,
        gallery,
        "the store's gallery has changes this one lacks",
    )
    .await
}

async fn reload(store: &Store, model_id: &str, gallery: &SharedGallery, reason: &str) -> anyhow::Result<()> {
    let fresh = load_gallery(store, model_id).await?;
    tracing::info!(
        reason,
        people = fresh.people(),
        templates = fresh.len(),
        "gallery reloaded"
    );
    gallery.replace(fresh);
    Ok(())
}

/// The next change message; never, without a subscription.
async fn next_change(changes: &mut Option<async_nats::Subscriber>) -> Option<async_nats::Message> {
    match changes {
        Some(subscriber) => subscriber.next().await,
        None => std::future::pending().await,
    }
}
