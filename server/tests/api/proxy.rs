//! The shipped nginx gateway (deploy/proxy), run for real: Debian's nginx, configured by the
//! shipped POSIX entrypoint from the shipped template, on loopback in front of a real
//! `pocket-dev serve` (which checks the same credentials again, trusting nginx's forwarded address).

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{fresh_database, prompt, spawn_mock, AbortOnDrop};
use crate::nginx::{entrypoint, Nginx};
use crate::security::{basic, client_from, protected_routes, request, ServerProcess, PASSWORD, USER};

/// The app behind the proxy: same credentials, nginx's address trusted for X-Forwarded-For.
async fn app_behind_proxy(extra: &[(&str, String)]) -> (ServerProcess, AbortOnDrop) {
    let database = fresh_database().await;
    let (mock, mock_task) = spawn_mock().await;
    let mut env = vec![
        ("DATABASE_URL", database),
        ("ANTHROPIC_BASE_URL", mock),
        ("ANTHROPIC_API_KEY", "test-key".to_string()),
        ("BASIC_AUTH_USER", USER.to_string()),
        ("BASIC_AUTH_PASS", PASSWORD.to_string()),
        ("TRUSTED_PROXIES", "127.0.0.1".to_string()),
    ];
    env.extend(extra.iter().cloned());
    (ServerProcess::start(&env).await, mock_task)
}

#[tokio::test]
async fn through_nginx_every_route_but_health_answers_401_and_with_credentials_the_app_works() {
    let (app, _mock) = app_behind_proxy(&[]).await;
    let nginx = Nginx::start(app.port, USER, PASSWORD, &[]).await;
    let client = reqwest::Client::new();
    let conversation = uuid::Uuid::new_v4().to_string();
    for (method, path) in protected_routes(&conversation) {
        let response = request(&client, method, &format!("{}{path}", nginx.address), None).await;
        assert_eq!(response.status(), 401, "{method} {path} through nginx");
        assert!(response.headers().contains_key("www-authenticate"));
        let wrong = request(&client, method, &format!("{}{path}", nginx.address), Some(&basic(USER, "nope"))).await;
        assert_eq!(wrong.status(), 401, "{method} {path} with a wrong password");
    }
    let health = client.get(format!("{}/health", nginx.address)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let auth = basic(USER, PASSWORD);
    // Pages: the app's CSP (with its nonce) passes through once, nginx's headers appear once.
    let page = request(&client, "GET", &format!("{}/", nginx.address), Some(&auth)).await;
    assert_eq!(page.status(), 200);
    let csp: Vec<_> = page.headers().get_all("content-security-policy").iter().collect();
    assert_eq!(csp.len(), 1, "{csp:?}");
    assert!(csp[0].to_str().unwrap().contains("'nonce-"), "{csp:?}");
    assert_eq!(page.headers().get_all("x-content-type-options").iter().count(), 1);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers().contains_key("referrer-policy"));
    assert_eq!(page.headers()["server"], "nginx", "no version (server_tokens off)");
    assert!(page.text().await.unwrap().contains("nonce="));
    // The API, including a same-origin POST as a browser sends it (Origin with nginx's port).
    let create = |origin: Option<String>| {
        let mut builder = client
            .post(format!("{}/api/conversations", nginx.address))
            .header("authorization", &auth)
            .json(&json!({"provider": "anthropic"}));
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder.send()
    };
    assert_eq!(create(Some(nginx.address.clone())).await.unwrap().status(), 201);
    assert_eq!(create(None).await.unwrap().status(), 201);
    assert_eq!(create(Some("https://evil.example".into())).await.unwrap().status(), 403, "CSRF is checked behind the proxy too");
    let static_file = request(&client, "GET", &format!("{}/api/providers", nginx.address), Some(&auth)).await;
    assert_eq!(static_file.status(), 200);
}

#[tokio::test]
async fn through_nginx_a_streamed_reply_arrives_unbuffered_in_many_chunks() {
    let (app, _mock) = app_behind_proxy(&[]).await;
    let nginx = Nginx::start(app.port, USER, PASSWORD, &[]).await;
    let auth = basic(USER, PASSWORD);
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/api/conversations", nginx.address))
        .header("authorization", &auth)
        .json(&json!({"provider": "anthropic"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let feed = client.get(format!("{}/api/conversations/{id}/events", nginx.address)).header("authorization", &auth).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let sent = client
        .post(format!("{}/api/conversations/{id}/messages", nginx.address))
        .header("authorization", &auth)
        .json(&json!({"text": prompt("tokens=60 rate=30")}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let mut chunks = Vec::new();
    let mut text = String::new();
    let mut body = feed.bytes_stream();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
        chunks.push((Instant::now(), chunk.len(), String::from_utf8_lossy(&chunk).contains("TextAppended")));
        if text.contains("event: TurnCompleted") {
            break;
        }
    }
    assert!(text.contains("event: TurnCompleted"), "the turn completed: {text}");
    let text_chunks: Vec<_> = chunks.iter().filter(|(_, _, has_text)| *has_text).collect();
    assert!(text_chunks.len() >= 10, "the reply came in {} chunks with text ({} in all)", text_chunks.len(), chunks.len());
    let spread = text_chunks.last().unwrap().0 - text_chunks.first().unwrap().0;
    assert!(spread >= Duration::from_millis(800), "chunks arrived as the reply streamed (over {spread:?}), not all at the end");
}

#[tokio::test]
async fn with_the_app_stopped_nginx_answers_503_with_the_maintenance_page() {
    let (mut app, _mock) = app_behind_proxy(&[]).await;
    let nginx = Nginx::start(app.port, USER, PASSWORD, &[]).await;
    let auth = basic(USER, PASSWORD);
    let client = reqwest::Client::new();
    assert_eq!(request(&client, "GET", &format!("{}/", nginx.address), Some(&auth)).await.status(), 200);
    app.stop().await;
    for path in ["/", "/api/providers", "/c/00000000-0000-0000-0000-000000000000", "/health"] {
        let auth = (path != "/health").then_some(auth.as_str());
        let response = request(&client, "GET", &format!("{}{path}", nginx.address), auth).await;
        assert_eq!(response.status(), 503, "{path}");
        assert_eq!(response.headers()["retry-after"], "30");
        assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        let body = response.text().await.unwrap();
        assert!(body.contains("under maintenance"), "{path}: {body}");
    }
    // Still no way in without the password while the app is away.
    assert_eq!(request(&client, "GET", &format!("{}/", nginx.address), None).await.status(), 401);
    // The file the image ships is the one served.
    let shipped = std::fs::read_to_string(entrypoint().parent().unwrap().join("maintenance.html")).unwrap();
    let served = request(&client, "GET", &format!("{}/", nginx.address), Some(&auth)).await.text().await.unwrap();
    assert_eq!(served, shipped);
}

#[tokio::test]
async fn with_ip_whitelist_127_0_0_2_a_client_on_127_0_0_1_gets_403_and_one_on_127_0_0_2_passes() {
    let (app, _mock) = app_behind_proxy(&[("IP_WHITELIST", "127.0.0.2".into())]).await;
    let nginx = Nginx::start(app.port, USER, PASSWORD, &[("IP_WHITELIST", "127.0.0.2")]).await;
    let auth = basic(USER, PASSWORD);
    let outsider = client_from("127.0.0.1");
    let insider = client_from("127.0.0.2");
    for path in ["/", "/api/providers", "/api/conversations", "/settings"] {
        let refused = request(&outsider, "GET", &format!("{}{path}", nginx.address), Some(&auth)).await;
        assert_eq!(refused.status(), 403, "{path} from 127.0.0.1");
        assert!(refused.text().await.unwrap().contains("IP whitelist"), "the shipped 403 page");
        assert_eq!(request(&outsider, "GET", &format!("{}{path}", nginx.address), None).await.status(), 403, "{path} anonymous");
        let admitted = request(&insider, "GET", &format!("{}{path}", nginx.address), Some(&auth)).await;
        assert_eq!(admitted.status(), 200, "{path} from 127.0.0.2 (nginx, then the app behind it, both whitelist it)");
        assert_eq!(
            request(&insider, "GET", &format!("{}{path}", nginx.address), None).await.status(),
            401,
            "{path} still needs the password"
        );
    }
    let created = insider
        .post(format!("{}/api/conversations", nginx.address))
        .header("authorization", &auth)
        .json(&json!({"provider": "anthropic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(outsider.get(format!("{}/health", nginx.address)).send().await.unwrap().status(), 200, "/health is open to all");
}

/// Runs the entrypoint with `env` and a harmless command; returns (exit code, output).
fn run_entrypoint(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("pd-entry-{}", uuid::Uuid::new_v4().simple()));
    let output = std::process::Command::new("/bin/sh")
        .arg(entrypoint())
        .args(["/bin/sh", "-c", "echo STARTED"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into()))
        .env("PROXY_RUNTIME_DIR", dir.join("run"))
        .env("PROXY_CONF", dir.join("nginx.conf"))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        let htpasswd = std::fs::read_to_string(dir.join("run/htpasswd")).unwrap();
        let password = env.iter().find(|(k, _)| *k == "BASIC_AUTH_PASS").unwrap().1;
        assert!(!htpasswd.contains(password), "the password file holds a hash, not the password");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("run/htpasswd")).unwrap().permissions().mode() & 0o777;
            assert!(mode & 0o007 == 0, "htpasswd is not world-readable: {mode:o}");
        }
        let conf = std::fs::read_to_string(dir.join("nginx.conf")).unwrap();
        for directive in
            ["proxy_buffering off;", "server_tokens off;", "keepalive 32;", "proxy_http_version 1.1;", "frame-ancestors 'none'"]
        {
            assert!(conf.contains(directive), "{directive}");
        }
        assert!(!conf.contains("@@"), "fully rendered");
    }
    let _ = std::fs::remove_dir_all(&dir);
    (output.status.code(), text)
}

#[test]
fn the_entrypoint_refuses_a_missing_or_placeholder_password_and_invalid_whitelist_entries() {
    let user = ("BASIC_AUTH_USER", "pocket");
    let pass = ("BASIC_AUTH_PASS", "s3cret-pass");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "BASIC_AUTH_USER is not set"),
        (vec![pass], "BASIC_AUTH_USER is not set"),
        (vec![user], "BASIC_AUTH_PASS is not set"),
        (vec![user, ("BASIC_AUTH_PASS", "")], "BASIC_AUTH_PASS is not set"),
        (vec![("BASIC_AUTH_USER", ""), pass], "BASIC_AUTH_USER is not set"),
        (vec![user, ("BASIC_AUTH_PASS", "change-me")], "placeholder"),
        (vec![user, pass, ("IP_WHITELIST", "127.0.0.1,10.0.0.0/33")], "'10.0.0.0/33'"),
        (vec![user, pass, ("IP_WHITELIST", "256.1.1.1")], "'256.1.1.1'"),
        (vec![user, pass, ("IP_WHITELIST", "1.2.3")], "'1.2.3'"),
        (vec![user, pass, ("IP_WHITELIST", "example.com")], "'example.com'"),
        (vec![user, pass, ("IP_WHITELIST", "10.0.0.0/")], "'10.0.0.0/'"),
        (vec![user, pass, ("IP_WHITELIST", "::1, fe80::1::2")], "'fe80::1::2'"),
        (vec![user, pass, ("IP_WHITELIST", "2001:db8::/129")], "'2001:db8::/129'"),
        (vec![user, pass, ("IP_WHITELIST", "1.2.3.4; deny all")], "IP_WHITELIST"),
        (vec![user, pass, ("NGINX_PORT", "80; evil")], "NGINX_PORT"),
        (vec![user, pass, ("NGINX_PORT", "08")], "NGINX_PORT"),
        (vec![user, pass, ("IP_WHITELIST", "10.0.0.010")], "'10.0.0.010'"),
        (vec![user, pass, ("PROXY_UPSTREAM", "app:3000; evil")], "PROXY_UPSTREAM"),
        (vec![("BASIC_AUTH_USER", "a:b"), pass], "BASIC_AUTH_USER"),
    ];
    for (env, expected) in cases {
        let (code, output) = run_entrypoint(&env);
        assert_eq!(code, Some(2), "{env:?}: {output}");
        assert!(output.contains(expected), "{env:?} should mention {expected}: {output}");
        assert!(!output.contains("STARTED"), "{env:?}: nginx must not start");
    }
    let (code, output) = run_entrypoint(&[user, pass, ("IP_WHITELIST", " 127.0.0.1, 10.0.0.0/8 ,2001:db8::/32,::1,::ffff:192.0.2.1")]);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("STARTED"));
    let (code, output) = run_entrypoint(&[user, pass]);
    assert_eq!(code, Some(0), "{output}");
}
