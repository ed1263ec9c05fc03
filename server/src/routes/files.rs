//! Workspace files over HTTP: preview (`GET`) and upload (`POST`); the rules live in
//! `backend::workspace_files`, and this only translates requests and answers.
//!
//! - `GET /api/workspaces/{workspace}/files?path=…`: a folder lists its entries; a text file up to
//!   2 MB comes back as `{"path","size","text","language","html"}`; binary files are 415, larger ones
//!   413, and credentials files (`.env`, private keys, …) 403.
//! - `POST /api/workspaces/{workspace}/files?path=…[&overwrite=true]`: the raw body becomes the file;
//!   at most `PD_UPLOAD_MAX_BYTES` (413 beyond), safe names only, 409 if it exists and
//!   `overwrite` is not set. Answers 201 `{"path","size"}`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;

use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiPath as UrlPath, ApiQuery as Query};
use crate::security::Security;

#[derive(Deserialize)]
pub struct FileParams {
    path: Option<String>,
    overwrite: Option<String>,
}

/// `GET /api/workspaces/{workspace}/files?path=`
pub async fn read(
    State(state): State<AppState>,
    UrlPath(workspace): UrlPath<String>,
    Query(params): Query<FileParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.backend.workspace_item(&workspace, &params.path.unwrap_or_default()).await?))
}

/// `POST /api/workspaces/{workspace}/files?path=[&overwrite=true]`
pub async fn upload(
    State(state): State<AppState>,
    UrlPath(workspace): UrlPath<String>,
    Query(params): Query<FileParams>,
    security: Option<Extension<Arc<Security>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let cap = security.map(|Extension(s)| s.config.upload_max_bytes).unwrap_or(crate::security::DEFAULT_UPLOAD_MAX_BYTES);
    let declared = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > cap) {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("uploads are limited to {cap} bytes (PD_UPLOAD_MAX_BYTES)")));
    }
    let overwrite = matches!(params.overwrite.as_deref(), Some("true" | "1"));
    let path = params.path.unwrap_or_default();
    let uploaded = state.backend.upload_file(&workspace, &path, overwrite, body.into_data_stream(), cap).await?;
    Ok((StatusCode::CREATED, Json(uploaded)))
}
