//! The frame around every page: the top bar (drawer toggle, search, notifications, help), the
//! sidebar drawer, the global keyboard shortcuts and the shared dialogs.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::{HelpDialog, Icon, PreviewDialog, SearchBox, Sidebar};
use crate::dom;

/// UI state shared by the whole page.
#[derive(Clone, Copy)]
pub struct Ui {
    pub drawer: RwSignal<bool>,
    pub help: RwSignal<bool>,
    /// The file being previewed: (workspace, path).
    pub preview: RwSignal<Option<(String, String)>>,
    /// Asks the sidebar to close whatever dialog it has open.
    pub dialogs_closed: RwSignal<u32>,
}

impl Ui {
    /// Closes the top-most open thing; answers whether anything was open.
    fn close_one(&self) -> bool {
        if self.preview.get_untracked().is_some() {
            self.preview.set(None);
        } else if self.help.get_untracked() {
            self.help.set(false);
        } else if self.drawer.get_untracked() {
            self.drawer.set(false);
        } else {
            self.dialogs_closed.update(|n| *n += 1);
            return false;
        }
        true
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let ui =
        Ui { drawer: RwSignal::new(false), help: RwSignal::new(false), preview: RwSignal::new(None), dialogs_closed: RwSignal::new(0) };
    provide_context(ui);
    let location = use_location();
    // Navigation closes the drawer.
    Effect::new(move |_| {
        location.pathname.track();
        location.search.track();
        ui.drawer.set(false);
    });
    Effect::new(move |_| {
        dom::mark_hydrated();
        dom::register_service_worker();
    });
    let _keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let key = ev.key();
        if (ev.ctrl_key() || ev.meta_key()) && key.eq_ignore_ascii_case("k") {
            ev.prevent_default();
            dom::focus("[data-testid=search-input]");
        } else if key == "Escape" {
            if !ui.close_one() {
                dom::blur_active();
            }
        } else if key == "?" && !dom::typing() && !ev.ctrl_key() && !ev.meta_key() {
            ev.prevent_default();
            ui.help.set(true);
        }
    });
    let notify = RwSignal::new(false);
    Effect::new(move |_| notify.set(dom::notifications_on()));
    view! {
        <div class="layout">
            <header class="topbar">
                <a href="#sidebar" class="drawer-toggle" data-testid="drawer-toggle" role="button" aria-label="Conversations"
                    aria-expanded=move || ui.drawer.get().to_string()
                    on:click=move |ev| { ev.prevent_default(); ui.drawer.update(|open| *open = !*open); }>"☰"</a>
                <a href="/" class="brand">"PocketDev"</a>
                <SearchBox/>
                <button type="button" class="icon" data-testid="notify-toggle" aria-pressed=move || notify.get().to_string()
                    title="Notify me when a turn ends or needs approval while this tab is hidden"
                    on:click=move |_| notify.set(dom::toggle_notifications())>
                    {move || if notify.get() { view! { <Icon name="bell"/> } } else { view! { <Icon name="bell-off"/> } }}
                </button>
                <button type="button" class="icon" aria-label="Keyboard shortcuts" on:click=move |_| ui.help.set(true)>"?"</button>
            </header>
            <div class="columns">
                <Sidebar/>
                <div class="backdrop" class:shown=move || ui.drawer.get() on:click=move |_| ui.drawer.set(false)></div>
                {children()}
            </div>
            <HelpDialog/>
            <PreviewDialog/>
        </div>
    }
}
