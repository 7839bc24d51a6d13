//! Review decisions on unknown faces: faces and clusters assigned to a person (their crops
//! enrolled as templates after the usual checks, the gallery change announced) or dismissed, and
//! faces marked "not this person" (kept as the person's negative examples, which the matcher
//! holds against later matches).
//! Assigning takes two calls around the front end's own face analysis: `crops_to_assign`
//! checks the request and hands out the crops, `assign` enrols what the analysis made of them.

use uuid::Uuid;

use super::Services;
use crate::control::{ChangeKind, GalleryChange};
use crate::domain::Embedding;
use crate::domain::PersonId;
use crate::review::ClusterStatus;
use crate::store::NewTemplate;

/// The most clusters and faces one decision may name: a review screen's worth, and well under
/// what the database binds in one statement.
pub const MAX_SELECTION: usize = 1_000;

/// The faces a decision is about: whole clusters, and faces on their own.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub clusters: Vec<Uuid>,
    pub faces: Vec<Uuid>,
}

/// Whom the faces are.
#[derive(Debug, Clone)]
pub enum Assignee {
    Existing(PersonId),
    /// Created by the assignment.
    New {
        id: PersonId,
        display_name: String,
    },
}

impl Assignee {
    pub fn id(&self) -> &PersonId {
        match self {
            Assignee::Existing(id) | Assignee::New { id, .. } => id,
        }
    }
}

/// Why a review decision was refused; nothing was changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    #[error("nothing to decide on: give at least one cluster or face")]
    Empty,
    #[error("{0} clusters and faces in one decision; at most {MAX_SELECTION}: send the rest in another")]
    TooMany(usize),
    #[error("no unknown-face cluster {0} (or its faces are past retention)")]
    NoCluster(Uuid),
    #[error("no unknown face {0}: never seen, or deleted after retention.unknown_days")]
    NoFace(Uuid),
    #[error("cluster {cluster} is already assigned to {person}")]
    AlreadyAssigned { cluster: Uuid, person: String },
    #[error("no person {0}: assign to an existing person, or ask for a new one")]
    NoPerson(PersonId),
    #[error("person {0} was erased: their faces cannot be assigned to them again unless they are enrolled anew")]
    Erased(PersonId),
    #[error("person {0} exists already: assign to them as an existing person")]
    PersonExists(PersonId),
    #[error("none of the {0} face crops shows a usable face: nothing was enrolled")]
    NoUsableFace(usize),
    #[error("no low-confidence match {0}: never kept, decided already, or deleted after retention.unknown_days")]
    NoMatch(Uuid),
}

/// Checks the selection and the person, and returns the selected faces' crops (a face without
/// one is left out) for the front end to analyse.
pub async fn crops_to_assign(
    svc: &Services,
    selection: &Selection,
    assignee: &Assignee,
) -> anyhow::Result<Result<Vec<(Uuid, Vec<u8>)>, Refusal>> {
    if selection.clusters.is_empty() && selection.faces.is_empty() {
        return Ok(Err(Refusal::Empty));
    }
    let named = selection.clusters.len() + selection.faces.len();
    if named > MAX_SELECTION {
        return Ok(Err(Refusal::TooMany(named)));
    }
    let found = svc
        .store
        .review_selection(&selection.clusters, &selection.faces)
        .await?;
    for (cluster, state) in &found.clusters {
        match state {
            None => return Ok(Err(Refusal::NoCluster(*cluster))),
            Some(state) if state.status == ClusterStatus::Assigned => {
                return Ok(Err(Refusal::AlreadyAssigned {
                    cluster: *cluster,
                    person: state.person_id.clone().unwrap_or_default(),
                }));
            }
            Some(_) => {}
        }
    }
    if let Some(face) = found.missing_faces.first() {
        return Ok(Err(Refusal::NoFace(*face)));
    }
    let exists = svc.store.person(assignee.id()).await?.is_some();
    match assignee {
        Assignee::Existing(id) if !exists && svc.store.has_tombstone(id).await? => {
            return Ok(Err(Refusal::Erased(id.clone())));
        }
        Assignee::Existing(id) if !exists => return Ok(Err(Refusal::NoPerson(id.clone()))),
        Assignee::New { id, .. } if exists => return Ok(Err(Refusal::PersonExists(id.clone()))),
        _ => {}
    }
    Ok(Ok(found
        .faces
        .into_iter()
        .filter_map(|(face, crop)| crop.map(|jpeg| (face, jpeg)))
        .collect()))
}

/// Enrols `templates` (made from the crops `crops_to_assign` gave, `analysed` of them in all)
/// for the person, creating them first when new, and records the decision. Returns, for each
/// template, whether it was new.
pub async fn assign(
    svc: &Services,
    actor: &str,
    selection: &Selection,
    assignee: &Assignee,
    model_id: &str,
    templates: &[NewTemplate],
    analysed: usize,
) -> anyhow::Result<Result<Vec<bool>, Refusal>> {
    if templates.is_empty() {
        return Ok(Err(Refusal::NoUsableFace(analysed)));
    }
    let id = assignee.id();
    let display_name = match assignee {
        Assignee::New { id, display_name } => {
            if !super::people::create(svc, actor, id, display_name).await? {
                return Ok(Err(Refusal::PersonExists(id.clone())));
            }
            display_name.clone()
        }
        Assignee::Existing(id) => match svc.store.person(id).await? {
            Some(entry) => entry.person.display_name,
            None => return Ok(Err(Refusal::NoPerson(id.clone()))),
        },
    };
    let added = super::people::enrol(svc, actor, id, &display_name, model_id, templates).await?;
    let count = added.iter().filter(|new| **new).count();
    svc.store
        .record_assignment(actor, id, &selection.clusters, &selection.faces, count)
        .await?;
    Ok(Ok(added))
}

/// Sets clusters aside (they take no new faces; retention deletes them).
pub async fn dismiss(svc: &Services, actor: &str, clusters: &[Uuid]) -> anyhow::Result<Result<(), Refusal>> {
    if clusters.is_empty() {
        return Ok(Err(Refusal::Empty));
    }
    if clusters.len() > MAX_SELECTION {
        return Ok(Err(Refusal::TooMany(clusters.len())));
    }
    match svc.store.dismiss_clusters(actor, clusters).await?.first() {
        Some(missing) => Ok(Err(Refusal::NoCluster(*missing))),
        None => Ok(Ok(())),
    }
}

/// Where a "not this person" face comes from.
#[derive(Debug, Clone)]
pub enum NotPersonFace {
    /// An unknown face kept for review.
    Unknown(Uuid),
    /// A face the front end analysed (an uploaded photo), with its model and where it came from.
    Analysed {
        embedding: Embedding,
        model_id: String,
        source: String,
    },
}

/// Keeps `face` as a negative example of `person`, and announces the gallery change so every
/// recognizer refuses matches of the person that look more like it from then on. Returns
/// whether it was new.
pub async fn not_person(
    svc: &Services,
    actor: &str,
    person: &PersonId,
    face: NotPersonFace,
) -> anyhow::Result<Result<bool, Refusal>> {
    if svc.store.person(person).await?.is_none() {
        return Ok(Err(if svc.store.has_tombstone(person).await? {
            Refusal::Erased(person.clone())
        } else {
            Refusal::NoPerson(person.clone())
        }));
    }
    let resolves = match face {
        NotPersonFace::Unknown(id) => Some(id),
        NotPersonFace::Analysed { .. } => None,
    };
    let (embedding, model_id, source) = match face {
        NotPersonFace::Unknown(id) => match svc.store.unknown_face_embedding(id).await? {
            Some((embedding, model_id)) => (embedding, model_id, format!("unknown face {id}")),
            None => return Ok(Err(Refusal::NoFace(id))),
        },
        NotPersonFace::Analysed {
            embedding,
            model_id,
            source,
        } => (embedding, model_id, source),
    };
    let marked = svc
        .store
        .add_negative(actor, person, &model_id, &embedding, &source)
        .await?;
    svc.announce(GalleryChange {
        kind: ChangeKind::Updated,
        person_id: person.clone(),
        model_id,
        templates: 0,
        generation: Some(marked.gallery_generation),
    })
    .await;
    // A low-confidence match of this person is decided: it leaves the list of matches.
    if let Some(face) = resolves {
        svc.store.resolve_match(face, person).await?;
    }
    Ok(Ok(marked.added))
}

/// Confirms a low-confidence match (it was the person it was taken for): it leaves the list of
/// matches. Returns the person.
pub async fn confirm_match(svc: &Services, actor: &str, face: Uuid) -> anyhow::Result<Result<PersonId, Refusal>> {
    let Some(person) = svc.store.matched_person(face).await? else {
        return Ok(Err(Refusal::NoMatch(face)));
    };
    let person = PersonId::parse(&person)?;
    if svc.store.resolve_match(face, &person).await? {
        let details = serde_json::json!({ "face_id": face });
        svc.store
            .audit(actor, "review.match_confirmed", person.as_str(), details)
            .await?;
    }
    Ok(Ok(person))
}
