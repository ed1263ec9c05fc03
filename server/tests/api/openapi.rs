//! The OpenAPI description (`server/src/openapi.json`, served at `/api/openapi.json`) checked
//! against the implementation:
//!
//! - it is OpenAPI 3.1, every `$ref` resolves, and every operation documents its answers;
//! - its operations are exactly the router's (`server::routes::API_ROUTES`, the table the router
//!   is built from);
//! - every operation, called with a valid example (and, for most, an invalid one), answers a
//!   status the spec documents, with a body that validates against the documented schema (a small
//!   JSON Schema checker below: `type`, `properties`, `required`, `additionalProperties`, `items`,
//!   `enum`, `const`, `allOf`/`anyOf`/`oneOf`, `minimum`/`maximum`, `minLength`, `$ref`).
//!
//! `scripts/schemathesis.sh` then fuzzes a running server against the same document.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

fn spec() -> Value {
    serde_json::from_str(server::routes::OPENAPI_JSON).expect("server/src/openapi.json is JSON")
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `(METHOD, path)` of every operation in the spec.
fn spec_operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            assert!(METHODS.contains(&method.as_str()), "{path}: unexpected key `{method}` in a path item");
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

fn resolve<'a>(spec: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("only local $refs: {reference}"));
    spec.pointer(pointer).unwrap_or_else(|| panic!("unresolved $ref {reference}"))
}

fn all_refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    found.push(child.as_str().expect("$ref is a string").to_string());
                } else {
                    all_refs(child, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|child| all_refs(child, found)),
        _ => {}
    }
}

#[test]
fn the_spec_lists_exactly_the_routes_the_router_serves() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let documented = spec_operations(&spec);
    let served: BTreeSet<(String, String)> = server::routes::API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(served.len(), server::routes::API_ROUTES.len(), "a route is declared twice");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in openapi.json: {undocumented:?}\nin openapi.json but not served: {unserved:?}"
    );

    let mut refs = Vec::new();
    all_refs(&spec, &mut refs);
    for reference in &refs {
        resolve(&spec, reference);
    }
    let mut operation_ids = BTreeSet::new();
    for (method, path) in &documented {
        let operation = &spec["paths"][path][method.to_lowercase()];
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(operation_ids.insert(id.to_string()), "operationId {id} twice");
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no 2xx answer");
        assert!(responses.contains_key("500"), "{method} {path}: the 500 error shape is not documented");
        // Path parameters named in the template are declared, and the other way round.
        let in_template: BTreeSet<&str> = path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(in_template, declared, "{method} {path}: path parameters");
    }
}

/// A problem with `value` against `schema`, or `None` when it validates.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Option<String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return check(spec, resolve(spec, reference), value, at);
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => panic!("{at}: bad `type` in the schema"),
        };
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            other => panic!("{at}: unknown type {other}"),
        };
        if !types.iter().any(|t| fits(t)) {
            return Some(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            return Some(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            return Some(format!("{at}: {value} is not {constant}"));
        }
    }
    if let Some(n) = value.as_f64() {
        if schema.get("minimum").and_then(Value::as_f64).is_some_and(|min| n < min)
            || schema.get("maximum").and_then(Value::as_f64).is_some_and(|max| n > max)
        {
            return Some(format!("{at}: {value} is out of range"));
        }
    }
    if let (Some(s), Some(min)) = (value.as_str(), schema.get("minLength").and_then(Value::as_u64)) {
        if (s.chars().count() as u64) < min {
            return Some(format!("{at}: {value:?} is shorter than {min}"));
        }
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        if let Some(problem) = check(spec, part, value, at) {
            return Some(problem);
        }
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        if options.iter().all(|option| check(spec, option, value, at).is_some()) {
            return Some(format!("{at}: {value} matches none of anyOf"));
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options.iter().filter(|option| check(spec, option, value, at).is_none()).count();
        if matching != 1 {
            return Some(format!("{at}: {value} matches {matching} of oneOf, not 1"));
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            if let Some(problem) = check(spec, items, item, &format!("{at}[{i}]")) {
                return Some(problem);
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                return Some(format!("{at}: required `{name}` is missing in {value}"));
            }
        }
        for (name, child) in object {
            let path = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => {
                    if let Some(problem) = check(spec, property, child, &path) {
                        return Some(problem);
                    }
                }
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Some(format!("{path}: not a documented property")),
                    Some(extra @ Value::Object(_)) => {
                        if let Some(problem) = check(spec, extra, child, &path) {
                            return Some(problem);
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    None
}

/// A request body of a case.
enum Body {
    None,
    Json(Value),
    Raw(&'static str),
}

/// One call: the operation it exercises, the concrete URL, the body, and the status it must answer.
struct Case {
    method: &'static str,
    template: &'static str,
    url: String,
    body: Body,
    expect: u16,
}

fn case(method: &'static str, template: &'static str, url: impl Into<String>, body: Body, expect: u16) -> Case {
    Case { method, template, url: url.into(), body, expect }
}

/// Sends `case`, checks the status is the expected one and documented, and the body validates.
async fn run(app: &TestApp, spec: &Value, case: &Case) -> Value {
    let operation = &spec["paths"][case.template][case.method.to_lowercase()];
    assert!(operation.is_object(), "{} {} is not in the spec", case.method, case.template);
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut request = app.client.request(method, format!("{}{}", app.address, case.url)).timeout(Duration::from_secs(30));
    request = match &case.body {
        Body::None => request,
        Body::Json(value) => request.json(value),
        Body::Raw(text) => request.header("content-type", "application/octet-stream").body(*text),
    };
    let response = request.send().await.unwrap_or_else(|e| panic!("{} {}: {e}", case.method, case.url));
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let what = format!("{} {}", case.method, case.url);
    let mut documented = &operation["responses"][status.to_string()];
    if let Some(reference) = documented.get("$ref").and_then(Value::as_str) {
        documented = resolve(spec, reference);
    }
    if content_type.starts_with("text/event-stream") {
        assert_eq!(status, case.expect, "{what}: status");
        assert!(documented["content"]["text/event-stream"].is_object(), "{what}: SSE answer not documented as text/event-stream");
        if case.template.ends_with("/events") {
            // A conversation's feed starts with its history: its first event must match the event schema.
            let frame = first_event(response).await.unwrap_or_else(|| panic!("{what}: no event within 5 s"));
            let schema = &documented["content"]["text/event-stream"]["schema"];
            if let Some(problem) = check(spec, schema, &frame, "event") {
                panic!("{what}: the first event does not match the spec: {problem}");
            }
            let data: Value = serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
            let data_schema = &resolve(spec, schema["$ref"].as_str().unwrap())["properties"]["data"]["contentSchema"];
            if let Some(problem) = check(spec, data_schema, &data, "event.data") {
                panic!("{what}: the first event's data does not match the spec: {problem}");
            }
        }
        return Value::Null; // an endless stream: the headers (and the first event) are the answer
    }
    let text = response.text().await.unwrap();
    assert_eq!(status, case.expect, "{what}: status; body {text}");
    assert!(documented.is_object(), "{what}: status {status} is not documented");
    let Some(content) = documented.get("content").and_then(Value::as_object) else {
        assert!(text.is_empty(), "{what}: {status} documents no body but got {text}");
        return Value::Null;
    };
    let media = content_type.split(';').next().unwrap_or("").trim();
    let entry = content
        .get(media)
        .unwrap_or_else(|| panic!("{what}: content type {content_type} not documented for {status} ({:?})", content.keys()));
    if media != "application/json" {
        assert!(!text.is_empty(), "{what}: empty {media} body");
        return Value::String(text);
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
    if let Some(problem) = check(spec, &entry["schema"], &body, "body") {
        panic!("{what}: the {status} answer does not match the spec: {problem}");
    }
    body
}

/// The first server-sent event of a stream as `{id, event, data}`, read for at most 5 s.
async fn first_event(response: reqwest::Response) -> Option<Value> {
    use futures::StreamExt;
    let mut chunks = response.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout_at(deadline, chunks.next()).await.ok()??.ok()?;
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut frame = serde_json::Map::new();
    for line in text.split("\n\n").next()?.lines() {
        if let Some((field, value)) = line.split_once(':') {
            frame.insert(field.to_string(), Value::String(value.strip_prefix(' ').unwrap_or(value).to_string()));
        }
    }
    Some(Value::Object(frame))
}

#[tokio::test]
async fn every_operation_answers_what_the_spec_documents() {
    let app = spawn_app().await;
    let spec = spec();
    let served: Value = app.client.get(format!("{}/api/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, spec, "/api/openapi.json serves server/src/openapi.json");

    // Fixtures: a conversation with one finished turn, a workspace with a file, a Claude session file.
    let id = app.create_conversation().await;
    send_message(&app.client, &app.address, &id, &prompt("tokens=5")).await;
    app.wait_until_settled(&id, Duration::from_secs(30)).await;
    let workspace = format!("oa-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let missing = uuid::Uuid::new_v4();
    let project = app.claude_home.join(".claude/projects/-openapi");
    std::fs::create_dir_all(&project).unwrap();
    let session = [
        r#"{"type":"user","cwd":"/elsewhere","message":{"role":"user","content":"a prompt"}}"#,
        r#"{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"an answer"}]}}"#,
    ];
    std::fs::write(project.join("s1.jsonl"), session.join("\n")).unwrap();
    let scope = format!("workspace:{workspace}");
    let credentials = json!({"claudeAiOauth": {"accessToken": "sk-ant-oat01-openapi-test", "refreshToken": "sk-ant-ort01-x", "expiresAt": 4102444800000i64}});

    use Body::{Json, None as NoBody, Raw};
    let c = "/api/conversations/{id}";
    let cases = vec![
        case("GET", "/health", "/health", NoBody, 200),
        case("GET", "/api/openapi.json", "/api/openapi.json", NoBody, 200),
        case("GET", "/api/providers", "/api/providers", NoBody, 200),
        case("GET", "/api/pricing", "/api/pricing", NoBody, 200),
        case("GET", "/highlight.css", "/highlight.css", NoBody, 200),
        // conversations
        case("GET", "/api/conversations", "/api/conversations?archived=all&limit=10", NoBody, 200),
        case("GET", "/api/conversations", "/api/conversations?limit=0", NoBody, 400),
        case("GET", "/api/conversations", "/api/conversations?archived=maybe", NoBody, 400),
        case(
            "POST",
            "/api/conversations",
            "/api/conversations",
            Json(json!({"provider": "anthropic", "title": "Spec", "max_tokens": 1000})),
            201,
        ),
        case("POST", "/api/conversations", "/api/conversations", Json(json!({"provider": "nope"})), 400),
        case("POST", "/api/conversations", "/api/conversations", Json(json!({"provider": 7})), 400),
        case("GET", c, format!("/api/conversations/{id}"), NoBody, 200),
        case("GET", c, format!("/api/conversations/{id}?turns=1&from_turn=1&at=100"), NoBody, 200),
        case("GET", c, format!("/api/conversations/{id}?turns=0"), NoBody, 400),
        case("GET", c, "/api/conversations/not-a-uuid", NoBody, 404),
        case("GET", c, format!("/api/conversations/{missing}"), NoBody, 404),
        case("PATCH", c, format!("/api/conversations/{id}"), Json(json!({"title": "Renamed"})), 200),
        case("PATCH", c, format!("/api/conversations/{id}"), Json(json!({"title": ""})), 400),
        case("PATCH", c, format!("/api/conversations/{id}"), Json(json!({})), 400),
        case("PATCH", c, format!("/api/conversations/{missing}"), Json(json!({"title": "x"})), 404),
        // NUL cannot be stored (Postgres text and jsonb): 400, not 500
        case("PATCH", c, format!("/api/conversations/{id}"), Json(json!({"title": "a\u{0}b"})), 400),
        case("POST", "/api/conversations", "/api/conversations", Json(json!({"provider": "anthropic", "model": "m\u{0}"})), 400),
        case("GET", "/api/search", "/api/search?q=a%00b", NoBody, 400),
        case("GET", "/api/conversations", "/api/conversations?q=%00", NoBody, 400),
        // axum's own rejections are JSON 400s too: a path segment that is not UTF-8, a repeated parameter
        case("GET", c, "/api/conversations/%FF%FE", NoBody, 400),
        case("GET", "/api/search", "/api/search?q=a&q=b", NoBody, 400),
        case("GET", "/api/conversations/live", "/api/conversations/live", NoBody, 200),
        case("GET", "/api/conversations/{id}/messages", format!("/api/conversations/{id}/messages?before_turn=2&limit=5"), NoBody, 200),
        case("GET", "/api/conversations/{id}/messages", format!("/api/conversations/{id}/messages"), NoBody, 400),
        case("GET", "/api/conversations/{id}/messages", format!("/api/conversations/{missing}/messages?before_turn=2"), NoBody, 404),
        case(
            "POST",
            "/api/conversations/{id}/messages",
            format!("/api/conversations/{missing}/messages"),
            Json(json!({"text": "hi"})),
            404,
        ),
        case("POST", "/api/conversations/{id}/messages", format!("/api/conversations/{id}/messages"), Json(json!({"text": ""})), 400),
        case("POST", "/api/conversations/{id}/messages", format!("/api/conversations/{id}/messages"), Json(json!({"txt": "hi"})), 400),
        case("GET", "/api/conversations/{id}/export.md", format!("/api/conversations/{id}/export.md"), NoBody, 200),
        case("GET", "/api/conversations/{id}/export.md", format!("/api/conversations/{missing}/export.md"), NoBody, 404),
        case("POST", "/api/conversations/{id}/abort", format!("/api/conversations/{missing}/abort"), NoBody, 404),
        case("POST", "/api/conversations/{id}/archive", format!("/api/conversations/{id}/archive"), NoBody, 200),
        case("POST", "/api/conversations/{id}/unarchive", format!("/api/conversations/{id}/unarchive"), NoBody, 200),
        case("POST", "/api/conversations/{id}/archive", format!("/api/conversations/{missing}/archive"), NoBody, 404),
        case("GET", "/api/conversations/{id}/log", format!("/api/conversations/{id}/log"), NoBody, 200),
        case("GET", "/api/conversations/{id}/log", format!("/api/conversations/{missing}/log"), NoBody, 404),
        case(
            "POST",
            "/api/conversations/{id}/approvals/{approval_id}",
            format!("/api/conversations/{id}/approvals/none"),
            Json(json!({"decision": "allow"})),
            404,
        ),
        case(
            "POST",
            "/api/conversations/{id}/approvals/{approval_id}",
            format!("/api/conversations/{id}/approvals/none"),
            Json(json!({"decision": "perhaps"})),
            400,
        ),
        case("GET", "/api/conversations/{id}/events", format!("/api/conversations/{id}/events?after=1"), NoBody, 200),
        case("GET", "/api/conversations/{id}/events", format!("/api/conversations/{id}/events?after=x"), NoBody, 400),
        case("GET", "/api/conversations/{id}/events", format!("/api/conversations/{missing}/events"), NoBody, 404),
        case("GET", "/api/search", "/api/search?q=something&limit=5", NoBody, 200),
        case("GET", "/api/search", "/api/search?q=", NoBody, 400),
        // workspaces and files
        case("POST", "/api/workspaces", "/api/workspaces", Json(json!({"name": workspace})), 201),
        case("POST", "/api/workspaces", "/api/workspaces", Json(json!({"name": workspace})), 409),
        case("POST", "/api/workspaces", "/api/workspaces", Json(json!({"name": "../up"})), 400),
        case("GET", "/api/workspaces", "/api/workspaces", NoBody, 200),
        case(
            "POST",
            "/api/workspaces/{workspace}/files",
            format!("/api/workspaces/{workspace}/files?path=notes/a.md"),
            Raw("# Notes\n"),
            201,
        ),
        case("POST", "/api/workspaces/{workspace}/files", format!("/api/workspaces/{workspace}/files?path=notes/a.md"), Raw("again"), 409),
        case("POST", "/api/workspaces/{workspace}/files", format!("/api/workspaces/{workspace}/files?path=.env"), Raw("X=1"), 400),
        case("GET", "/api/workspaces/{workspace}/files", format!("/api/workspaces/{workspace}/files?path=notes/a.md"), NoBody, 200),
        case("GET", "/api/workspaces/{workspace}/files", format!("/api/workspaces/{workspace}/files"), NoBody, 200),
        case("GET", "/api/workspaces/{workspace}/files", format!("/api/workspaces/{workspace}/files?path=../x"), NoBody, 400),
        case("GET", "/api/workspaces/{workspace}/files", format!("/api/workspaces/{workspace}/files?path=nothing.txt"), NoBody, 404),
        case("GET", "/api/workspaces/{workspace}/files", "/api/workspaces/no-such-ws/files", NoBody, 404),
        // settings
        case("GET", "/api/settings/keys", "/api/settings/keys", NoBody, 200),
        case(
            "PUT",
            "/api/settings/keys/{name}",
            "/api/settings/keys/OPENAI_API_KEY",
            Json(json!({"value": "sk-openapi-test-0123456789"})),
            200,
        ),
        case("PUT", "/api/settings/keys/{name}", "/api/settings/keys/OPENAI_API_KEY", Json(json!({"value": "has space"})), 400),
        case("PUT", "/api/settings/keys/{name}", "/api/settings/keys/NOPE", Json(json!({"value": "x"})), 400),
        case("DELETE", "/api/settings/keys/{name}", "/api/settings/keys/OPENAI_API_KEY", NoBody, 200),
        case("DELETE", "/api/settings/keys/{name}", "/api/settings/keys/NOPE", NoBody, 400),
        case("GET", "/api/settings/defaults", "/api/settings/defaults", NoBody, 200),
        case(
            "PUT",
            "/api/settings/defaults",
            "/api/settings/defaults",
            Json(json!({"provider": "anthropic", "permission_mode": "ask"})),
            200,
        ),
        case("PUT", "/api/settings/defaults", "/api/settings/defaults", Json(json!({"provider": "nope"})), 400),
        case("PUT", "/api/settings/defaults", "/api/settings/defaults", Json(json!({"colour": "red"})), 400),
        case("PUT", "/api/settings/defaults", "/api/settings/defaults", Json(json!([null, null])), 400),
        case("GET", "/api/settings/instructions", "/api/settings/instructions", NoBody, 200),
        case("PUT", "/api/settings/instructions", "/api/settings/instructions", Json(json!({"text": "Be terse."})), 200),
        case("PUT", "/api/settings/instructions", "/api/settings/instructions", Json(json!({"text": "x".repeat(40_000)})), 400),
        case("PUT", "/api/settings/instructions", "/api/settings/instructions", Json(json!({"txt": "x"})), 400),
        case("GET", "/api/workspaces/{workspace}/instructions", format!("/api/workspaces/{workspace}/instructions"), NoBody, 200),
        case("GET", "/api/workspaces/{workspace}/instructions", "/api/workspaces/no-such-place/instructions", NoBody, 404),
        case("GET", "/api/workspaces/{workspace}/instructions", "/api/workspaces/%C2%84/instructions", NoBody, 400),
        case(
            "PUT",
            "/api/workspaces/{workspace}/instructions",
            format!("/api/workspaces/{workspace}/instructions"),
            Json(json!({"text": "Python 3.11."})),
            200,
        ),
        case(
            "PUT",
            "/api/workspaces/{workspace}/instructions",
            "/api/workspaces/no-such-place/instructions",
            Json(json!({"text": "x"})),
            404,
        ),
        // Claude Code configuration, sessions and credentials
        case("GET", "/api/claude/config", format!("/api/claude/config?scope={scope}"), NoBody, 200),
        case("GET", "/api/claude/config", "/api/claude/config?scope=elsewhere", NoBody, 400),
        case(
            "PUT",
            "/api/claude/config/file",
            format!("/api/claude/config/file?scope={scope}&path=commands/hello.md"),
            Json(json!({"content": "Say hello"})),
            200,
        ),
        case(
            "PUT",
            "/api/claude/config/file",
            format!("/api/claude/config/file?scope={scope}&path=settings.json"),
            Json(json!({"content": "{not json"})),
            400,
        ),
        case(
            "PUT",
            "/api/claude/config/file",
            format!("/api/claude/config/file?scope={scope}&path=../x.md"),
            Json(json!({"content": "x"})),
            403,
        ),
        case("GET", "/api/claude/config/file", format!("/api/claude/config/file?scope={scope}&path=commands/hello.md"), NoBody, 200),
        case("GET", "/api/claude/config/file", format!("/api/claude/config/file?scope={scope}"), NoBody, 400),
        case("DELETE", "/api/claude/config/file", format!("/api/claude/config/file?scope={scope}&path=commands/hello.md"), NoBody, 204),
        case("PUT", "/api/claude/config/hooks", format!("/api/claude/config/hooks?scope={scope}"), Json(json!({"hooks": {}})), 200),
        case("PUT", "/api/claude/config/hooks", format!("/api/claude/config/hooks?scope={scope}"), Json(json!({"hooks": 3})), 400),
        case("GET", "/api/claude/config/hooks", format!("/api/claude/config/hooks?scope={scope}"), NoBody, 200),
        case("GET", "/api/claude/sessions", "/api/claude/sessions", NoBody, 200),
        case(
            "POST",
            "/api/claude/sessions/import",
            "/api/claude/sessions/import",
            Json(json!({"project": "-openapi", "session_id": "s1"})),
            201,
        ),
        case(
            "POST",
            "/api/claude/sessions/import",
            "/api/claude/sessions/import",
            Json(json!({"project": "-openapi", "session_id": "s2"})),
            404,
        ),
        case("POST", "/api/claude/sessions/import", "/api/claude/sessions/import", Json(json!({"project": "..", "session_id": "s1"})), 400),
        case("GET", "/api/claude/auth", "/api/claude/auth", NoBody, 200),
        case("PUT", "/api/claude/credentials", "/api/claude/credentials", Json(credentials), 200),
        case("PUT", "/api/claude/credentials", "/api/claude/credentials", Json(json!({"claudeAiOauth": {}})), 400),
        case("DELETE", "/api/claude/credentials", "/api/claude/credentials", NoBody, 204),
        // last: the conversation goes
        case("DELETE", c, format!("/api/conversations/{id}"), NoBody, 204),
        case("DELETE", c, format!("/api/conversations/{missing}"), NoBody, 404),
    ];
    let mut covered = BTreeSet::new();
    for case in &cases {
        run(&app, &spec, case).await;
        covered.insert((case.method.to_string(), case.template.to_string()));
    }
    let uncovered: Vec<_> = spec_operations(&spec).difference(&covered).cloned().collect();
    assert!(uncovered.is_empty(), "operations this test does not call: {uncovered:?}");
}

#[test]
fn the_checker_catches_mismatches() {
    let spec = spec();
    let view = json!({"$ref": "#/components/schemas/ConversationSummary"});
    let good = json!({"id": "x", "title": "t", "status": "idle", "provider": "p", "model": "m", "archived": false, "updated_at": "now"});
    assert_eq!(check(&spec, &view, &good, "body"), None);
    let mut bad = good.clone();
    bad["status"] = json!("sleeping");
    assert!(check(&spec, &view, &bad, "body").is_some());
    bad = good.clone();
    bad.as_object_mut().unwrap().remove("title");
    assert!(check(&spec, &view, &bad, "body").is_some());
    let error = json!({"$ref": "#/components/schemas/Error"});
    assert!(check(&spec, &error, &json!({"error": "x"}), "body").is_none());
    assert!(check(&spec, &error, &json!({"message": "x"}), "body").is_some());
    assert!(check(&spec, &json!({"type": "integer", "minimum": 1}), &json!(0), "body").is_some());
}
