//! Browser-side calls to the JSON API: create a conversation, send a prompt, stop a turn, and the
//! generic JSON get/send and raw file upload the other components use.

#[cfg(feature = "hydrate")]
mod browser {
    use gloo_net::http::Request;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Created {
        id: String,
    }

    #[derive(Deserialize)]
    struct Problem {
        error: String,
    }

    async fn problem(response: gloo_net::http::Response) -> String {
        match response.json::<Problem>().await {
            Ok(problem) => problem.error,
            Err(_) => format!("request failed with HTTP {}", response.status()),
        }
    }

    /// POSTs a `POST /api/conversations` body; answers the new conversation's id.
    pub async fn create_conversation(body: serde_json::Value) -> Result<String, String> {
        let response =
            Request::post("/api/conversations").json(&body).map_err(|e| e.to_string())?.send().await.map_err(|e| e.to_string())?;
        if !response.ok() {
            return Err(problem(response).await);
        }
        response.json::<Created>().await.map(|c| c.id).map_err(|e| e.to_string())
    }

    pub async fn send_message(id: &str, text: &str) -> Result<(), String> {
        let response = Request::post(&format!("/api/conversations/{id}/messages"))
            .json(&serde_json::json!({ "text": text }))
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.ok() {
            Ok(())
        } else {
            Err(problem(response).await)
        }
    }

    pub async fn decide(id: &str, approval_id: &str, decision: &str) -> Result<(), String> {
        let response = Request::post(&format!("/api/conversations/{id}/approvals/{approval_id}"))
            .json(&serde_json::json!({ "decision": decision }))
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.ok() {
            Ok(())
        } else {
            Err(problem(response).await)
        }
    }

    /// GETs a JSON document as `T` (parsed straight from the text: one parser per type, not a
    /// `Value` and then the type).
    pub async fn get<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, String> {
        get_found(url).await?.ok_or_else(|| "request failed with HTTP 404".to_string())
    }

    /// GETs a JSON document as `T`; `None` when the server answers 404. The future is `Send`
    /// (as resources need), although the browser's fetch is not: the browser has one thread.
    pub async fn get_found<T: serde::de::DeserializeOwned>(url: &str) -> Result<Option<T>, String> {
        send_wrapper::SendWrapper::new(fetch_found(url)).await
    }

    async fn fetch_found<T: serde::de::DeserializeOwned>(url: &str) -> Result<Option<T>, String> {
        let response = Request::get(url).send().await.map_err(|e| e.to_string())?;
        if response.status() == 404 {
            return Ok(None);
        }
        if !response.ok() {
            return Err(problem(response).await);
        }
        response.json().await.map(Some).map_err(|e| e.to_string())
    }

    /// GETs a JSON document.
    pub async fn get_json(url: &str) -> Result<serde_json::Value, String> {
        let response = Request::get(url).send().await.map_err(|e| e.to_string())?;
        if !response.ok() {
            return Err(problem(response).await);
        }
        response.json().await.map_err(|e| e.to_string())
    }

    /// Sends `body` (JSON text, or nothing) with `method`; returns the JSON answer, if any.
    pub async fn send_json(method: &str, url: &str, body: &str) -> Result<serde_json::Value, String> {
        let builder = match method {
            "PUT" => Request::put(url),
            "DELETE" => Request::delete(url),
            "PATCH" => Request::patch(url),
            _ => Request::post(url),
        };
        let request = if body.is_empty() {
            builder.build().map_err(|e| e.to_string())?
        } else {
            builder.header("content-type", "application/json").body(body.to_string()).map_err(|e| e.to_string())?
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        if !response.ok() {
            return Err(problem(response).await);
        }
        Ok(response.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn stop(id: &str) -> Result<(), String> {
        let response = Request::post(&format!("/api/conversations/{id}/abort")).send().await.map_err(|e| e.to_string())?;
        if response.ok() || response.status() == 409 {
            Ok(())
        } else {
            Err(problem(response).await)
        }
    }

    /// POSTs a file's bytes as the raw body (`POST /api/workspaces/{ws}/files?path=`).
    pub async fn upload(url: &str, file: web_sys::File) -> Result<serde_json::Value, String> {
        let response = Request::post(url)
            .header("content-type", "application/octet-stream")
            .body(file)
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.ok() {
            return Err(problem(response).await);
        }
        Ok(response.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub fn go_to(path: &str) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(path);
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(not(feature = "hydrate"))]
mod server_side {
    //! The page never calls these during SSR; they exist so components compile without cfgs.
    pub async fn create_conversation(_body: serde_json::Value) -> Result<String, String> {
        Err("not available during server rendering".into())
    }
    pub async fn decide(_id: &str, _approval_id: &str, _decision: &str) -> Result<(), String> {
        Err("not available during server rendering".into())
    }
    pub async fn send_message(_id: &str, _text: &str) -> Result<(), String> {
        Err("not available during server rendering".into())
    }
    pub async fn stop(_id: &str) -> Result<(), String> {
        Err("not available during server rendering".into())
    }
    pub fn go_to(_path: &str) {}
    #[allow(dead_code)]
    pub async fn upload(_url: &str, _file: ()) -> Result<serde_json::Value, String> {
        Err("not available during server rendering".into())
    }
    pub async fn get<T>(_url: &str) -> Result<T, String> {
        Err("not available during server rendering".into())
    }
    #[allow(dead_code)]
    pub async fn get_found<T>(_url: &str) -> Result<Option<T>, String> {
        Err("not available during server rendering".into())
    }
    pub async fn get_json(_url: &str) -> Result<serde_json::Value, String> {
        Err("not available during server rendering".into())
    }
    pub async fn send_json(_method: &str, _url: &str, _body: &str) -> Result<serde_json::Value, String> {
        Err("not available during server rendering".into())
    }
}

#[cfg(not(feature = "hydrate"))]
pub use server_side::*;

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("uploads/a b&c.txt"), "uploads/a%20b%26c.txt");
        assert_eq!(super::encode("ü"), "%C3%BC");
    }
}
