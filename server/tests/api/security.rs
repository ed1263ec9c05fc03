//! The in-app security gateway, without nginx: the 401/403 matrix, login backoff, CSRF, the CSP
//! nonce, startup refusals, settings-page keys, and that no secret ever shows up anywhere.
//!
//! Also the helpers the proxy and traversal tests share: `spawn_secured` (in-process app behind a
//! given gateway) and `ServerProcess` (a real `pocket-dev serve` whose output is captured).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::{Backend, BackendConfig};
use base64::Engine as _;
use serde_json::{json, Value};
use server::security::{Credentials, IpList, Origin, SecurityConfig};

use crate::helpers::{backend_config, free_port, fresh_database, prompt, AbortOnDrop};

pub const USER: &str = "pocket";
pub const PASSWORD: &str = "correct horse battery staple";

/// PocketDev in this process behind a given gateway, with a worker.
pub struct SecuredApp {
    pub address: String,
    pub port: u16,
    /// The app's database, for reading rows the API does not show.
    pub pool: sqlx::PgPool,
    pub api_keys_seen: Arc<Mutex<Vec<String>>>,
    _tasks: Vec<AbortOnDrop>,
}

pub fn with_auth() -> SecurityConfig {
    SecurityConfig { credentials: Some(Credentials::new(USER.into(), PASSWORD.into())), ..SecurityConfig::default() }
}

/// The mock LLM, recording the `x-api-key` of every request.
async fn key_recording_mock() -> (String, Arc<Mutex<Vec<String>>>, AbortOnDrop) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let router =
        mockllm::router(mockllm::MockConfig::default()).layer(axum::middleware::map_request(move |request: axum::extract::Request| {
            let sink = sink.clone();
            async move {
                if let Some(key) = request.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
                    sink.lock().unwrap().push(key.to_string());
                }
                let bearer = request.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
                if let Some(key) = bearer {
                    sink.lock().unwrap().push(key.to_string());
                }
                request
            }
        }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, seen, AbortOnDrop(task))
}

pub async fn spawn_secured(security: SecurityConfig, configure: impl FnOnce(&mut BackendConfig)) -> SecuredApp {
    let database_url = fresh_database().await;
    let (mock_url, api_keys_seen, mock) = key_recording_mock().await;
    let job_stream = format!("pocketdev:test:{}", uuid::Uuid::new_v4().simple());
    let mut config = backend_config(&database_url, &mock_url, &job_stream);
    configure(&mut config);
    let backend = Backend::connect(config).await.expect("backend connects");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router =
        server::startup::secured_router(backend.clone(), server::startup::leptos_options(addr), server::security::Security::new(security));
    let http = tokio::spawn(async move {
        let _ = server::startup::serve(listener, router).await;
    });
    let worker = {
        let backend = backend.clone();
        tokio::spawn(async move {
            let _ = backend::worker::run_worker(backend, backend::worker::consumer_name()).await;
        })
    };
    let pool = sqlx::PgPool::connect(&database_url).await.expect("the test's own pool connects");
    SecuredApp {
        address: format!("http://{addr}"),
        port: addr.port(),
        pool,
        api_keys_seen,
        _tasks: vec![mock, AbortOnDrop(http), AbortOnDrop(worker)],
    }
}

pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<IpAddr>().unwrap()).build().unwrap()
}

pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// Every kind of route: SSR pages, static files, the JSON API (reads and writes), SSE, server functions.
pub fn protected_routes(conversation: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/".into()),
        ("GET", format!("/c/{conversation}")),
        ("GET", "/settings".into()),
        ("GET", "/claude".into()),
        ("GET", "/no-such-page".into()),
        ("GET", "/pkg/pocket-dev.js".into()),
        ("GET", "/pkg/pocket-dev.css".into()),
        ("GET", "/favicon.ico".into()),
        ("GET", "/api/providers".into()),
        ("GET", "/api/conversations".into()),
        ("POST", "/api/conversations".into()),
        ("GET", format!("/api/conversations/{conversation}")),
        ("PATCH", format!("/api/conversations/{conversation}")),
        ("DELETE", format!("/api/conversations/{conversation}")),
        ("POST", format!("/api/conversations/{conversation}/messages")),
        ("GET", format!("/api/conversations/{conversation}/events")),
        ("GET", format!("/api/conversations/{conversation}/log")),
        ("GET", "/api/settings/keys".into()),
        ("PUT", "/api/settings/keys/ANTHROPIC_API_KEY".into()),
        ("GET", "/api/workspaces/demo/files?path=README.md".into()),
        ("POST", "/api/workspaces/demo/files?path=x.txt".into()),
        ("GET", "/api/claude/sessions".into()),
        ("POST", "/api/list_conversations".into()),
        ("POST", "/api/save_api_key".into()),
    ]
}

pub async fn request(client: &reqwest::Client, method: &str, url: &str, auth: Option<&str>) -> reqwest::Response {
    let mut builder = client.request(method.parse().unwrap(), url).timeout(Duration::from_secs(10));
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    if method != "GET" {
        builder = builder.header("content-type", "application/json").body("{}");
    }
    builder.send().await.unwrap()
}

#[tokio::test]
async fn without_credentials_every_route_but_health_answers_401_and_with_them_the_app_works() {
    let app = spawn_secured(with_auth(), |_| {}).await;
    let client = reqwest::Client::new();
    let conversation = uuid::Uuid::new_v4().to_string();
    for (method, path) in protected_routes(&conversation) {
        let url = format!("{}{path}", app.address);
        let anonymous = request(&client, method, &url, None).await;
        assert_eq!(anonymous.status(), 401, "{method} {path} without credentials");
        assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic realm="), "{method} {path}");
        let wrong = request(&client, method, &url, Some(&basic(USER, "wrong"))).await;
        assert_eq!(wrong.status(), 401, "{method} {path} with a wrong password");
        if path.starts_with("/api/") {
            let body: Value = wrong.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("wrong"), "{body}");
        }
        // Five failures in a row would start the backoff; a success in between clears it.
        request(&client, "GET", &format!("{}/api/providers", app.address), Some(&basic(USER, PASSWORD))).await;
    }
    let health = client.get(format!("{}/health", app.address)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // With the right credentials: pages and the API answer.
    let auth = basic(USER, PASSWORD);
    let page = request(&client, "GET", &format!("{}/", app.address), Some(&auth)).await;
    assert_eq!(page.status(), 200);
    let created = client
        .post(format!("{}/api/conversations", app.address))
        .header("authorization", &auth)
        .json(&json!({"provider": "anthropic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let shown = request(&client, "GET", &format!("{}/api/conversations/{id}", app.address), Some(&auth)).await;
    assert_eq!(shown.status(), 200);
}

#[tokio::test]
async fn the_ip_whitelist_answers_403_to_other_addresses_and_ignores_their_forwarded_headers() {
    let security = SecurityConfig { whitelist: IpList::parse("127.0.0.2").unwrap(), ..with_auth() };
    let app = spawn_secured(security, |_| {}).await;
    let auth = basic(USER, PASSWORD);
    let outsider = client_from("127.0.0.1");
    let insider = client_from("127.0.0.2");
    let conversation = uuid::Uuid::new_v4().to_string();
    for (method, path) in protected_routes(&conversation) {
        let url = format!("{}{path}", app.address);
        let refused = request(&outsider, method, &url, Some(&auth)).await;
        assert_eq!(refused.status(), 403, "{method} {path} from 127.0.0.1");
        if path.starts_with("/api/") {
            let body: Value = refused.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("IP_WHITELIST"), "{body}");
        }
        assert_eq!(request(&outsider, method, &url, None).await.status(), 403, "{method} {path} anonymous from 127.0.0.1");
    }
    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    let forged = outsider
        .get(format!("{}/api/providers", app.address))
        .header("authorization", &auth)
        .header("x-forwarded-for", "127.0.0.2")
        .header("x-real-ip", "127.0.0.2")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // The whitelisted address still needs the password, and gets in with it.
    assert_eq!(request(&insider, "GET", &format!("{}/api/providers", app.address), None).await.status(), 401);
    assert_eq!(request(&insider, "GET", &format!("{}/api/providers", app.address), Some(&auth)).await.status(), 200);
    assert_eq!(request(&insider, "GET", &format!("{}/", app.address), Some(&auth)).await.status(), 200);
    // /health stays open to everyone.
    assert_eq!(outsider.get(format!("{}/health", app.address)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn forwarded_addresses_count_only_when_the_peer_is_a_trusted_proxy() {
    let security = SecurityConfig {
        whitelist: IpList::parse("203.0.113.0/24").unwrap(),
        trusted_proxies: IpList::parse("127.0.0.3").unwrap(),
        ..with_auth()
    };
    let app = spawn_secured(security, |_| {}).await;
    let auth = basic(USER, PASSWORD);
    let url = format!("{}/api/providers", app.address);
    let via = |ip: &str, forwarded: &str| {
        client_from(ip).get(&url).header("authorization", &auth).header("x-forwarded-for", forwarded.to_string()).send()
    };
    assert_eq!(via("127.0.0.3", "203.0.113.9").await.unwrap().status(), 200, "from the proxy, for a whitelisted client");
    assert_eq!(via("127.0.0.3", "198.51.100.1").await.unwrap().status(), 403, "from the proxy, for another client");
    assert_eq!(via("127.0.0.4", "203.0.113.9").await.unwrap().status(), 403, "a forged header from elsewhere");
}

#[tokio::test]
async fn twenty_failed_logins_are_blocked_with_retry_after_and_the_right_password_waits_too() {
    let app = spawn_secured(with_auth(), |_| {}).await;
    let attacker = client_from("127.0.0.1");
    let url = format!("{}/api/providers", app.address);
    let mut statuses = Vec::new();
    let started = Instant::now();
    for attempt in 0..20 {
        let response = request(&attacker, "GET", &url, Some(&basic(USER, &format!("guess-{attempt}")))).await;
        if response.status() == 429 {
            let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!(retry_after >= 1, "Retry-After is at least a second");
        }
        statuses.push(response.status().as_u16());
    }
    let elapsed = started.elapsed();
    assert!(statuses[..5].iter().all(|&s| s == 401), "the first five are plain failures: {statuses:?}");
    let blocked = statuses.iter().filter(|&&s| s == 429).count();
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    assert!(blocked >= 10 && checked <= 8, "most later attempts are blocked, not checked: {statuses:?} in {elapsed:?}");
    assert!(!statuses.contains(&200));
    // While blocked, even the right password is refused...
    let right = request(&attacker, "GET", &url, Some(&basic(USER, PASSWORD))).await;
    assert_eq!(right.status(), 429);
    let body: Value = right.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("too many failed logins"), "{body}");
    // ...but another client is not affected.
    let other = client_from("127.0.0.5");
    assert_eq!(request(&other, "GET", &url, Some(&basic(USER, PASSWORD))).await.status(), 200);
}

#[tokio::test]
async fn a_cross_origin_post_with_valid_credentials_gets_403_and_same_origin_ones_pass() {
    let app = spawn_secured(with_auth(), |_| {}).await;
    let client = reqwest::Client::new();
    let auth = basic(USER, PASSWORD);
    let host = app.address.trim_start_matches("http://").to_string();
    let create = |origin: Option<(&'static str, String)>| {
        let mut builder = client
            .post(format!("{}/api/conversations", app.address))
            .header("authorization", &auth)
            .json(&json!({"provider": "anthropic"}));
        if let Some((name, value)) = origin {
            builder = builder.header(name, value);
        }
        builder.send()
    };
    for (name, value) in [
        ("origin", "http://evil.example".to_string()),
        ("origin", "null".to_string()),
        ("origin", format!("http://{host}.evil.example")),
        ("origin", "http://127.0.0.1:1".to_string()),
        ("referer", "http://evil.example/page".to_string()),
        ("sec-fetch-site", "cross-site".to_string()),
    ] {
        let refused = create(Some((name, value.clone()))).await.unwrap();
        assert_eq!(refused.status(), 403, "{name}: {value}");
        let body: Value = refused.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("refused"), "{body}");
    }
    let same = create(Some(("origin", app.address.clone()))).await.unwrap();
    assert_eq!(same.status(), 201, "same origin");
    let id = same.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(create(Some(("referer", format!("{}/c/{id}", app.address)))).await.unwrap().status(), 201, "same-origin referer");
    assert_eq!(create(None).await.unwrap().status(), 201, "no browser headers at all (curl, scripts)");
    // Other methods and server functions are covered as well.
    let delete = client
        .delete(format!("{}/api/conversations/{id}", app.address))
        .header("authorization", &auth)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 403);
    let server_fn = client
        .post(format!("{}/api/save_api_key", app.address))
        .header("authorization", &auth)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=ANTHROPIC_API_KEY&value=sk-ant-api03-forged")
        .send()
        .await
        .unwrap();
    assert_eq!(server_fn.status(), 403);
    let keys: Value =
        client.get(format!("{}/api/settings/keys", app.address)).header("authorization", &auth).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys[0]["source"], "environment", "the forged key was not stored: {keys}");
    // GETs are never blocked by Origin.
    let read = client
        .get(format!("{}/api/conversations/{id}", app.address))
        .header("authorization", &auth)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}

#[tokio::test]
async fn allowed_origins_may_post() {
    let security = SecurityConfig { allowed_origins: vec![Origin::parse("https://phone.example").unwrap()], ..SecurityConfig::default() };
    let app = spawn_secured(security, |_| {}).await;
    let post = |origin: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/conversations", app.address))
            .header("origin", origin)
            .json(&json!({"provider": "anthropic"}))
            .send()
    };
    assert_eq!(post("https://phone.example").await.unwrap().status(), 201);
    assert_eq!(post("https://other.example").await.unwrap().status(), 403);
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_csp_nonce_on_every_inline_script() {
    let app = spawn_secured(SecurityConfig::default(), |_| {}).await;
    let client = reqwest::Client::new();
    let id = crate::helpers::create_conversation(&client, &app.address).await;
    for path in ["/".to_string(), format!("/c/{id}"), "/settings".into(), "/no-such-page".into()] {
        let response = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        let headers = response.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(headers["referrer-policy"].to_str().is_ok());
        let csp = headers["content-security-policy"].to_str().unwrap().to_string();
        let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && script_src.contains("'wasm-unsafe-eval'") && !script_src.contains("unsafe-inline"),
            "{csp}"
        );
        let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a script nonce").to_string();
        let html = response.text().await.unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).map(|s| s.split('>').next().unwrap()).collect();
        assert!(!scripts.is_empty(), "{path} has its hydration script");
        for tag in scripts {
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src=\"/"),
                "{path}: <script{tag}> has neither the nonce nor a same-origin src"
            );
        }
    }
    // Each response has its own nonce.
    let csp = |r: reqwest::Response| r.headers()["content-security-policy"].to_str().unwrap().to_string();
    let first = csp(client.get(format!("{}/", app.address)).send().await.unwrap());
    let second = csp(client.get(format!("{}/", app.address)).send().await.unwrap());
    assert_ne!(first, second);
}

/// A real `pocket-dev serve` with its stdout and stderr captured in a file.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub address: String,
    pub port: u16,
    pub log: PathBuf,
}

impl ServerProcess {
    pub async fn start(env: &[(&str, String)]) -> ServerProcess {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("pd-server-{}.log", uuid::Uuid::new_v4().simple()));
        let child = server_command(port, env, &log).spawn().expect("spawn pocket-dev");
        let address = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::get(format!("{address}/health")).await.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(Instant::now() < deadline, "{address} did not become healthy: {}", std::fs::read_to_string(&log).unwrap_or_default());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ServerProcess { child, address, port, log }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn stop(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `pocket-dev serve` on `port` with the test database settings, then `env` on top.
pub fn server_command(port: u16, env: &[(&str, String)], log: &std::path::Path) -> tokio::process::Command {
    let output = std::fs::File::create(log).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pocket-dev"));
    command
        .arg("serve")
        .env_remove("BASIC_AUTH_USER")
        .env_remove("BASIC_AUTH_PASS")
        .env_remove("IP_WHITELIST")
        .env_remove("TRUSTED_PROXIES")
        .env_remove("ANTHROPIC_API_KEY")
        .env("REDIS_URL", std::env::var("REDIS_URL").unwrap())
        .env("PD_JOB_STREAM", format!("pocketdev:test:{}", uuid::Uuid::new_v4().simple()))
        .env("WORKSPACE_ROOT", std::env::temp_dir().join("pd-test-workspace"))
        .env("CLAUDE_HOME", std::env::temp_dir().join(format!("pd-claude-home-{}", uuid::Uuid::new_v4().simple())))
        .env("PD_SECRET_KEY_FILE", std::env::temp_dir().join("pd-test-secret.key"))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .kill_on_drop(true);
    if let Ok(site) = std::env::var("PD_SITE_ROOT") {
        command.env("LEPTOS_SITE_ROOT", site);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

#[tokio::test]
async fn serve_refuses_to_start_exposed_without_a_password_or_with_bad_security_settings() {
    let database = fresh_database().await;
    let exposed = |port: u16| format!("0.0.0.0:{port}");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("LEPTOS_SITE_ADDR", exposed(free_port()))], "BASIC_AUTH_USER and BASIC_AUTH_PASS must be set"),
        (vec![("LEPTOS_SITE_ADDR", exposed(free_port())), ("BASIC_AUTH_USER", "me".into())], "BASIC_AUTH_PASS"),
        (vec![("BASIC_AUTH_USER", "me".into()), ("BASIC_AUTH_PASS", "change-me".into())], "placeholder"),
        (vec![("BASIC_AUTH_PASS", "secret".into())], "BASIC_AUTH_USER"),
        (vec![("IP_WHITELIST", "127.0.0.1, 10.0.0.0/33".into())], "10.0.0.0/33"),
        (vec![("TRUSTED_PROXIES", "proxy.local".into())], "proxy.local"),
        (vec![("PD_ALLOWED_ORIGINS", "evil.example".into())], "PD_ALLOWED_ORIGINS"),
        (vec![("POCKET_DEV_SECRET_KEY", "too-short".into())], "POCKET_DEV_SECRET_KEY"),
    ];
    for (env, expected) in cases {
        let log = std::env::temp_dir().join(format!("pd-refusal-{}.log", uuid::Uuid::new_v4().simple()));
        let mut env = env;
        env.push(("DATABASE_URL", database.clone()));
        let mut command = server_command(free_port(), &env, &log);
        let status = tokio::time::timeout(Duration::from_secs(20), command.status()).await.expect("exits promptly").unwrap();
        let output = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(2), "{env:?}: {output}");
        assert!(output.contains("configuration error") && output.contains(expected), "{env:?}: {output}");
        let _ = std::fs::remove_file(&log);
    }
    // Loopback without a password runs, with a warning.
    let open = ServerProcess::start(&[("DATABASE_URL", database.clone())]).await;
    assert_eq!(reqwest::get(format!("{}/api/providers", open.address)).await.unwrap().status(), 200);
    assert!(open.output().contains("WITHOUT authentication"), "{}", open.output());
}

#[tokio::test]
async fn serve_refuses_a_tuning_value_that_is_not_a_usable_number_and_names_the_variable() {
    let database = fresh_database().await;
    let cases = [("PD_DB_POOL", "0"), ("PD_DB_POOL", "lots"), ("PD_DRAIN_TIMEOUT_S", "soon"), ("PD_JOB_LEASE_MS", "-1")];
    for (variable, value) in cases {
        let log = std::env::temp_dir().join(format!("pd-tuning-{}.log", uuid::Uuid::new_v4().simple()));
        let env = [("DATABASE_URL", database.clone()), (variable, value.to_string())];
        let status = tokio::time::timeout(Duration::from_secs(20), server_command(free_port(), &env, &log).status())
            .await
            .expect("exits promptly")
            .unwrap();
        let output = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(2), "{variable}={value}: {output}");
        assert!(output.contains(&format!("configuration error: {variable}")), "{variable}={value}: {output}");
        let _ = std::fs::remove_file(&log);
    }
}

#[tokio::test]
async fn a_key_set_on_the_settings_page_makes_the_provider_available_and_is_the_one_used() {
    let app = spawn_secured(SecurityConfig::default(), |config| config.anthropic.api_key = None).await;
    let client = reqwest::Client::new();
    let providers = |client: &reqwest::Client| {
        let url = format!("{}/api/providers", app.address);
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(providers(&client).await[0]["available"], false);
    let refused = client.post(format!("{}/api/conversations", app.address)).json(&json!({"provider": "anthropic"})).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let keys: Value = client.get(format!("{}/api/settings/keys", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys[0], json!({"name": "ANTHROPIC_API_KEY", "label": "Anthropic", "set": false, "source": null, "last4": null}));
    // Set it.
    let key = format!("sk-ant-api03-{}-AAAA1234", uuid::Uuid::new_v4().simple());
    let set = client.put(format!("{}/api/settings/keys/ANTHROPIC_API_KEY", app.address)).json(&json!({"value": key})).send().await.unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(
        set.json::<Value>().await.unwrap(),
        json!({"name": "ANTHROPIC_API_KEY", "label": "Anthropic", "set": true, "source": "settings", "last4": "1234"})
    );
    assert_eq!(providers(&client).await[0]["available"], true);
    let id = crate::helpers::create_conversation(&client, &app.address).await;
    crate::helpers::send_message(&client, &app.address, &id, &prompt("tokens=5")).await;
    let view = crate::helpers::wait_until_settled(&client, &app.address, &id, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "idle", "{view}");
    assert_eq!(app.api_keys_seen.lock().unwrap().last(), Some(&key), "the provider sent the settings-page key");
    // Bad input is refused without echoing it.
    for bad in [json!({"value": ""}), json!({"value": "has space inside"}), json!({"value": "x".repeat(2000)})] {
        let refused = client.put(format!("{}/api/settings/keys/ANTHROPIC_API_KEY", app.address)).json(&bad).send().await.unwrap();
        assert_eq!(refused.status(), 400);
        assert!(!refused.text().await.unwrap().contains("has space"));
    }
    let unknown = client.put(format!("{}/api/settings/keys/PATH", app.address)).json(&json!({"value": "abc"})).send().await.unwrap();
    assert_eq!(unknown.status(), 400);
    // The ciphertext does not contain the key.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT ciphertext FROM secrets WHERE name = 'ANTHROPIC_API_KEY'").fetch_one(&app.pool).await.unwrap();
    assert!(!stored.windows(12).any(|w| key.as_bytes().windows(12).any(|k| k == w)));
    // Delete it: unavailable again.
    let deleted = client.delete(format!("{}/api/settings/keys/ANTHROPIC_API_KEY", app.address)).send().await.unwrap();
    assert_eq!(deleted.json::<Value>().await.unwrap()["set"], false);
    assert_eq!(providers(&client).await[0]["available"], false);
}

/// Sends requests with credentials and keeps every answer (headers and body) for the leak search.
struct Recorder<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    auth: &'a str,
    responses: &'a mut Vec<(String, String)>,
}

impl Recorder<'_> {
    async fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut builder = self.client.request(method.parse().unwrap(), format!("{}{path}", self.base)).header("authorization", self.auth);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().await.unwrap();
        let headers = format!("{:?}", response.headers());
        let text = response.text().await.unwrap();
        self.responses.push((format!("{method} {path} headers"), headers));
        self.responses.push((format!("{method} {path}"), text.clone()));
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Where a secret was found, if anywhere.
pub fn leaks(secrets: &[&str], haystacks: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in secrets {
        // The whole value, and any 16-character piece of it (a truncated or split copy).
        let pieces: Vec<&str> = (0..secret.len().saturating_sub(15)).step_by(8).map(|i| &secret[i..i + 16]).collect();
        for (name, text) in haystacks {
            if text.contains(secret) || pieces.iter().any(|p| text.contains(p)) {
                found.push(format!("{name} contains (part of) a secret"));
            }
        }
    }
    found
}

/// Every row of every table but `secrets`, as text.
pub async fn dump_tables(pool: &sqlx::PgPool) -> Vec<(String, String)> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'secrets'")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut dumps = Vec::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t")).fetch_all(pool).await.unwrap();
        dumps.push((format!("table {table}"), rows.join("\n")));
    }
    dumps
}

#[tokio::test]
async fn no_secret_shows_up_in_logs_responses_or_the_database() {
    let database = fresh_database().await;
    let (mock, keys_seen, _mock_task) = key_recording_mock().await;
    let env_key = format!("sk-ant-api03-{}{}-ENVKEYAA", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let ui_key = format!("sk-ant-api03-{}{}-UIKEYAAA", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let openai_key = format!("sk-proj-{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let secret_key = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0".to_string();
    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", database.clone()),
        ("ANTHROPIC_BASE_URL", mock.clone()),
        ("ANTHROPIC_API_KEY", env_key.clone()),
        ("OPENAI_BASE_URL", mock.clone()),
        ("BASIC_AUTH_USER", USER.into()),
        ("BASIC_AUTH_PASS", password.clone()),
        ("POCKET_DEV_SECRET_KEY", secret_key.clone()),
        // As chatty as it gets: every crate at debug, including sqlx statements and HTTP clients.
        ("RUST_LOG", "debug".into()),
    ])
    .await;
    let auth = basic(USER, &password);
    let client = reqwest::Client::new();
    let mut responses: Vec<(String, String)> = Vec::new();
    let mut recorder = Recorder { client: &client, base: &server.address, auth: &auth, responses: &mut responses };
    recorder.call("GET", "/api/settings/keys", None).await;
    recorder.call("GET", "/api/providers", None).await;
    let created = recorder.call("POST", "/api/conversations", Some(json!({"provider": "anthropic"}))).await;
    let id = created["id"].as_str().unwrap().to_string();
    recorder.call("POST", &format!("/api/conversations/{id}/messages"), Some(json!({"text": prompt("tokens=20")}))).await;
    for _ in 0..100 {
        if recorder.call("GET", &format!("/api/conversations/{id}"), None).await["status"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The settings page key, set, used, replaced, deleted.
    recorder.call("PUT", "/api/settings/keys/ANTHROPIC_API_KEY", Some(json!({"value": ui_key}))).await;
    recorder.call("PUT", "/api/settings/keys/OPENAI_API_KEY", Some(json!({"value": openai_key}))).await;
    recorder.call("POST", &format!("/api/conversations/{id}/messages"), Some(json!({"text": prompt("tokens=20")}))).await;
    for _ in 0..100 {
        if recorder.call("GET", &format!("/api/conversations/{id}"), None).await["status"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The OpenAI key from the settings page, used by an OpenAI conversation.
    let created = recorder.call("POST", "/api/conversations", Some(json!({"provider": "openai", "model": "gpt-5-mini"}))).await;
    let openai_id = created["id"].as_str().unwrap_or_else(|| panic!("{created}")).to_string();
    recorder.call("POST", &format!("/api/conversations/{openai_id}/messages"), Some(json!({"text": prompt("tokens=10")}))).await;
    for _ in 0..100 {
        if recorder.call("GET", &format!("/api/conversations/{openai_id}"), None).await["status"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keys = recorder.call("GET", "/api/settings/keys", None).await;
    assert_eq!(keys[0]["source"], "settings", "{keys}");
    assert_eq!(keys[0]["last4"], "YAAA");
    for path in ["/", &format!("/c/{id}"), "/settings", &format!("/api/conversations/{id}/log"), "/api/conversations"] {
        recorder.call("GET", path, None).await;
    }
    // A wrong login and a bad request, to exercise the error paths' logging too.
    let _ = client.get(format!("{}/api/providers", server.address)).header("authorization", basic(USER, &env_key)).send().await;
    recorder.call("PUT", "/api/settings/keys/ANTHROPIC_API_KEY", Some(json!({"value": format!("{ui_key} x")}))).await;
    recorder.call("DELETE", "/api/settings/keys/OPENAI_API_KEY", None).await;
    let seen = keys_seen.lock().unwrap().clone();
    assert!(seen.contains(&env_key) && seen.contains(&ui_key), "both keys reached the provider, and only there");
    assert!(seen.contains(&openai_key), "the OpenAI key reached the OpenAI provider");
    let pool = backend::connect_pool(&database, backend::DEFAULT_POOL_SIZE).await.unwrap();
    let mut haystacks = dump_tables(&pool).await;
    assert!(haystacks.iter().any(|(name, text)| name == "table events" && text.contains("TextAppended")), "the events were searched");
    let ciphertexts: Vec<Vec<u8>> = sqlx::query_scalar("SELECT ciphertext FROM secrets").fetch_all(&pool).await.unwrap();
    haystacks.push(("secrets (ciphertext)".into(), ciphertexts.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect()));
    server.stop().await;
    let output = server.output();
    assert!(output.contains("DEBUG"), "the log was captured at debug level");
    haystacks.push(("server output".into(), output));
    haystacks.extend(responses);
    let found = leaks(&[&env_key, &ui_key, &openai_key, &password, &secret_key], &haystacks);
    assert!(found.is_empty(), "{found:?}");
}

#[tokio::test]
async fn a_key_file_is_created_private_and_reused_across_restarts() {
    let database = fresh_database().await;
    let dir = std::env::temp_dir().join(format!("pd-keyfile-{}", uuid::Uuid::new_v4().simple()));
    let file = dir.join("secret.key");
    let env = [("DATABASE_URL", database.clone()), ("PD_SECRET_KEY_FILE", file.display().to_string())];
    let mut first = ServerProcess::start(&env).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let client = reqwest::Client::new();
    let key = format!("sk-ant-api03-{}", uuid::Uuid::new_v4().simple());
    let set =
        client.put(format!("{}/api/settings/keys/ANTHROPIC_API_KEY", first.address)).json(&json!({"value": key})).send().await.unwrap();
    assert_eq!(set.status(), 200);
    first.stop().await;
    let second = ServerProcess::start(&env).await;
    let keys: Value = client.get(format!("{}/api/settings/keys", second.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys[0]["source"], "settings", "decrypted with the same key file after a restart: {keys}");
    assert_eq!(keys[0]["last4"], json!(key[key.len() - 4..]));
    std::fs::remove_dir_all(&dir).unwrap();
}
