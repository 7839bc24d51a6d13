//! Review decisions through the API: unknown faces and clusters assigned to a person (their crops
//! enrolled as templates), clusters dismissed, and faces or photos marked "not this person". The rules are the use cases' (`usecases::review`).

use axum::Extension;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::PhotoResult;
use super::error::ApiError;
use super::extract::{Body, PathParams};
use super::{Caller, Shared};
use crate::domain::PersonId;
use crate::enroll::template_from_crop;
use crate::store::NewTemplate;
use crate::usecases::review::{self, Assignee, NotPersonFace, Refusal, Selection};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    /// Whole clusters: every face of each.
    #[serde(default)]
    pub clusters: Vec<Uuid>,
    /// Faces on their own (they leave their cluster).
    #[serde(default)]
    pub faces: Vec<Uuid>,
    pub person_id: String,
    /// Creates the person with this display name; without it, the person must exist.
    pub new_person_name: Option<String>,
}

/// What became of one face's crop.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignedFace {
    pub face_id: Uuid,
    /// `enrolled`, `already_enrolled` or `rejected`.
    pub status: String,
    /// Why it was rejected (as for an uploaded photo: `no_face`, `face_too_small`, …).
    pub code: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assignment {
    pub person_id: String,
    pub model_id: String,
    pub templates_added: u64,
    pub faces: Vec<AssignedFace>,
}

pub(super) fn refused(refusal: Refusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        Refusal::Empty => ApiError::bad_request("nothing_selected", message),
        Refusal::TooMany(_) => ApiError::bad_request("too_many_selected", message),
        Refusal::NoCluster(_) | Refusal::NoFace(_) | Refusal::NoPerson(_) | Refusal::NoMatch(_) => {
            ApiError::not_found(message)
        }
        Refusal::AlreadyAssigned { .. } | Refusal::PersonExists(_) | Refusal::Erased(_) => ApiError::conflict(message),
        Refusal::NoUsableFace(_) => ApiError::unprocessable("no_usable_face", message),
    }
}

/// Assigns unknown faces (whole clusters, or faces on their own) to an existing or a new person:
/// each face's crop is enrolled after the checks an uploaded photo gets, and the gallery change
/// is announced, so their next pass is recognised.
#[utoipa::path(post, path = "/v1/review/assignments", operation_id = "assign_unknown_faces", tag = "review",
    request_body = AssignmentRequest,
    responses((status = 201, description = "Created", body = Assignment),
        (status = 404, description = "No such cluster, face or person", body = super::error::ErrorBody),
        (status = 409, description = "A cluster already assigned, a new person whose id is taken, or an erased person", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn assign(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(request): Body<AssignmentRequest>,
) -> Result<(StatusCode, axum::Json<Assignment>), ApiError> {
    let id = PersonId::parse(&request.person_id)
        .map_err(|e| ApiError::bad_request("invalid_person_id", format!("person id {:?}: {e}", request.person_id)))?;
    let assignee = match &request.new_person_name {
        Some(name) => Assignee::New {
            id,
            display_name: crate::domain::text::checked_name("new_person_name", name, false)
                .map_err(|why| ApiError::bad_request("invalid_body", why))?,
        },
        None => Assignee::Existing(id),
    };
    let selection = Selection {
        clusters: request.clusters,
        faces: request.faces,
    };
    let crops = review::crops_to_assign(&state.services, &selection, &assignee)
        .await?
        .map_err(refused)?;
    let (faces, templates) = analyse_crops(&state, crops).await?;
    let added = review::assign(
        &state.services,
        &caller.name,
        &selection,
        &assignee,
        &state.model_id,
        &templates,
        faces.len(),
    )
    .await?
    .map_err(refused)?;
    let mut added = added.into_iter();
    let faces: Vec<AssignedFace> = faces
        .into_iter()
        .map(|mut face| {
            if face.status == "enrolled" && added.next() == Some(false) {
                face.status = "already_enrolled".into();
                face.message = "this face is already enrolled for this person: nothing added".into();
            }
            face
        })
        .collect();
    let body = Assignment {
        person_id: assignee.id().to_string(),
        model_id: state.model_id.clone(),
        templates_added: faces.iter().filter(|f| f.status == "enrolled").count() as u64,
        faces,
    };
    Ok((StatusCode::CREATED, axum::Json(body)))
}

/// Each crop analysed as an enrolment photo: its result, and the templates of those that passed
/// (in the same order).
async fn analyse_crops(
    state: &Shared,
    crops: Vec<(Uuid, Vec<u8>)>,
) -> Result<(Vec<AssignedFace>, Vec<NewTemplate>), ApiError> {
    let ids: Vec<Uuid> = crops.iter().map(|(id, _)| *id).collect();
    let uploads = crops
        .into_iter()
        .map(|(id, jpeg)| (format!("unknown face {id}"), Ok(jpeg)))
        .collect();
    let analysed = super::people::analyse_with(state, uploads, template_from_crop).await?;
    let mut templates = Vec::new();
    let faces = ids
        .into_iter()
        .zip(analysed)
        .map(|(face_id, (result, template))| {
            templates.extend(template);
            AssignedFace {
                face_id,
                status: result.status,
                code: result.code,
                message: result.message,
            }
        })
        .collect();
    Ok((faces, templates))
}

/// Sets a cluster aside: it keeps its faces until retention and takes no new ones (the same
/// stranger seen again starts a new cluster).
#[utoipa::path(post, path = "/v1/review/clusters/{cluster_id}/dismiss", operation_id = "dismiss_unknown_cluster", tag = "review",
    params(("cluster_id" = Uuid, Path)),
    responses((status = 204, description = "Dismissed"), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn dismiss(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let id = super::review::uuid_of("cluster", &id)?;
    review::dismiss(&state.services, &caller.name, &[id])
        .await?
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotPersonRequest {
    /// The person the face was wrongly taken for.
    pub person_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotPerson {
    pub person_id: String,
    /// Negative examples added (a face or photo marked before adds none).
    pub negatives_added: u64,
    /// Each uploaded photo's result (none when an unknown face was marked).
    pub photos: Vec<PhotoResult>,
}

fn person_of(raw: &str) -> Result<PersonId, ApiError> {
    PersonId::parse(raw).map_err(|e| ApiError::bad_request("invalid_person_id", format!("person id {raw:?}: {e}")))
}

/// "Not this person": an unknown face kept for review is not `person_id`. It becomes their
/// negative example, and every recognizer refuses matches of them that look more like it.
#[utoipa::path(post, path = "/v1/review/faces/{face_id}/not-person", operation_id = "mark_face_not_person", tag = "review",
    params(("face_id" = Uuid, Path)), request_body = NotPersonRequest,
    responses((status = 201, description = "Created", body = NotPerson), (status = 404, description = "No such face or person", body = super::error::ErrorBody),
        (status = 409, description = "The person was erased", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn face_not_person(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(request): Body<NotPersonRequest>,
) -> Result<(StatusCode, axum::Json<NotPerson>), ApiError> {
    let face = super::review::uuid_of("face", &id)?;
    let person = person_of(&request.person_id)?;
    let added = review::not_person(&state.services, &caller.name, &person, NotPersonFace::Unknown(face))
        .await?
        .map_err(refused)?;
    let body = NotPerson {
        person_id: person.to_string(),
        negatives_added: u64::from(added),
        photos: Vec::new(),
    };
    Ok((StatusCode::CREATED, axum::Json(body)))
}

/// "Not this person", from photos (multipart, one file per part): each photo's one usable face
/// becomes a negative example of the person, under the checks of an enrolment photo.
#[utoipa::path(post, path = "/v1/people/{id}/negatives", operation_id = "mark_photos_not_person", tag = "review", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "one or more image files of someone taken for this person"),
    responses((status = 201, description = "Created", body = NotPerson), (status = 404, description = "No such resource", body = super::error::ErrorBody),
        (status = 422, description = "No photo showed one usable face", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn photos_not_person(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, axum::Json<NotPerson>), ApiError> {
    let person = person_of(&id)?;
    if state.services.store.person(&person).await?.is_none() {
        return Err(ApiError::not_found(format!("no person {person}")));
    }
    let uploads = super::people::read_uploads(
        multipart,
        state.config.max_photo_bytes,
        state.config.max_photos_per_upload,
    )
    .await?;
    if uploads.is_empty() {
        return Err(ApiError::bad_request("no_photos", "the request has no file parts"));
    }
    let analysed = super::people::analyse(&state, uploads).await?;
    let mut negatives_added = 0;
    let mut photos = Vec::with_capacity(analysed.len());
    for (mut photo, template) in analysed {
        if let Some(template) = template {
            let face = NotPersonFace::Analysed {
                embedding: template.embedding,
                model_id: state.model_id.clone(),
                source: template.source,
            };
            let added = review::not_person(&state.services, &caller.name, &person, face)
                .await?
                .map_err(refused)?;
            negatives_added += u64::from(added);
            (photo.status, photo.message) = if added {
                ("kept".into(), "kept as a face that is not this person".into())
            } else {
                (
                    "already_kept".into(),
                    "this photo is already kept for this person: nothing added".into(),
                )
            };
        }
        photos.push(photo);
    }
    if photos.iter().all(|p| p.status == "rejected") {
        return Err(ApiError::unprocessable(
            "no_usable_photo",
            "none of the photos shows exactly one usable face",
        ));
    }
    let body = NotPerson {
        person_id: person.to_string(),
        negatives_added,
        photos,
    };
    Ok((StatusCode::CREATED, axum::Json(body)))
}
