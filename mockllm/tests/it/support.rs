//! Test helpers: start a mock server, send requests, split SSE bodies into events.

use mockllm::MockConfig;
use serde_json::{json, Value};

/// Starts a mock server with `cfg` and returns its base URL.
pub async fn spawn(cfg: MockConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mockllm::serve(listener, cfg));
    format!("http://{addr}")
}

/// Starts a mock server with the default config.
pub async fn spawn_default() -> String {
    spawn(MockConfig::default()).await
}

/// An Anthropic request body whose only user message is `text`.
pub fn anthropic_body(text: &str, stream: bool) -> Value {
    json!({
        "model": "claude-mock",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
    })
}

/// POSTs an Anthropic request with valid headers.
pub async fn post_anthropic(base: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "test-key")
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// POSTs to an OpenAI endpoint with a bearer token.
pub async fn post_openai(base: &str, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new().post(format!("{base}{path}")).bearer_auth("test-key").json(body).send().await.unwrap()
}

/// A parsed SSE event: its `event:` name (empty if none) and its `data:` text.
#[derive(Debug)]
pub struct Sse {
    pub event: String,
    pub data: String,
}

impl Sse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// Splits a whole SSE body into events.
pub fn parse_sse(body: &str) -> Vec<Sse> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut sse = Sse { event: String::new(), data: String::new() };
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    sse.event = name.to_string();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    sse.data.push_str(data);
                }
            }
            sse
        })
        .collect()
}

/// Reads a streamed body chunk by chunk; returns the text received and whether it ended in an error.
pub async fn read_until_end(response: reqwest::Response) -> (String, bool) {
    let mut response = response;
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => return (String::from_utf8(bytes).unwrap(), false),
            Err(_) => return (String::from_utf8(bytes).unwrap(), true),
        }
    }
}
