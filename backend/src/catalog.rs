//! The model catalogue: each provider's models with context windows and prices, and what a turn
//! costs. (Which providers are usable, and their models as listed, is `registry.rs`.)
//!
//! The models and prices come from a data file: `config/models.json`, built in, or the file
//! `PD_MODELS_FILE` names (the server reads it at startup).

use std::collections::BTreeMap;

use domain::ProviderId;
use providers::Usage;
use serde::{Deserialize, Serialize};

/// The model id that matches any model of its provider.
pub const ANY_MODEL: &str = "*";

/// The built-in catalogue.
const SHIPPED: &str = include_str!("../../config/models.json");

/// USD per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

impl Prices {
    /// What `usage` costs: uncached input, cache writes, cache reads and output (reasoning included) at their prices.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let tokens = usage.input_tokens as f64 * self.input
            + usage.cache_creation_input_tokens as f64 * self.cache_write
            + usage.cache_read_input_tokens as f64 * self.cache_read
            + usage.output_tokens as f64 * self.output;
        tokens / 1_000_000.0
    }
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// One model of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub context_window: u64,
    /// False when the model takes no thinking budget or reasoning effort.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub reasoning: bool,
    pub price_per_mtok: Prices,
}

/// A provider's models in the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderModels {
    /// Used when a conversation names no model.
    #[serde(default)]
    pub default_model: Option<String>,
    #[serde(default)]
    pub models: Vec<ModelEntry>,
}

/// The model catalogue, as served by `GET /api/pricing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Where it came from: `built-in` or the `PD_MODELS_FILE` path.
    #[serde(default, skip_deserializing)]
    pub source: String,
    #[serde(default)]
    pub about: String,
    pub providers: BTreeMap<String, ProviderModels>,
}

impl Catalog {
    /// The built-in catalogue (`config/models.json`).
    pub fn shipped() -> Catalog {
        Catalog::parse(SHIPPED, "built-in").expect("the built-in config/models.json is valid")
    }

    /// Reads and checks a catalogue file; the error says what is wrong and where.
    pub fn load(path: &std::path::Path) -> Result<Catalog, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Catalog::parse(&text, &path.display().to_string()).map_err(|problem| format!("{}: {problem}", path.display()))
    }

    /// Parses and checks a catalogue.
    pub fn parse(text: &str, source: &str) -> Result<Catalog, String> {
        let mut catalog: Catalog = serde_json::from_str(text).map_err(|e| format!("not a valid model catalogue: {e}"))?;
        catalog.source = source.to_string();
        catalog.check()?;
        Ok(catalog)
    }

    fn check(&self) -> Result<(), String> {
        let known: Vec<&str> = ProviderId::ALL.iter().map(|p| p.as_str()).collect();
        for (provider, entry) in &self.providers {
            if ProviderId::parse(provider).is_none() {
                return Err(format!("unknown provider `{provider}` (known: {})", known.join(", ")));
            }
            let mut seen = std::collections::HashSet::new();
            for (i, model) in entry.models.iter().enumerate() {
                let at = format!("providers.{provider}.models[{i}]");
                if model.id.trim().is_empty() || model.id.len() > 200 {
                    return Err(format!("{at}.id must be 1 to 200 characters"));
                }
                if !seen.insert(model.id.as_str()) {
                    return Err(format!("{at}: model `{}` is listed twice", model.id));
                }
                if model.context_window == 0 {
                    return Err(format!("{at}.context_window must be at least 1"));
                }
                let p = model.price_per_mtok;
                for (name, price) in
                    [("input", p.input), ("output", p.output), ("cache_write", p.cache_write), ("cache_read", p.cache_read)]
                {
                    if !price.is_finite() || price < 0.0 {
                        return Err(format!("{at}.price_per_mtok.{name} must be a number ≥ 0"));
                    }
                }
            }
            if let Some(default) = &entry.default_model {
                if default == ANY_MODEL || !seen.contains(default.as_str()) {
                    return Err(format!("providers.{provider}.default_model `{default}` is not one of its listed models"));
                }
            }
        }
        Ok(())
    }

    /// The entry of `model` at `provider`: an exact match, else the provider's `*` entry.
    pub fn model(&self, provider: &str, model: &str) -> Option<&ModelEntry> {
        let models = &self.providers.get(provider)?.models;
        models.iter().find(|m| m.id == model).or_else(|| models.iter().find(|m| m.id == ANY_MODEL))
    }

    /// The model a conversation gets when it names none.
    pub fn default_model(&self, provider: &str) -> Option<&str> {
        self.providers.get(provider)?.default_model.as_deref()
    }

    /// What a turn's `usage` costs in USD; models the catalogue does not know cost 0.
    pub fn cost_usd(&self, provider: &str, model: &str, usage: &Usage) -> f64 {
        self.model(provider, model).map_or(0.0, |m| m.price_per_mtok.cost(usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, cache_write: u64, cache_read: u64, output: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_creation_input_tokens: cache_write,
            cache_read_input_tokens: cache_read,
            reasoning_tokens: 0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_built_in_catalogue_is_valid_and_has_every_provider() {
        let catalog = Catalog::shipped();
        for id in ProviderId::ALL {
            assert!(catalog.providers.contains_key(id.as_str()), "{id}");
        }
        assert_eq!(catalog.default_model("anthropic"), Some("claude-sonnet-4-5"));
        assert_eq!(catalog.default_model("openai"), Some("gpt-5"));
        assert_eq!(catalog.model("openai_compatible", "llama3.1:8b").map(|m| m.price_per_mtok), Some(Prices::default()));
        assert!(!catalog.model("openai", "gpt-4.1").unwrap().reasoning);
        assert!(catalog.model("openai", "gpt-5").unwrap().reasoning);
    }

    #[test]
    fn anthropic_cost_follows_the_price_table_including_the_cache() {
        let catalog = Catalog::shipped();
        // Sonnet 4.5: $3 in, $15 out, $3.75 cache write, $0.30 cache read per MTok.
        let cost = catalog.cost_usd("anthropic", "claude-sonnet-4-5", &usage(1_000_000, 0, 0, 100_000));
        assert!(close(cost, 4.5), "{cost}");
        let cost = catalog.cost_usd("anthropic", "claude-sonnet-4-5", &usage(2_000, 10_000, 100_000, 1_000));
        // 2000·3 + 10000·3.75 + 100000·0.30 + 1000·15 = 6000 + 37500 + 30000 + 15000 = 88500 µ$
        assert!(close(cost, 0.0885), "{cost}");
        let opus = catalog.cost_usd("anthropic", "claude-opus-4-1", &usage(1_000, 0, 0, 1_000));
        assert!(close(opus, 0.09), "{opus}");
    }

    #[test]
    fn openai_cost_charges_cached_input_at_the_cache_read_price_and_reasoning_as_output() {
        let catalog = Catalog::shipped();
        // gpt-5: $1.25 in, $10 out, $0.125 cached. 10k prompt of which 4k cached, 2k output (1.5k of it reasoning).
        let mut u = usage(6_000, 0, 4_000, 2_000);
        u.reasoning_tokens = 1_500;
        let cost = catalog.cost_usd("openai", "gpt-5", &u);
        assert!(close(cost, (6_000.0 * 1.25 + 4_000.0 * 0.125 + 2_000.0 * 10.0) / 1e6), "{cost}");
        let mini = catalog.cost_usd("openai", "gpt-5-mini", &usage(1_000_000, 0, 0, 1_000_000));
        assert!(close(mini, 2.25), "{mini}");
    }

    #[test]
    fn local_models_and_unknown_models_cost_nothing() {
        let catalog = Catalog::shipped();
        assert_eq!(catalog.cost_usd("openai_compatible", "qwen3:32b", &usage(50_000, 0, 0, 5_000)), 0.0);
        assert_eq!(catalog.cost_usd("openai", "gpt-unknown", &usage(10, 0, 0, 10)), 0.0);
        assert_eq!(catalog.cost_usd("nobody", "m", &usage(10, 0, 0, 10)), 0.0);
    }

    #[test]
    fn an_edited_catalogue_changes_prices_and_bad_files_say_what_is_wrong() {
        let text = r#"{"providers": {"openai": {"default_model": "tiny", "models": [
            {"id": "tiny", "context_window": 100, "price_per_mtok": {"input": 1000000, "output": 2000000, "cache_write": 0, "cache_read": 0}}]}}}"#;
        let catalog = Catalog::parse(text, "test").unwrap();
        assert!(close(catalog.cost_usd("openai", "tiny", &usage(3, 0, 0, 2)), 7.0));
        assert_eq!(catalog.model("openai", "tiny").unwrap().context_window, 100);
        assert_eq!(catalog.default_model("anthropic"), None);
        for (bad, expected) in [
            (r#"{"providers": {"openia": {"models": []}}}"#, "unknown provider `openia`"),
            (
                r#"{"providers": {"openai": {"models": [{"id": "m", "context_window": 0, "price_per_mtok": {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}}]}}}"#,
                "context_window",
            ),
            (
                r#"{"providers": {"openai": {"models": [{"id": "m", "context_window": 9, "price_per_mtok": {"input": -1, "output": 0, "cache_write": 0, "cache_read": 0}}]}}}"#,
                "price_per_mtok.input",
            ),
            (r#"{"providers": {"openai": {"default_model": "x", "models": []}}}"#, "default_model `x`"),
            (
                r#"{"providers": {"openai": {"models": [{"id": "m", "context_window": 9, "price_per_mtok": {"input": 1}}]}}}"#,
                "not a valid model catalogue",
            ),
            ("[1,2]", "not a valid model catalogue"),
        ] {
            let problem = Catalog::parse(bad, "test").unwrap_err();
            assert!(problem.contains(expected), "{bad}: {problem}");
        }
    }
}
