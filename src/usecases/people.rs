//! People: create, enrol templates, rename, erase.

use super::Services;
use crate::control::{ChangeKind, GalleryChange};
use crate::domain::PersonId;
use crate::store::{Erasure, NewTemplate};

/// Creates a person without templates; false if the id is taken.
pub async fn create(svc: &Services, actor: &str, id: &PersonId, display_name: &str) -> anyhow::Result<bool> {
    if !svc.store.create_person(id, display_name).await? {
        return Ok(false);
    }
    let details = serde_json::json!({ "display_name": display_name });
    svc.store.audit(actor, "person.created", id.as_str(), details).await?;
    Ok(true)
}

/// Stores a person's new templates of `model_id` (creating the person if needed), audits the
/// enrolment and announces it. Returns, for each template, whether it was new (a photo enrolled
/// before adds nothing).
pub async fn enrol(
    svc: &Services,
    actor: &str,
    id: &PersonId,
    display_name: &str,
    model_id: &str,
    templates: &[NewTemplate],
) -> anyhow::Result<Vec<bool>> {
    let enrolment = svc.store.enrol(id, display_name, model_id, templates).await?;
    let added = enrolment.added.iter().filter(|new| **new).count();
    let sources: Vec<&str> = templates.iter().map(|t| t.source.as_str()).collect();
    let details = serde_json::json!({ "photos": sources, "templates_added": added, "model_id": model_id });
    svc.store.audit(actor, "person.enrolled", id.as_str(), details).await?;
    svc.announce(GalleryChange {
        kind: ChangeKind::Enrolled,
        person_id: id.clone(),
        model_id: model_id.to_owned(),
        templates: added,
        generation: Some(enrolment.gallery_generation),
    })
    .await;
    Ok(enrolment.added)
}

/// Renames a person (audited in the store's transaction); false if there is no such person.
pub async fn rename(svc: &Services, actor: &str, id: &PersonId, display_name: &str) -> anyhow::Result<bool> {
    let Some(generations) = svc.store.rename_person(id, display_name, actor).await? else {
        return Ok(false);
    };
    svc.invalidate(&generations).await;
    Ok(true)
}

/// Erases a person for good: templates, memberships, (with `erase_attendance`) their
/// attendance, and their cached entries; audited and announced. None if there is no such person.
pub async fn erase(
    svc: &Services,
    actor: &str,
    id: &PersonId,
    model_id: &str,
    erase_attendance: bool,
) -> anyhow::Result<Option<Erasure>> {
    let Some(erasure) = svc.store.erase_person(id, erase_attendance, actor).await? else {
        return Ok(None);
    };
    // Every generation of every key about them, the current ones included: no separate
    // invalidation is needed.
    if let Some(cache) = &svc.cache
        && let Err(e) = cache.purge(&erasure.cache_families, &erasure.cache_prefixes).await
    {
        // Their entries can no longer be read (the generation moved on) and expire with their TTL.
        tracing::warn!(person = %id, error = %e, "cache degraded: erased person's entries left to expire");
    }
    svc.announce(GalleryChange {
        kind: ChangeKind::Erased,
        person_id: id.clone(),
        model_id: model_id.to_owned(),
        templates: 0,
        generation: Some(erasure.gallery_generation),
    })
    .await;
    Ok(Some(erasure))
}
