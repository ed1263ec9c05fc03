//! Pages the server renders whole: the timeline, settings, workspaces and Claude Code pages.
//!
//! They need no reactivity, so none of their code ships in the WASM: the server's `server_pages`
//! middleware calls `render` before the app renders, and hands the HTML to the app as `Rendered`;
//! `ServerPage` puts it in the page's `<main>`, which the browser hydrates without looking inside.
//! Their forms are plain HTML forms posting to server functions, which answer with a redirect back
//! to the page (with `__err` in the query on failure: `failure`). Links to them are
//! `rel="external"` (a full page load); reached by client-side navigation anyway (back/forward),
//! the page is loaded from the server.

use leptos::prelude::*;

/// The HTML of the server-rendered page being served.
#[derive(Debug, Clone, Default)]
pub struct Rendered(pub String);

/// The `<main>` of a server-rendered page: its `Rendered` HTML during SSR, adopted as it is by the
/// browser.
#[component]
pub fn ServerPage(class: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let html = use_context::<Rendered>().unwrap_or_default().0;
    #[cfg(not(feature = "ssr"))]
    let html = {
        crate::dom::reload_if_hydrated();
        String::new()
    };
    view! { <main class=class inner_html=html></main> }
}

#[cfg(feature = "ssr")]
pub use server::{failure, render, render_html};

#[cfg(feature = "ssr")]
mod server {
    use std::sync::Arc;

    use backend::Backend;
    use leptos::prelude::*;
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos_router::location::Url;

    /// The HTML of the page at `path_and_query` when the server renders it whole, else `None`.
    pub async fn render(backend: &Arc<Backend>, path_and_query: &str) -> Option<String> {
        let url = leptos_router::location::RequestUrl::new(path_and_query).parse().ok()?;
        let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["c", id, "timeline"] => Some(crate::timeline::render(backend, id).await),
            ["settings"] => Some(crate::settings::render(backend, &url).await),
            ["workspaces"] => Some(crate::workspaces::render(backend, &url).await),
            ["claude"] => Some(crate::claude_page::render(backend, &url).await),
            _ => None,
        }
    }

    /// A view as HTML (no hydration: the browser never builds it).
    pub fn render_html(view: impl IntoView + 'static) -> String {
        Owner::new().with(|| view.into_view().to_html())
    }

    /// The error a form's server function at `path` sent back in the URL (`__path`, `__err`).
    pub fn failure(url: &Url, path: &str) -> Option<String> {
        let params = url.search_params();
        (params.get_str("__path")? == path)
            .then(|| ServerFnUrlError::<ServerFnError>::decode_err(params.get_str("__err").unwrap_or("")).to_string())
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::prelude::ServerFnError;
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos_router::location::RequestUrl;

    #[test]
    fn a_form_failure_comes_back_in_the_url_for_the_page_that_posted_it() {
        let back = ServerFnUrlError::new("/api/save_api_key", ServerFnError::new("no such key"))
            .to_url("http://localhost/settings?saved=defaults")
            .unwrap();
        let url = RequestUrl::new(&format!("{}?{}", back.path(), back.query().unwrap())).parse().unwrap();
        assert!(super::failure(&url, "/api/save_api_key").unwrap().contains("no such key"));
        assert_eq!(super::failure(&url, "/api/delete_api_key"), None);
        assert_eq!(super::failure(&RequestUrl::new("/settings").parse().unwrap(), "/api/save_api_key"), None);
    }
}
