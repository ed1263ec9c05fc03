//! Per-conversation settings: what a new conversation asks for, the server's defaults, and the
//! settings that result (recorded in `ConversationConfigured`).
//!
//! - `max_tokens` (response length) applies to every API provider.
//! - `thinking_budget` (extended thinking) applies to `anthropic` and `claude_code`.
//! - `reasoning_effort` applies to `openai` and `openai_compatible`; a local server gets one only
//!   when the conversation asks for it, since many ignore or refuse it.

use domain::{ConversationSettings, ConversationView};

use domain::ProviderId;

use crate::error::BackendError;
use crate::registry::ProviderRegistry;

/// The server's defaults for new conversations (`PD_MAX_TOKENS`, `PD_THINKING_BUDGET`, `PD_REASONING_EFFORT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnDefaults {
    pub max_tokens: u32,
    /// `None`: no extended thinking unless a conversation asks for it.
    pub thinking_budget: Option<u32>,
    /// For OpenAI models that reason.
    pub reasoning_effort: Option<String>,
}

impl Default for TurnDefaults {
    fn default() -> Self {
        Self { max_tokens: 8192, thinking_budget: None, reasoning_effort: Some("medium".into()) }
    }
}

/// The optional settings of `POST /api/conversations`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestedSettings {
    pub max_tokens: Option<u32>,
    /// `Some(0)` turns thinking off even when the default turns it on.
    pub thinking_budget: Option<u32>,
    pub reasoning_effort: Option<String>,
}

/// The settings a new conversation at `provider` with `model` runs with. Asking for a setting
/// the provider does not have is a 400, so a typo does not go unnoticed.
pub fn resolve(
    registry: &ProviderRegistry,
    defaults: &TurnDefaults,
    provider: ProviderId,
    model: &str,
    requested: RequestedSettings,
) -> Result<ConversationSettings, BackendError> {
    let can = provider.capabilities();
    if requested.thinking_budget.is_some() && !can.thinking {
        return Err(BackendError::invalid(format!(
            "`thinking_budget` applies to the {} providers, not `{provider}`",
            names(|p| p.capabilities().thinking)
        )));
    }
    if requested.reasoning_effort.is_some() && !can.reasoning_effort {
        return Err(BackendError::invalid(format!(
            "`reasoning_effort` applies to the {} providers, not `{provider}`",
            names(|p| p.capabilities().reasoning_effort)
        )));
    }
    let model_reasons = registry.model_reasons(provider, model);
    let thinking_budget = match requested.thinking_budget {
        Some(0) => None,
        Some(budget) => Some(budget),
        None if can.thinking && model_reasons => defaults.thinking_budget,
        None => None,
    };
    let reasoning_effort = match requested.reasoning_effort {
        Some(effort) => Some(effort),
        None if can.default_reasoning_effort && model_reasons => defaults.reasoning_effort.clone(),
        None => None,
    };
    Ok(ConversationSettings {
        max_tokens: requested.max_tokens.unwrap_or(defaults.max_tokens),
        thinking_budget,
        reasoning_effort,
        context_window: registry.context_window(provider, model),
    })
}

/// The ids of the providers that have a capability, for messages: `a and b`.
fn names(has: impl Fn(ProviderId) -> bool) -> String {
    let ids: Vec<&str> = ProviderId::ALL.into_iter().filter(|p| has(*p)).map(ProviderId::as_str).collect();
    ids.join(" and ")
}

/// The settings a conversation's turns run with: its recorded ones, or for conversations from
/// before settings existed, what it would get today without asking for anything.
pub fn effective(registry: &ProviderRegistry, defaults: &TurnDefaults, view: &ConversationView) -> ConversationSettings {
    view.settings.clone().unwrap_or_else(|| {
        ProviderId::parse(&view.provider)
            .and_then(|provider| resolve(registry, defaults, provider, &view.model, RequestedSettings::default()).ok())
            .unwrap_or(ConversationSettings { max_tokens: defaults.max_tokens, ..ConversationSettings::default() })
    })
}
