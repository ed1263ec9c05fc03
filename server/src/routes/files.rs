//! Workspace files: preview (`GET`) and upload (`POST`), every path confined to the workspace.
//!
//! - `GET /api/workspaces/{workspace}/files?path=…`: a folder lists its entries; a text file up to
//!   2 MB comes back as `{"path","size","text","language","html"}` (`html` highlighted by extension,
//!   escaped plain text when the kind is unknown); binary files are 415, larger ones 413, and
//!   credentials files (`.env`, private keys, …) 403.
//! - `POST /api/workspaces/{workspace}/files?path=…[&overwrite=true]`: the raw body becomes the file;
//!   at most `PD_UPLOAD_MAX_BYTES` (413 beyond), safe names only, 409 if it exists and
//!   `overwrite` is not set. Answers 201 `{"path","size"}`.
//!
//! Paths go through `security::paths` (no `..`, no absolute paths, no NUL, no backslashes, no
//! overlong paths, symlinks resolved and kept inside).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::http_error::{ApiError, ApiPath as UrlPath, ApiQuery as Query};
use crate::security::paths::{self, PathError};
use crate::security::Security;
use crate::startup::AppState;

/// Largest file the preview shows.
pub const PREVIEW_MAX_BYTES: u64 = 2 * 1024 * 1024;

type ApiResult<T> = Result<T, ApiError>;

impl From<PathError> for ApiError {
    fn from(error: PathError) -> Self {
        let status = match error {
            PathError::NotFound => StatusCode::NOT_FOUND,
            PathError::Escapes => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, error.to_string())
    }
}

#[derive(Deserialize)]
pub struct FileParams {
    path: Option<String>,
    overwrite: Option<String>,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    kind: &'static str,
    size: u64,
}

/// The workspace folder, resolved: a direct child of `WORKSPACE_ROOT`, not a link out of it.
fn workspace_dir(state: &AppState, workspace: &str) -> ApiResult<PathBuf> {
    let name = backend::workspaces::validate(workspace).map_err(ApiError::from)?;
    let root = &state.backend.config.workspace_root;
    let dir = paths::confine(root, name).map_err(|error| match error {
        PathError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "workspace not found"),
        other => ApiError::from(other),
    })?;
    if !dir.is_dir() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "workspace not found"));
    }
    Ok(dir)
}

/// Files that hold credentials are never shown, even inside a workspace.
fn is_credentials_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let env =
        lower == ".env" || (lower.starts_with(".env.") && !matches!(lower.as_str(), ".env.example" | ".env.sample" | ".env.template"));
    env || matches!(
        lower.as_str(),
        ".netrc"
            | ".git-credentials"
            | ".credentials.json"
            | "credentials.json"
            | ".pgpass"
            | "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | "secret.key"
    ) || lower.ends_with(".pem")
        || lower.ends_with(".key")
        || lower.ends_with(".p12")
}

/// `GET /api/workspaces/{workspace}/files?path=`
pub async fn read(
    State(state): State<AppState>,
    UrlPath(workspace): UrlPath<String>,
    Query(params): Query<FileParams>,
) -> ApiResult<axum::response::Response> {
    let dir = workspace_dir(&state, &workspace)?;
    let client_path = params.path.unwrap_or_default();
    let target = paths::confine(&dir, &client_path)?;
    let relative = target.strip_prefix(&dir).unwrap_or(Path::new("")).to_string_lossy().into_owned();
    let meta = tokio::fs::metadata(&target).await.map_err(|_| ApiError::from(PathError::NotFound))?;
    if meta.is_dir() {
        let mut entries = Vec::new();
        let mut listing =
            tokio::fs::read_dir(&target).await.map_err(|_| ApiError::new(StatusCode::FORBIDDEN, "the folder cannot be read"))?;
        while let Ok(Some(entry)) = listing.next_entry().await {
            let Ok(kind) = entry.file_type().await else { continue };
            let size = if kind.is_file() { entry.metadata().await.map(|m| m.len()).unwrap_or(0) } else { 0 };
            let kind = if kind.is_symlink() {
                "symlink"
            } else if kind.is_dir() {
                "dir"
            } else {
                "file"
            };
            entries.push(Entry { name: entry.file_name().to_string_lossy().into_owned(), kind, size });
        }
        entries.sort_by(|a, b| (a.kind != "dir", &a.name).cmp(&(b.kind != "dir", &b.name)));
        return Ok(Json(json!({ "path": relative, "entries": entries })).into_response());
    }
    if !meta.is_file() {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "only regular files can be shown"));
    }
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if is_credentials_file(&name) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "credentials files (.env, private keys, …) are never shown"));
    }
    if meta.len() > PREVIEW_MAX_BYTES {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the file is larger than the 2 MB preview limit"));
    }
    let bytes = tokio::fs::read(&target).await.map_err(|_| ApiError::new(StatusCode::FORBIDDEN, "the file cannot be read"))?;
    if bytes.len() as u64 > PREVIEW_MAX_BYTES {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the file is larger than the 2 MB preview limit"));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => text,
        _ => return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "binary files cannot be previewed")),
    };
    let name = relative.clone();
    let (text, language, html) = tokio::task::spawn_blocking(move || {
        let (language, html) = backend::render::highlight_file(&name, &text);
        (text, language, html)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?;
    Ok(Json(json!({ "path": relative, "size": meta.len(), "text": text, "language": language, "html": html })).into_response())
}

/// A name an upload may create: no leading dot or dash, no separators or control characters,
/// nothing a shell or Windows treats specially, at most 255 bytes.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= paths::MAX_SEGMENT_BYTES
        && !name.starts_with(['.', '-', ' '])
        && !name.ends_with([' ', '.'])
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ' ' | '(' | ')' | '+' | ',' | '@' | '=' | '[' | ']'))
}

/// `POST /api/workspaces/{workspace}/files?path=[&overwrite=true]`
pub async fn upload(
    State(state): State<AppState>,
    UrlPath(workspace): UrlPath<String>,
    Query(params): Query<FileParams>,
    security: Option<Extension<Arc<Security>>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let cap = security.map(|Extension(s)| s.config.upload_max_bytes).unwrap_or(crate::security::DEFAULT_UPLOAD_MAX_BYTES);
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("uploads are limited to {cap} bytes (PD_UPLOAD_MAX_BYTES)"));
    let declared = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > cap) {
        return Err(too_large());
    }
    let dir = workspace_dir(&state, &workspace)?;
    let client_path = params.path.unwrap_or_default();
    let segments = paths::segments(&client_path)?;
    let Some(name) = segments.last() else { return Err(ApiError::new(StatusCode::BAD_REQUEST, "`path` must name the file to create")) };
    if !segments.iter().all(|s| safe_name(s)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "file and folder names may only use letters, digits, spaces and . _ - ( ) + , @ = [ ], and may not start with . or -",
        ));
    }
    let overwrite = matches!(params.overwrite.as_deref(), Some("true" | "1"));
    let (target, missing) = paths::confine_new(&dir, &client_path)?;
    if missing == 0 {
        if target.is_dir() {
            return Err(ApiError::new(StatusCode::CONFLICT, "a folder of that name exists"));
        }
        if !overwrite {
            return Err(ApiError::new(StatusCode::CONFLICT, "the file exists; add overwrite=true to replace it"));
        }
    }
    // The resolved name: an existing link to a file inside is replaced where it points.
    let name = target.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| name.into());
    let parent = target.parent().ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "`path` must name a file"))?.to_path_buf();
    tokio::fs::create_dir_all(&parent).await.map_err(|_| ApiError::new(StatusCode::CONFLICT, "the folder cannot be created"))?;
    // The folders now exist: resolve again, so a link swapped in meanwhile cannot lead out.
    let parent = parent.canonicalize().map_err(|_| ApiError::from(PathError::Unresolvable))?;
    if !parent.starts_with(&dir) {
        return Err(PathError::Escapes.into());
    }
    let target = parent.join(&name);
    let temp = parent.join(format!(".upload-{}.part", uuid::Uuid::new_v4().simple()));
    let written = write_capped(&temp, body, cap).await;
    let size = match written {
        Ok(size) => size,
        Err(error) => {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(error.unwrap_or_else(too_large));
        }
    };
    let placed = if overwrite {
        tokio::fs::rename(&temp, &target).await
    } else {
        // A link fails if the name was taken meanwhile; a rename would replace it.
        let linked = tokio::fs::hard_link(&temp, &target).await;
        let _ = tokio::fs::remove_file(&temp).await;
        linked
    };
    if let Err(error) = placed {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(match error.kind() {
            std::io::ErrorKind::AlreadyExists => ApiError::new(StatusCode::CONFLICT, "the file exists; add overwrite=true to replace it"),
            _ => ApiError::new(StatusCode::CONFLICT, "the file cannot be written there"),
        });
    }
    let relative = target.strip_prefix(&dir).unwrap_or(Path::new(&name)).to_string_lossy().into_owned();
    tracing::info!(workspace = %workspace, size, "file uploaded");
    Ok((StatusCode::CREATED, Json(json!({ "path": relative, "size": size }))))
}

/// Streams `body` into a new file at `path`; `Err(None)` when it grows past `cap`.
async fn write_capped(path: &Path, body: Body, cap: u64) -> Result<u64, Option<ApiError>> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(|_| Some(ApiError::new(StatusCode::CONFLICT, "the file cannot be written there")))?;
    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Some(ApiError::new(StatusCode::BAD_REQUEST, "the upload was interrupted")))?;
        size += chunk.len() as u64;
        if size > cap {
            return Err(None);
        }
        file.write_all(&chunk).await.map_err(|_| Some(ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "the file could not be written")))?;
    }
    file.sync_all().await.map_err(|_| Some(ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "the file could not be written")))?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_plain() {
        for good in ["notes.txt", "IMG 2024 (1).jpg", "résumé.pdf", "a+b=c.md", "v1.2.tar.gz"] {
            assert!(safe_name(good), "{good}");
        }
        for bad in [
            "",
            ".env",
            ".bashrc",
            "-rf",
            "a/b",
            "a\\b",
            "a:b",
            "x\0y",
            "trailing.",
            "trailing ",
            "a\nb",
            "*.txt",
            "$(id)",
            "<x>",
            &"x".repeat(256),
        ] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn credentials_files_are_recognised() {
        for name in [".env", ".env.local", ".ENV", "id_rsa", "server.pem", "secret.key", ".credentials.json", ".git-credentials"] {
            assert!(is_credentials_file(name), "{name}");
        }
        for name in [".env.example", "main.rs", "README.md", "environment.txt"] {
            assert!(!is_credentials_file(name), "{name}");
        }
    }
}
