//! The in-app security gateway: one middleware in front of every route.
//!
//! In order, for each request:
//! 1. the client address: the TCP peer, or the forwarded address when the peer is in `TRUSTED_PROXIES`;
//! 2. `/health` passes untouched (no whitelist, no auth), for load balancers and container health checks;
//! 3. `IP_WHITELIST`, if set: anyone else gets 403;
//! 4. Basic Auth, if `BASIC_AUTH_USER`/`BASIC_AUTH_PASS` are set: 401 without credentials, and a
//!    client that keeps failing is blocked with exponential backoff (429 with `Retry-After`);
//! 5. CSRF: a state-changing request must come from this origin (`csrf.rs`), else 403;
//! 6. security headers on every response, including a Content-Security-Policy whose script nonce
//!    is the one Leptos puts on its inline hydration scripts.
//!
//! Errors are JSON `{"error": …}` under `/api/`, plain text elsewhere.

pub mod auth;
pub mod csrf;
pub mod ip;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub use auth::{Credentials, LoginLimiter};
pub use csrf::Origin;
pub use ip::IpList;

/// The default upload cap: 25 MiB (the proxy's `client_max_body_size` matches it).
pub const DEFAULT_UPLOAD_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// What the gateway enforces. `Default` is open: no auth, no whitelist (CSRF and headers stay on).
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    pub credentials: Option<Credentials>,
    pub whitelist: IpList,
    pub trusted_proxies: IpList,
    /// Origins besides this server's own that may send state-changing requests.
    pub allowed_origins: Vec<Origin>,
    /// Largest accepted upload, in bytes.
    pub upload_max_bytes: u64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            credentials: None,
            whitelist: IpList::default(),
            trusted_proxies: IpList::default(),
            allowed_origins: Vec::new(),
            upload_max_bytes: DEFAULT_UPLOAD_MAX_BYTES,
        }
    }
}

/// The gateway's configuration and state; handlers find it in the request extensions.
pub struct Security {
    pub config: SecurityConfig,
    pub limiter: LoginLimiter,
}

impl Security {
    pub fn new(config: SecurityConfig) -> Arc<Self> {
        Arc::new(Self { config, limiter: LoginLimiter::default() })
    }
}

/// The client address as the gateway saw it, for handlers and logs.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// The CSP nonce of this response; `startup` hands it to Leptos for its inline scripts.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// The middleware. See the module documentation for the order of checks.
pub async fn guard(State(security): State<Arc<Security>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let client = ip::client_ip(peer, request.headers(), &security.config.trusted_proxies);
    let path = request.uri().path().to_string();
    let api = path.starts_with("/api/");
    if path == "/health" {
        return next.run(request).await;
    }
    let config = &security.config;
    if !config.whitelist.is_empty() && !client.is_some_and(|ip| config.whitelist.contains(ip)) {
        tracing::warn!(client = ?client, %path, "refused: address not in IP_WHITELIST");
        return with_headers(refuse(StatusCode::FORBIDDEN, api, "your address is not allowed to use this server (IP_WHITELIST)"), None);
    }
    if let Some(credentials) = &config.credentials {
        let key = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let has_credentials = request.headers().contains_key(header::AUTHORIZATION);
        if has_credentials {
            if let Some(wait) = security.limiter.blocked(key) {
                return with_headers(too_many(api, wait), None);
            }
        }
        match credentials.check(request.headers()) {
            auth::Verdict::Right => security.limiter.succeed(key),
            auth::Verdict::Missing => return with_headers(challenge(api, "authentication required"), None),
            auth::Verdict::Wrong => {
                let blocked = security.limiter.fail(key);
                tracing::warn!(client = ?client, %path, blocked_for_s = blocked.map(|d| d.as_secs()), "failed login");
                return with_headers(challenge(api, "wrong user name or password"), None);
            }
        }
    }
    if let Err(reason) = csrf::check(request.method(), request.uri(), request.headers(), &config.allowed_origins) {
        tracing::warn!(client = ?client, %path, method = %request.method(), "refused: {reason}");
        return with_headers(refuse(StatusCode::FORBIDDEN, api, &reason), None);
    }
    let nonce = leptos::nonce::Nonce::new().to_string();
    request.extensions_mut().insert(ClientIp(client));
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    request.extensions_mut().insert(security.clone());
    with_headers(next.run(request).await, Some(&nonce))
}

/// The Content-Security-Policy of app responses: scripts only from this origin or with this
/// response's nonce (Leptos' inline hydration and resource scripts), WebAssembly compilation allowed.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

fn with_headers(mut response: Response, nonce: Option<&str>) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, "content-security-policy", &content_security_policy(nonce));
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-frame-options", "DENY");
    set(headers, "permissions-policy", "camera=(), microphone=(), geolocation=()");
    response
}

fn refuse(status: StatusCode, api: bool, message: &str) -> Response {
    if api {
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
    }
}

fn challenge(api: bool, message: &str) -> Response {
    let mut response = refuse(StatusCode::UNAUTHORIZED, api, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"PocketDev\", charset=\"UTF-8\""));
    response
}

fn too_many(api: bool, wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, api, &format!("too many failed logins; try again in {seconds} s"));
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Whether an address is loopback (`127.0.0.0/8`, `::1`), where running without a password is allowed.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    ip::canonical(addr.ip()).is_loopback()
}
