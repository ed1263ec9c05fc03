//! The conversation JSON API: create, list, show, prompt, abort, archive, rename, delete, audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use backend::settings::RequestedSettings;
use backend::views::{ArchivedFilter, ListPage, ListQuery};
use backend::{NewConversation, PageRequest};
use domain::{ConversationCommand, ConversationView, Decision, PermissionMode};
use serde::Deserialize;
use serde_json::json;

use crate::app_state::AppState;
use crate::http_error::{ApiError, ApiJson, ApiPath as Path, ApiQuery as Query};

type ApiResult<T> = Result<T, ApiError>;

/// Conversation ids are UUIDs; anything else cannot exist.
pub fn conversation_id(raw: &str) -> ApiResult<String> {
    raw.parse::<backend::ConversationId>().map(|id| id.to_string()).map_err(|_| ApiError::not_found())
}

pub async fn list_providers(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.backend.providers())
}

/// The model catalogue: context windows and USD prices per million tokens, by provider.
pub async fn pricing(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.backend.catalog().clone())
}

#[derive(Deserialize)]
pub struct CreateBody {
    /// Omitted: the chat default (`/api/settings/defaults`).
    #[serde(default)]
    provider: Option<String>,
    model: Option<String>,
    title: Option<String>,
    workspace: Option<String>,
    #[serde(default)]
    permission_mode: Option<PermissionMode>,
    /// Response length in tokens.
    max_tokens: Option<u32>,
    /// Extended thinking budget (anthropic, claude_code); 0 turns it off.
    thinking_budget: Option<u32>,
    /// Reasoning effort (openai, openai_compatible).
    reasoning_effort: Option<String>,
}

pub async fn create(State(state): State<AppState>, ApiJson(body): ApiJson<CreateBody>) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    let new = NewConversation {
        provider: body.provider.unwrap_or_default(),
        model: body.model,
        title: body.title,
        workspace: body.workspace,
        permission_mode: body.permission_mode,
        settings: RequestedSettings {
            max_tokens: body.max_tokens,
            thinking_budget: body.thinking_budget,
            reasoning_effort: body.reasoning_effort,
        },
    };
    let view = state.backend.create_conversation(new).await?;
    Ok((StatusCode::CREATED, Json(rendered(view))))
}

#[derive(Deserialize)]
pub struct DecisionBody {
    decision: Decision,
}

pub async fn decide_approval(
    State(state): State<AppState>,
    Path((id, approval_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ConversationView>> {
    let id = conversation_id(&id)?;
    state.backend.decide_approval(&id, &approval_id, body.decision).await?;
    Ok(Json(rendered(state.backend.view(&id, None).await?)))
}

#[derive(Deserialize)]
pub struct ListParams {
    archived: Option<String>,
    q: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

pub async fn list(State(state): State<AppState>, Query(params): Query<ListParams>) -> ApiResult<Json<ListPage>> {
    let archived = match params.archived.as_deref().unwrap_or("") {
        "" | "false" | "active" => ArchivedFilter::Active,
        "true" | "archived" => ArchivedFilter::Archived,
        "all" => ArchivedFilter::All,
        other => {
            let message = format!("`archived` must be active, archived or all (or false, true), not `{other}`");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
        }
    };
    let limit = match params.limit.as_deref() {
        None | Some("") => 50,
        Some(raw) => match raw.parse::<u32>() {
            Ok(limit @ 1..=200) => limit,
            _ => return Err(ApiError::new(StatusCode::BAD_REQUEST, "`limit` must be a number from 1 to 200")),
        },
    };
    let search = params.q.filter(|q| !q.trim().is_empty());
    let query = ListQuery { archived, search, limit, before: params.before.filter(|b| !b.is_empty()) };
    Ok(Json(state.backend.list_conversations(&query).await?))
}

#[derive(Deserialize)]
pub struct ShowParams {
    at: Option<String>,
    turns: Option<String>,
    from_turn: Option<String>,
}

/// An optional number query parameter: absent or empty is `None`, anything else must parse.
pub fn number_param<T: std::str::FromStr>(raw: Option<&str>, what: &str) -> ApiResult<Option<T>> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => raw.trim().parse::<T>().map(Some).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, what.to_string())),
    }
}

/// `GET /api/conversations/{id}?at=SEQ&turns=N&from_turn=T`
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ShowParams>,
) -> ApiResult<Json<ConversationView>> {
    let id = conversation_id(&id)?;
    let at = number_param::<u64>(params.at.as_deref(), "`at` must be an event sequence number")?;
    let turns = number_param::<u32>(params.turns.as_deref(), "`turns` must be a number of turns from 1 to 200")?;
    if turns.is_some_and(|n| !(1..=backend::MAX_PAGE_TURNS).contains(&n)) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "`turns` must be a number of turns from 1 to 200"));
    }
    let from_turn = number_param::<u32>(params.from_turn.as_deref(), "`from_turn` must be a turn number")?;
    Ok(Json(state.backend.view_page(&id, at, PageRequest { turns, from_turn }).await?))
}

#[derive(Deserialize)]
pub struct MessageBody {
    text: String,
}

pub async fn send_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    let id = conversation_id(&id)?;
    let turn = state.backend.submit_prompt(&id, body.text).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "turn": turn }))))
}

pub async fn abort(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    let id = conversation_id(&id)?;
    state.backend.abort_turn(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "aborted" }))))
}

pub async fn archive(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ConversationView>> {
    update(&state, &id, ConversationCommand::Archive).await
}

pub async fn unarchive(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ConversationView>> {
    update(&state, &id, ConversationCommand::Unarchive).await
}

#[derive(Deserialize)]
pub struct RenameBody {
    title: String,
}

pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Json<ConversationView>> {
    update(&state, &id, ConversationCommand::Rename { title: body.title }).await
}

async fn update(state: &AppState, id: &str, command: ConversationCommand) -> ApiResult<Json<ConversationView>> {
    let id = conversation_id(id)?;
    Ok(Json(rendered(state.backend.update_conversation(&id, command).await?)))
}

/// A view answered to the client: text blocks carry their rendered `html`.
fn rendered(mut view: ConversationView) -> ConversationView {
    backend::render::render_view(&mut view);
    view
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = conversation_id(&id)?;
    state.backend.delete_conversation(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn audit_log(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    let id = conversation_id(&id)?;
    Ok(Json(state.backend.audit(&id).await?))
}
