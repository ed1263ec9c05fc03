//! `ProviderId` and its capabilities: the one place that knows what each provider can do.

use serde::{Deserialize, Serialize};

/// A provider a conversation runs on. Stored in events as its `as_str` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProviderId {
    /// The Anthropic Messages API.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// The Claude Code CLI.
    #[serde(rename = "claude_code")]
    ClaudeCode,
    /// OpenAI's Responses API.
    #[serde(rename = "openai")]
    OpenAi,
    /// An OpenAI-compatible server through Chat Completions (llama.cpp, vLLM, Ollama…).
    #[serde(rename = "openai_compatible")]
    OpenAiCompatible,
}

/// What a provider can do; `GET /api/providers` carries it, and every rule reads it from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Takes an extended-thinking budget (`thinking_budget`).
    pub thinking: bool,
    /// Takes a reasoning effort (`reasoning_effort`).
    pub reasoning_effort: bool,
    /// Gets a reasoning effort by default, without the conversation asking (a local server may refuse one).
    pub default_reasoning_effort: bool,
    /// Runs tools in the conversation's workspace.
    pub tools: bool,
    /// Asks before running tools, as the conversation's permission mode says.
    pub permission_modes: bool,
    /// Takes images as input.
    pub images: bool,
    /// Resumes its own session across turns (rather than being sent the history).
    pub resume: bool,
}

impl ProviderId {
    /// Every provider, in the order they are listed.
    pub const ALL: [ProviderId; 4] = [ProviderId::Anthropic, ProviderId::ClaudeCode, ProviderId::OpenAi, ProviderId::OpenAiCompatible];

    /// The id as stored and sent: `anthropic`, `claude_code`, `openai`, `openai_compatible`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Anthropic => "anthropic",
            ProviderId::ClaudeCode => "claude_code",
            ProviderId::OpenAi => "openai",
            ProviderId::OpenAiCompatible => "openai_compatible",
        }
    }

    /// The provider with that id, if any.
    pub fn parse(id: &str) -> Option<ProviderId> {
        ProviderId::ALL.into_iter().find(|provider| provider.as_str() == id)
    }

    /// The name people read.
    pub fn name(self) -> &'static str {
        match self {
            ProviderId::Anthropic => "Anthropic",
            ProviderId::ClaudeCode => "Claude Code",
            ProviderId::OpenAi => "OpenAI",
            ProviderId::OpenAiCompatible => "OpenAI-compatible server",
        }
    }

    /// What it can do.
    pub fn capabilities(self) -> Capabilities {
        // Every API provider runs PocketDev's own agent (its tools, in a workspace).
        let api = Capabilities {
            thinking: false,
            reasoning_effort: false,
            default_reasoning_effort: false,
            tools: true,
            permission_modes: true,
            images: false,
            resume: false,
        };
        match self {
            ProviderId::Anthropic => Capabilities { thinking: true, ..api },
            ProviderId::ClaudeCode => Capabilities { thinking: true, resume: true, ..api },
            ProviderId::OpenAi => Capabilities { reasoning_effort: true, default_reasoning_effort: true, ..api },
            ProviderId::OpenAiCompatible => Capabilities { reasoning_effort: true, ..api },
        }
    }
}

impl std::fmt::Display for ProviderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_parses_from_its_own_id_and_serializes_to_it() {
        for provider in ProviderId::ALL {
            assert_eq!(ProviderId::parse(provider.as_str()), Some(provider));
            assert_eq!(serde_json::to_value(provider).unwrap(), serde_json::json!(provider.as_str()));
        }
        assert_eq!(ProviderId::parse("openia"), None);
    }

    #[test]
    fn thinking_and_reasoning_belong_to_different_providers() {
        for provider in ProviderId::ALL {
            let can = provider.capabilities();
            assert!(!(can.thinking && can.reasoning_effort), "{provider}");
        }
        assert!(ProviderId::ALL.into_iter().all(|provider| provider.capabilities().tools && provider.capabilities().permission_modes));
        assert!(!ProviderId::OpenAiCompatible.capabilities().default_reasoning_effort);
    }
}
