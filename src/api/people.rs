//! People: create, read, list, rename, erase; enrolment from uploaded photos.

use axum::Extension;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::dto::{
    Enrolment, EnrolmentRejected, EraseQuery, Erased, NewPerson, PeoplePage, PeopleQuery, Person, PersonChanges,
    PhotoResult,
};
use super::error::{ApiError, ErrorDetail};
use super::extract::{Body, Params, PathParams};
use std::sync::Arc;

use super::{ApiState, CachedJson, Caller, Shared, cursor};
use crate::cache::keys;
use crate::domain::PersonId;
use crate::enroll::{EnrolCriteria, PhotoError, template_from_photo};
use crate::store::NewTemplate;
use crate::usecases::people;

fn person_id(raw: &str) -> Result<PersonId, ApiError> {
    PersonId::parse(raw).map_err(|e| ApiError::bad_request("invalid_person_id", format!("person id {raw:?}: {e}")))
}

fn display_name(raw: &str) -> Result<String, ApiError> {
    crate::domain::text::checked_name("display_name", raw, false)
        .map_err(|why| ApiError::bad_request("invalid_display_name", why))
}

async fn find(state: &ApiState, id: &PersonId) -> Result<Person, ApiError> {
    state
        .services
        .store
        .person(id)
        .await?
        .map(Person::from)
        .ok_or_else(|| ApiError::not_found(format!("no person {id}")))
}

/// Lists people by id; `q` keeps those whose id or name contains it.
#[utoipa::path(get, path = "/v1/people", operation_id = "list_people", tag = "people", params(PeopleQuery),
    responses((status = 200, description = "Success", body = PeoplePage), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn list(state: Shared, Params(q): Params<PeopleQuery>) -> Result<axum::Json<PeoplePage>, ApiError> {
    let limit = state.page_size(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let containing =
        q.q.as_deref()
            .map(|text| crate::domain::text::checked_name("q", text, true))
            .transpose()
            .map_err(|why| ApiError::bad_request("invalid_query", why))?;
    let mut people = state
        .services
        .store
        .list_people(after.as_deref(), limit + 1, containing.as_deref())
        .await?;
    let more = people.len() as u64 > limit;
    people.truncate(limit as usize);
    let next_cursor = more.then(|| cursor::encode(&people.last().expect("a full page").person.id));
    Ok(axum::Json(PeoplePage {
        items: people.into_iter().map(Person::from).collect(),
        next_cursor,
    }))
}

/// Creates a person (no templates yet: upload photos next).
#[utoipa::path(post, path = "/v1/people", operation_id = "create_person", tag = "people", request_body = NewPerson,
    responses((status = 201, description = "Created", body = Person), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 409, description = "Already exists", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(new): Body<NewPerson>,
) -> Result<(StatusCode, axum::Json<Person>), ApiError> {
    let name = display_name(&new.display_name)?;
    let id = match &new.id {
        Some(id) => person_id(id)?,
        None => PersonId::from_name(&name).map_err(|e| {
            ApiError::bad_request(
                "invalid_person_id",
                format!("no id can be made from {name:?}: {e}; give one"),
            )
        })?,
    };
    if !people::create(&state.services, &caller.name, &id, &name).await? {
        return Err(ApiError::conflict(format!("person {id} already exists")));
    }
    Ok((StatusCode::CREATED, axum::Json(find(&state, &id).await?)))
}

/// One person.
#[utoipa::path(get, path = "/v1/people/{id}", operation_id = "get_person", tag = "people", params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Person), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn show(state: Shared, PathParams(id): PathParams<String>) -> Result<CachedJson<Person>, ApiError> {
    let id = person_id(&id)?;
    let key = keys::person(id.as_str());
    let person = state
        .cached(&key, "profile", || async {
            Ok(state.services.store.person(&id).await?.map(Person::from))
        })
        .await?;
    person
        .found()
        .ok_or_else(|| ApiError::not_found(format!("no person {id}")))
}

/// Renames a person.
#[utoipa::path(patch, path = "/v1/people/{id}", operation_id = "rename_person", tag = "people", params(("id" = String, Path)),
    request_body = PersonChanges,
    responses((status = 200, description = "Success", body = Person), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn update(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(changes): Body<PersonChanges>,
) -> Result<axum::Json<Person>, ApiError> {
    let id = person_id(&id)?;
    let name = display_name(&changes.display_name)?;
    if !people::rename(&state.services, &caller.name, &id, &name).await? {
        return Err(ApiError::not_found(format!("no person {id}")));
    }
    Ok(axum::Json(find(&state, &id).await?))
}

/// Erases a person: templates, cached entries and (by default) attendance; audited.
#[utoipa::path(delete, path = "/v1/people/{id}", operation_id = "erase_person", tag = "people", params(("id" = String, Path), EraseQuery),
    responses((status = 200, description = "Success", body = Erased), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn erase(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Params(q): Params<EraseQuery>,
) -> Result<axum::Json<Erased>, ApiError> {
    let id = person_id(&id)?;
    let erase_attendance = q.erase_attendance.unwrap_or(state.config.erase_attendance);
    let erasure = people::erase(&state.services, &caller.name, &id, &state.model_id, erase_attendance)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no person {id}")))?;
    Ok(axum::Json(Erased {
        person_id: id.to_string(),
        templates_removed: erasure.templates,
        attendance_events_removed: erasure.events,
        attendance_days_removed: erasure.days,
        attendance_kept: !erase_attendance,
        audit_id: erasure.audit_id,
    }))
}

pub(super) fn photo_code(e: &PhotoError) -> &'static str {
    match e {
        PhotoError::Read(_) => "unreadable",
        PhotoError::Decode(d) if d.kind() == "too_large" => "too_large",
        PhotoError::Decode(crate::vision::DecodeError::UnsupportedKnownFormat(_)) => "unsupported_format",
        PhotoError::Decode(_) => "not_an_image",
        PhotoError::NoFace => "no_face",
        PhotoError::SeveralFaces(_) => "several_faces",
        PhotoError::FaceTooSmall { .. } => "face_too_small",
        PhotoError::Inference(_) => "inference_failed",
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "payload_too_large"
    } else {
        "invalid_body"
    };
    ApiError::new(status, code, e.body_text())
}

/// Enrols photos of a person (multipart, one file per part). Each photo must be an image
/// within the size limit showing exactly one usable face; each gets its own result.
#[utoipa::path(post, path = "/v1/people/{id}/photos", operation_id = "enrol_photos", tag = "people", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "one or more image files"),
    responses((status = 201, description = "Created", body = Enrolment), (status = 422, description = "No photo was usable; each photo's result says why", body = EnrolmentRejected),
        (status = 404, description = "No such resource", body = super::error::ErrorBody), (status = 413, description = "Body over the size limit", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn enrol(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    Ok(match enrol_upload(&state, &caller, &id, multipart).await? {
        EnrolOutcome::Enrolled(body) => (StatusCode::CREATED, axum::Json(body)).into_response(),
        EnrolOutcome::Rejected(body) => (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response(),
    })
}

/// An upload enrolled (some photo was usable) or refused with each photo's reason.
pub enum EnrolOutcome {
    Enrolled(Enrolment),
    Rejected(EnrolmentRejected),
}

/// Enrolment from an upload, for the API and the console alike.
pub async fn enrol_upload(
    state: &Shared,
    caller: &Caller,
    id: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<EnrolOutcome, ApiError> {
    let id = person_id(id)?;
    let person = find(state, &id).await?;
    let uploads = read_uploads(
        multipart,
        state.config.max_photo_bytes,
        state.config.max_photos_per_upload,
    )
    .await?;
    if uploads.is_empty() {
        return Err(ApiError::bad_request("no_photos", "the request has no file parts"));
    }
    let analysed = analyse(state, uploads).await?;
    let (mut photos, templates): (Vec<PhotoResult>, Vec<_>) = analysed.into_iter().unzip();
    // Which photo each usable template came from, to report the ones already enrolled.
    let from_photo: Vec<usize> = templates
        .iter()
        .enumerate()
        .filter_map(|(photo, t)| t.as_ref().map(|_| photo))
        .collect();
    let templates: Vec<_> = templates.into_iter().flatten().collect();
    if templates.is_empty() {
        return Ok(EnrolOutcome::Rejected(EnrolmentRejected {
            error: ErrorDetail {
                code: "no_usable_photo".into(),
                message: format!(
                    "none of the {} photo(s) shows exactly one usable face; see each photo's result",
                    photos.len()
                ),
            },
            photos,
        }));
    }
    let new = people::enrol(
        &state.services,
        &caller.name,
        &id,
        &person.display_name,
        &state.model_id,
        &templates,
    )
    .await?;
    for (photo, _) in from_photo.iter().zip(&new).filter(|(_, new)| !**new) {
        let result = &mut photos[*photo];
        result.status = "already_enrolled".into();
        result.message = "this photo is already enrolled for this person: nothing added".into();
    }
    Ok(EnrolOutcome::Enrolled(Enrolment {
        person_id: id.to_string(),
        model_id: state.model_id.clone(),
        templates_added: new.iter().filter(|new| **new).count() as u64,
        photos,
    }))
}

/// One photo of an upload: its file name, and its bytes or why it was refused before analysis.
pub(super) type Upload = (String, Result<Vec<u8>, PhotoResult>);

/// The file parts of an enrolment upload; a part over `max_photo` bytes is refused on its own,
/// more than `max_parts` parts refuse the whole upload.
pub(super) async fn read_uploads(
    multipart: Result<Multipart, MultipartRejection>,
    max_photo: usize,
    max_parts: usize,
) -> Result<Vec<Upload>, ApiError> {
    let mut multipart = multipart.map_err(|r| {
        ApiError::new(
            r.status(),
            "invalid_body",
            format!("expected multipart/form-data: {}", r.body_text()),
        )
    })?;
    let mut uploads: Vec<Upload> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if uploads.len() == max_parts {
            return Err(ApiError::bad_request(
                "too_many_photos",
                format!("an upload may have at most {max_parts} photos; send the rest in another request"),
            ));
        }
        let file = field
            .file_name()
            .or(field.name())
            .unwrap_or("photo")
            .chars()
            .take(200)
            .collect::<String>();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        let upload = if bytes.len() > max_photo {
            Err(PhotoResult {
                file: file.clone(),
                status: "rejected".into(),
                code: Some("too_large".into()),
                message: format!("{} bytes; a photo may have at most {max_photo}", bytes.len()),
                quality: None,
            })
        } else {
            Ok(bytes.to_vec())
        };
        uploads.push((file, upload));
    }
    Ok(uploads)
}

/// Each photo's result, and its template when it shows exactly one usable face. The photos are
/// analysed in parallel on the API's engines, which other uploads share in turn.
pub(super) async fn analyse(
    state: &Shared,
    uploads: Vec<Upload>,
) -> Result<Vec<(PhotoResult, Option<NewTemplate>)>, ApiError> {
    analyse_with(state, uploads, template_from_photo).await
}

/// What makes a template of an image's bytes: an enrolment photo's analysis, or a face crop's.
pub(super) type Analysis =
    fn(&mut crate::vision::FaceEngine, &[u8], &str, EnrolCriteria) -> Result<NewTemplate, PhotoError>;

/// Each upload through `analysis` on the engine pool: its result, and its template if usable.
pub(super) async fn analyse_with(
    state: &Shared,
    uploads: Vec<Upload>,
    analysis: Analysis,
) -> Result<Vec<(PhotoResult, Option<NewTemplate>)>, ApiError> {
    let engines = state.engines.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "model_unavailable",
            "the face models are not loaded",
        )
    })?;
    let criteria = state.criteria;
    let analyses = uploads.into_iter().map(|(file, upload)| {
        let engines = Arc::clone(&engines);
        async move {
            let bytes = match upload {
                Err(rejected) => return (rejected, None),
                Ok(bytes) => bytes,
            };
            let name = file.clone();
            let analysed = engines
                .run(move |engine| analysis(engine, &bytes, &name, criteria))
                .await;
            let rejected = |code: &str, message: String| PhotoResult {
                file: file.clone(),
                status: "rejected".into(),
                code: Some(code.into()),
                message,
                quality: None,
            };
            match analysed {
                Ok(Ok(template)) => (
                    PhotoResult {
                        file: file.clone(),
                        status: "enrolled".into(),
                        code: None,
                        message: "one usable face".into(),
                        quality: Some(template.quality),
                    },
                    Some(template),
                ),
                Ok(Err(e)) => (rejected(photo_code(&e), e.to_string()), None),
                Err(panicked) => {
                    tracing::error!(file = %file, error = %panicked, "photo analysis panicked");
                    (rejected("analysis_failed", panicked.to_string()), None)
                }
            }
        }
    });
    // At most one photo per engine of this upload waits for an engine at a time: the queue is
    // first come, first served, so another upload's photo gets the next free engine instead of
    // waiting behind every photo of this one.
    let in_flight = engines.size();
    Ok(futures::StreamExt::collect(futures::StreamExt::buffered(futures::stream::iter(analyses), in_flight)).await)
}
