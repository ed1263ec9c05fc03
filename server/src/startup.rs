//! Process startup: builds the router (API, SSE, Leptos SSR, static files) and binds the listener.

use std::net::SocketAddr;
use std::sync::Arc;

use app::server_page::Rendered;
use app::{shell, App};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use backend::Backend;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

pub use crate::app_state::AppState;

/// Leptos options from the environment that `./run`, the image and the tests set.
pub fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "pocket-dev"))
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr)
        .reload_port(env("LEPTOS_RELOAD_PORT", "3001").parse::<u32>().unwrap_or(3001))
        .build()
}

/// The whole HTTP surface behind the default (open, loopback-only) security gateway: no auth and
/// no whitelist, CSRF checks and security headers on. `serve` uses `secured_router`.
pub fn router(backend: Arc<Backend>, leptos_options: LeptosOptions) -> Router {
    secured_router(backend, leptos_options, crate::security::Security::new(Default::default()))
}

/// The whole HTTP surface, every route behind the security gateway (`security.rs`).
pub fn secured_router(backend: Arc<Backend>, leptos_options: LeptosOptions, security: Arc<crate::security::Security>) -> Router {
    let state = AppState { backend: backend.clone(), leptos_options: leptos_options.clone() };
    let routes = generate_route_list(App);
    let context_backend = backend.clone();
    // The app's pages; only they look for a page the server renders whole (not the API, feeds or files).
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_backend.clone());
                use_gateway_nonce();
                use_server_page();
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .layer(axum::middleware::from_fn_with_state(backend.clone(), server_pages));
    Router::new()
        .merge(crate::routes::api())
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || {
                // The "not found" page has the same frame (the sidebar loads conversations).
                provide_context(backend.clone());
                use_gateway_nonce();
            },
            shell,
        ))
        .layer(axum::middleware::from_fn_with_state(security, crate::security::guard))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Renders Leptos' inline scripts with the nonce the gateway put in this response's CSP.
fn use_gateway_nonce() {
    let nonce = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::security::CspNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// Renders the pages the server renders whole (`app::server_page`) before the app renders: their
/// HTML rides in the request's extensions to `use_server_page`.
async fn server_pages(State(backend): State<Arc<Backend>>, mut request: Request, next: Next) -> Response {
    if request.method() == Method::GET {
        let target = request.uri().path_and_query().map_or_else(|| request.uri().path().to_string(), |pq| pq.as_str().to_string());
        if let Some(html) = app::server_page::render(&backend, &target).await {
            request.extensions_mut().insert(Rendered(html));
        }
    }
    next.run(request).await
}

/// Hands the page `server_pages` rendered to the app.
fn use_server_page() {
    let rendered =
        leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Rendered>().cloned());
    if let Some(rendered) = rendered {
        provide_context(rendered);
    }
}

/// Serves until ctrl-c or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    serve_until(listener, router, shutdown_signal()).await
}

/// Serves until `shutdown` resolves, then stops accepting and waits for open requests to end.
/// (Live feeds end when the backend drains, which `pocket-dev serve` does in `shutdown`.)
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY, a small SSE frame written right after another waits for the client's
    // delayed ACK (~40 ms): the first token of every reply would pay it.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
