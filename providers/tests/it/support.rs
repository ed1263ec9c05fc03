//! Test helpers: start servers on 127.0.0.1:0, build providers and requests, assemble replies.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use mockllm::MockConfig;
use providers::anthropic::{AnthropicConfig, AnthropicProvider};
use providers::openai::{OpenAiConfig, OpenAiProvider};
use providers::{BlockKind, ChatMessage, ChatRequest, ChatRole, ProviderError, ProviderEvent, ProviderStream, Usage};

/// Serves `router` on a free local port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Starts mockllm with default settings.
pub async fn mock() -> String {
    serve(mockllm::router(MockConfig::default())).await
}

/// A provider for `base_url` with a key, two retries and a 5 s header timeout.
pub fn provider(base_url: &str) -> AnthropicProvider {
    AnthropicProvider::new(AnthropicConfig {
        base_url: base_url.to_string(),
        api_key: Some("test-key".into()),
        max_retries: 2,
        request_timeout: Duration::from_secs(5),
        ..AnthropicConfig::default()
    })
}

/// An OpenAI provider for `base_url` with a key, two retries and a 5 s header timeout:
/// `OpenAiConfig::responses()` or `OpenAiConfig::chat_completions()` as the starting point.
pub fn openai(base: OpenAiConfig, base_url: &str) -> OpenAiProvider {
    OpenAiProvider::new(OpenAiConfig {
        base_url: base_url.to_string(),
        api_key: Some("test-key".into()),
        max_retries: 2,
        request_timeout: Duration::from_secs(5),
        ..base
    })
}

/// Anything that streams a reply for a request.
pub trait Streams {
    fn stream(&self, req: ChatRequest) -> ProviderStream;
}

impl Streams for AnthropicProvider {
    fn stream(&self, req: ChatRequest) -> ProviderStream {
        AnthropicProvider::stream(self, req)
    }
}

impl Streams for OpenAiProvider {
    fn stream(&self, req: ChatRequest) -> ProviderStream {
        OpenAiProvider::stream(self, req)
    }
}

impl Streams for Box<dyn Streams> {
    fn stream(&self, req: ChatRequest) -> ProviderStream {
        self.as_ref().stream(req)
    }
}

/// The three API providers (Anthropic, Responses, Chat Completions) for `base_url`, named.
pub fn every_api(base_url: &str) -> Vec<(&'static str, Box<dyn Streams>)> {
    vec![
        ("anthropic", Box::new(provider(base_url))),
        ("responses", Box::new(openai(OpenAiConfig::responses(), base_url))),
        ("chat", Box::new(openai(OpenAiConfig::chat_completions(), base_url))),
    ]
}

/// A request whose only user message is `text`.
pub fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "claude-mock".into(),
        system: Some("You are a test.".into()),
        messages: vec![ChatMessage::text(ChatRole::User, text)],
        tools: vec![],
        max_tokens: 4096,
        thinking_budget: None,
        reasoning_effort: None,
    }
}

/// Runs the request to the end and collects every item.
pub async fn run(provider: &impl Streams, req: ChatRequest) -> Vec<Result<ProviderEvent, ProviderError>> {
    tokio::time::timeout(Duration::from_secs(20), provider.stream(req).collect()).await.expect("the stream should end")
}

/// One assembled content block.
#[derive(Debug, Default)]
pub struct Block {
    pub kind: Option<BlockKind>,
    pub text: String,
    pub signature: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
    pub stopped: bool,
}

/// A whole reply rebuilt from its events.
#[derive(Debug, Default)]
pub struct Reply {
    pub blocks: BTreeMap<u32, Block>,
    pub usage: Option<Usage>,
    pub stop_reason: Option<String>,
    pub error: Option<ProviderError>,
}

impl Reply {
    pub fn from_items(items: Vec<Result<ProviderEvent, ProviderError>>) -> Reply {
        let mut reply = Reply::default();
        for item in items {
            assert!(reply.error.is_none() && reply.stop_reason.is_none(), "nothing after the end");
            match item {
                Err(e) => reply.error = Some(e),
                Ok(ProviderEvent::BlockStart { index, kind, name, id }) => {
                    let block = reply.blocks.entry(index).or_default();
                    (block.kind, block.name, block.id) = (Some(kind), name, id);
                }
                Ok(ProviderEvent::BlockDelta { index, text }) => reply.block(index).text.push_str(&text),
                Ok(ProviderEvent::Signature { index, signature }) => reply.block(index).signature = Some(signature),
                Ok(ProviderEvent::BlockStop { index }) => reply.block(index).stopped = true,
                Ok(ProviderEvent::Usage(usage)) => reply.usage = Some(usage),
                Ok(ProviderEvent::Stop { stop_reason }) => reply.stop_reason = Some(stop_reason),
                Ok(other) => panic!("an API provider never yields {other:?}"),
            }
        }
        reply
    }

    fn block(&mut self, index: u32) -> &mut Block {
        self.blocks.get_mut(&index).expect("a delta for a started block")
    }

    /// The text of all blocks of `kind`, in order.
    pub fn text_of(&self, kind: BlockKind) -> String {
        self.blocks.values().filter(|b| b.kind == Some(kind)).map(|b| b.text.as_str()).collect()
    }
}
