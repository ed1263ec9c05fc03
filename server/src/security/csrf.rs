//! Cross-site request forgery: browsers send Basic credentials on their own, so a state-changing
//! request must come from a page of this origin.
//!
//! For POST, PUT, PATCH and DELETE:
//! - an `Origin` header must name this host (the `Host` header) or an allowed origin; `null` is refused;
//! - without `Origin`, a `Referer` must do the same;
//! - without either, `Sec-Fetch-Site` (if sent) must be `same-origin` or `none`;
//! - a request with none of the three is allowed: browsers always send `Origin` on cross-origin
//!   POSTs (and `Sec-Fetch-Site` on everything), so only non-browser clients (curl, scripts) get here,
//!   and they cannot ride on a victim's credentials.

use axum::http::{HeaderMap, Method, Uri};

/// An origin: scheme, lowercase host, and port (the scheme's default when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]`, with an optional path after it (as in a Referer).
    pub fn parse(text: &str) -> Option<Self> {
        let (scheme, rest) = text.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = split_host_port(authority)?;
        Some(Self { scheme, host, port: port.unwrap_or(default_port) })
    }

    /// Whether this origin is the one a `Host` header names (a missing port there means the default).
    fn is_host(&self, host_header: &str) -> bool {
        match split_host_port(host_header.trim()) {
            Some((host, port)) => host == self.host && port.unwrap_or(if self.scheme == "https" { 443 } else { 80 }) == self.port,
            None => false,
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the host lowercased.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{}]", host.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_ascii_lowercase(), Some(port)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    Some((host, port))
}

/// Whether the method changes state.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// `Err(reason)` when a state-changing request does not come from this origin or an allowed one.
pub fn check(method: &Method, uri: &Uri, headers: &HeaderMap, allowed: &[Origin]) -> Result<(), String> {
    if !is_unsafe(method) {
        return Ok(());
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()));
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("").to_string());
    let (source, claimed) = match (header("origin"), header("referer")) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => {
            return match header("sec-fetch-site").as_deref() {
                None | Some("same-origin") | Some("none") => Ok(()),
                Some(site) => Err(format!("cross-site request refused (Sec-Fetch-Site: {site})")),
            };
        }
    };
    let Some(origin) = Origin::parse(&claimed) else {
        return Err(format!("cross-origin request refused: the {source} header is not an http(s) origin"));
    };
    let same = host.as_deref().is_some_and(|h| origin.is_host(h));
    if same || allowed.contains(&origin) {
        Ok(())
    } else {
        Err(format!(
            "cross-origin request refused: the {source} header names another site than this one; add it to PD_ALLOWED_ORIGINS if it is yours"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(method: Method, pairs: &[(&str, &str)], allowed: &[&str]) -> Result<(), String> {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let allowed: Vec<Origin> = allowed.iter().map(|a| Origin::parse(a).unwrap()).collect();
        check(&method, &Uri::from_static("/api/x"), &headers, &allowed)
    }

    #[test]
    fn same_origin_passes_and_other_origins_do_not() {
        let host = ("host", "127.0.0.1:3000");
        assert!(run(Method::POST, &[host, ("origin", "http://127.0.0.1:3000")], &[]).is_ok());
        assert!(run(Method::DELETE, &[host, ("referer", "http://127.0.0.1:3000/c/1?x")], &[]).is_ok());
        assert!(run(Method::POST, &[("host", "dev.example.com"), ("origin", "https://dev.example.com")], &[]).is_ok());
        assert!(run(Method::POST, &[("host", "dev.example.com"), ("origin", "http://dev.example.com")], &[]).is_ok());
        assert!(run(Method::POST, &[("host", "[::1]:3000"), ("origin", "http://[::1]:3000")], &[]).is_ok());
        for bad in ["http://evil.example", "http://127.0.0.1:3001", "null", "file://x", "http://127.0.0.1:3000@evil.example"] {
            assert!(run(Method::POST, &[host, ("origin", bad)], &[]).is_err(), "{bad}");
        }
        assert!(run(Method::PATCH, &[host, ("referer", "https://evil.example/127.0.0.1:3000")], &[]).is_err());
        assert!(run(Method::POST, &[host, ("origin", "https://phone.example")], &["https://phone.example"]).is_ok());
    }

    #[test]
    fn safe_methods_and_header_less_clients_pass_but_cross_site_fetches_do_not() {
        assert!(run(Method::GET, &[("origin", "http://evil.example")], &[]).is_ok());
        assert!(run(Method::POST, &[("host", "h")], &[]).is_ok());
        assert!(run(Method::POST, &[("host", "h"), ("sec-fetch-site", "same-origin")], &[]).is_ok());
        assert!(run(Method::POST, &[("host", "h"), ("sec-fetch-site", "cross-site")], &[]).is_err());
    }
}
