//! The PocketDev UI: server-rendered pages (chat, timeline, workspaces, Claude Code, settings),
//! hydrated by WASM. The timeline, workspaces, Claude Code and settings pages are rendered by the
//! server only (`server_page.rs`): their code is not in the WASM.
//!
//! Invariant: this is the only crate that knows Leptos. Browser-only code lives in `live.rs`
//! and `actions.rs`; server-only code lives inside `#[server]` bodies and `#[cfg(feature = "ssr")]`
//! page renderers.

// The chat page's view type is deep; builds without `erase_components` (plain `cargo build`) need more room.
#![recursion_limit = "256"]

mod actions;
pub mod api;
mod claude_page;
mod components;
mod config_page;
mod defaults;
mod dom;
mod instructions;
mod layout;
mod live;
mod page;
mod server_error;
pub mod server_page;
pub mod settings;
mod timeline;
mod workspaces;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover, interactive-widget=resizes-content"/>
                <meta name="theme-color" content="#111827"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="stylesheet" href="/highlight.css"/>
                <link rel="icon" href="/icon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icon-192.png"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/pocket-dev.css"/>
        <Title text="PocketDev"/>
        <Router>
            <layout::Layout>
                <Routes fallback=|| view! { <main class="chat"><p class="empty">"Page not found."</p></main> }>
                    // Async: the whole page, data included, is in the first response, so it reads without scripts.
                    <Route path=path!("/") view=page::ChatPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:id") view=page::ChatPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:id/timeline") view=timeline::TimelinePage ssr=SsrMode::Async/>
                    <Route path=path!("/claude") view=claude_page::ClaudePage/>
                    <Route path=path!("/claude/config") view=config_page::ConfigPage/>
                    <Route path=path!("/settings") view=settings::SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/workspaces") view=workspaces::WorkspacesPage ssr=SsrMode::Async/>
                </Routes>
            </layout::Layout>
        </Router>
    }
}
