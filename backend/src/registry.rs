//! `ProviderRegistry`: the providers as this process configured them (keys, the CLI, the model
//! catalogue): whether each is usable and why not, its default model, its models and their context
//! windows. The catalogue and settings rules take this, not the whole `BackendConfig`.

use std::sync::Arc;

use domain::{Capabilities, ProviderId};
use providers::anthropic::AnthropicConfig;
use providers::openai::OpenAiConfig;
use serde::Serialize;

use crate::catalog::{Catalog, Prices, ANY_MODEL};

/// What the registry needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    catalog: Arc<Catalog>,
    anthropic: AnthropicConfig,
    /// The Claude Code binary (a path, or a name on PATH).
    claude_bin: String,
    openai: OpenAiConfig,
    openai_compatible: OpenAiConfig,
    /// The OpenAI-compatible server's model, used when a conversation names none.
    compatible_model: Option<String>,
    /// Its context window, for models the catalogue does not list exactly.
    compatible_window: Option<u64>,
}

/// A model as `GET /api/providers` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub id: String,
    pub context_window: u64,
    pub reasoning: bool,
    /// USD per million tokens.
    pub price_per_mtok: Prices,
}

/// One entry of `GET /api/providers`.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderInfo {
    pub id: ProviderId,
    pub name: &'static str,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
    /// What it can do (the one table: `ProviderId::capabilities`).
    pub capabilities: Capabilities,
    /// The model used when a conversation names none.
    pub default_model: Option<String>,
    pub models: Vec<ModelInfo>,
}

impl ProviderRegistry {
    pub fn new(
        catalog: Arc<Catalog>,
        anthropic: AnthropicConfig,
        claude_bin: String,
        openai: OpenAiConfig,
        openai_compatible: OpenAiConfig,
        compatible_model: Option<String>,
        compatible_window: Option<u64>,
    ) -> Self {
        Self { catalog, anthropic, claude_bin, openai, openai_compatible, compatible_model, compatible_window }
    }

    /// The model catalogue.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The providers as configured in this process.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        ProviderId::ALL
            .into_iter()
            .map(|id| {
                let unavailable_reason = self.unavailable_reason(id);
                ProviderInfo {
                    id,
                    name: id.name(),
                    available: unavailable_reason.is_none(),
                    unavailable_reason,
                    capabilities: id.capabilities(),
                    default_model: self.default_model(id),
                    models: self.models(id),
                }
            })
            .collect()
    }

    /// Why `provider` cannot be used right now, or `None` when it can.
    pub fn unavailable_reason(&self, provider: ProviderId) -> Option<String> {
        match provider {
            ProviderId::Anthropic => self
                .anthropic
                .effective_key()
                .is_none()
                .then(|| "no API key: set ANTHROPIC_API_KEY or add one on the settings page".to_string()),
            ProviderId::ClaudeCode => providers::claude_code::locate(&self.claude_bin).err(),
            ProviderId::OpenAi if self.openai.effective_key().is_none() => {
                Some("no API key: set OPENAI_API_KEY or add one on the settings page".to_string())
            }
            ProviderId::OpenAi => self.openai.unavailable_reason(),
            ProviderId::OpenAiCompatible if self.openai_compatible.base_url.trim().is_empty() => Some(
                "no server: set OPENAI_COMPATIBLE_BASE_URL (e.g. http://127.0.0.1:8080 for llama.cpp, http://127.0.0.1:11434 for Ollama)"
                    .to_string(),
            ),
            ProviderId::OpenAiCompatible => self.openai_compatible.unavailable_reason(),
        }
    }

    /// The model a conversation at `provider` gets when it names none: the catalogue's default, or
    /// for OpenAI-compatible servers `OPENAI_COMPATIBLE_MODEL`.
    pub fn default_model(&self, provider: ProviderId) -> Option<String> {
        match provider {
            ProviderId::OpenAiCompatible => self.compatible_model.clone(),
            _ => None,
        }
        .or_else(|| self.catalog.default_model(provider.as_str()).map(str::to_string))
    }

    /// Whether `model` takes a thinking budget or reasoning effort (unknown models are assumed to).
    pub fn model_reasons(&self, provider: ProviderId, model: &str) -> bool {
        self.catalog.model(provider.as_str(), model).is_none_or(|m| m.reasoning)
    }

    /// The context window of `model` at `provider`: the catalogue's exact entry, else (for
    /// OpenAI-compatible servers) `OPENAI_COMPATIBLE_CONTEXT_WINDOW`, else the `*` entry; 0 if unknown.
    pub fn context_window(&self, provider: ProviderId, model: &str) -> u64 {
        let exact = self.catalog.providers.get(provider.as_str()).and_then(|p| p.models.iter().find(|m| m.id == model));
        match (exact, provider, self.compatible_window) {
            (Some(entry), _, _) => entry.context_window,
            (None, ProviderId::OpenAiCompatible, Some(window)) => window,
            _ => self.catalog.model(provider.as_str(), model).map_or(0, |m| m.context_window),
        }
    }

    fn info(&self, provider: ProviderId, id: &str) -> ModelInfo {
        let entry = self.catalog.model(provider.as_str(), id);
        ModelInfo {
            id: id.to_string(),
            context_window: self.context_window(provider, id),
            reasoning: entry.is_none_or(|m| m.reasoning),
            price_per_mtok: entry.map(|m| m.price_per_mtok).unwrap_or_default(),
        }
    }

    /// The models listed for `provider`: the catalogue's (not `*`), and for OpenAI-compatible
    /// servers the configured model first.
    fn models(&self, provider: ProviderId) -> Vec<ModelInfo> {
        let mut ids: Vec<String> = Vec::new();
        if provider == ProviderId::OpenAiCompatible {
            ids.extend(self.compatible_model.clone());
        }
        if let Some(entry) = self.catalog.providers.get(provider.as_str()) {
            for model in &entry.models {
                if model.id != ANY_MODEL && !ids.contains(&model.id) {
                    ids.push(model.id.clone());
                }
            }
        }
        ids.iter().map(|id| self.info(provider, id)).collect()
    }
}

/// The error for a provider id that is none of `ProviderId::ALL`.
pub fn unknown_provider(id: &str) -> crate::error::BackendError {
    let names: Vec<&str> = ProviderId::ALL.iter().map(|p| p.as_str()).collect();
    crate::error::BackendError::invalid(format!("unknown provider `{id}`; known: {}", names.join(", ")))
}
