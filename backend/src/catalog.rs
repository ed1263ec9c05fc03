//! The provider catalogue: which providers exist, whether they are usable (and why not), their models and prices.

use serde::Serialize;

use crate::state::BackendConfig;

/// A model a provider offers.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub id: &'static str,
    pub context_window: u32,
    /// USD per million input and output tokens.
    #[serde(skip)]
    pub price_per_mtok: (f64, f64),
}

/// One entry of `GET /api/providers`.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
    pub models: Vec<ModelInfo>,
}

pub const ANTHROPIC: &str = "anthropic";
pub const CLAUDE_CODE: &str = "claude_code";

const CLAUDE_MODELS: [ModelInfo; 3] = [
    ModelInfo { id: "claude-sonnet-4-5", context_window: 200_000, price_per_mtok: (3.0, 15.0) },
    ModelInfo { id: "claude-opus-4-1", context_window: 200_000, price_per_mtok: (15.0, 75.0) },
    ModelInfo { id: "claude-haiku-4-5", context_window: 200_000, price_per_mtok: (1.0, 5.0) },
];

/// The providers as configured in this process.
pub fn providers(config: &BackendConfig) -> Vec<ProviderInfo> {
    let anthropic_reason = config
        .anthropic
        .effective_key()
        .is_none()
        .then(|| "no API key: set ANTHROPIC_API_KEY or add one on the settings page".to_string());
    let claude_reason = providers::claude_code::locate(&config.claude_code.bin).err();
    vec![
        ProviderInfo {
            id: ANTHROPIC,
            name: "Anthropic",
            available: anthropic_reason.is_none(),
            unavailable_reason: anthropic_reason,
            models: CLAUDE_MODELS.to_vec(),
        },
        ProviderInfo {
            id: CLAUDE_CODE,
            name: "Claude Code",
            available: claude_reason.is_none(),
            unavailable_reason: claude_reason,
            models: CLAUDE_MODELS.to_vec(),
        },
    ]
}

/// The model used when a conversation names none.
pub fn default_model(provider: &str) -> Option<&'static str> {
    matches!(provider, ANTHROPIC | CLAUDE_CODE).then_some(CLAUDE_MODELS[0].id)
}

/// The cost in USD of a turn's tokens; unknown models cost 0.
pub fn cost_usd(model: &str, input_tokens: u64, output_tokens: u64) -> f64 {
    CLAUDE_MODELS.iter().find(|m| m.id == model).map_or(0.0, |m| {
        (input_tokens as f64 * m.price_per_mtok.0 + output_tokens as f64 * m.price_per_mtok.1) / 1_000_000.0
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cost_follows_the_price_table() {
        let cost = super::cost_usd("claude-sonnet-4-5", 1_000_000, 100_000);
        assert!((cost - 4.5).abs() < 1e-9, "{cost}");
        assert_eq!(super::cost_usd("unknown", 10, 10), 0.0);
    }
}
