//! Small browser helpers (clipboard, focus, scrolling, notifications, the service worker), with
//! server-side no-op twins so components compile without cfgs.

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;

    fn document() -> Option<web_sys::Document> {
        web_sys::window()?.document()
    }

    const NOTIFY_KEY: &str = "pocket-dev.notify";

    /// Writes `text` to the clipboard (fire and forget).
    pub fn copy_text(text: &str) {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(text);
        }
    }

    /// Registers `/sw.js`, the offline app shell.
    pub fn register_service_worker() {
        if let Some(window) = web_sys::window() {
            let navigator = window.navigator();
            if js_has(&navigator, "serviceWorker") {
                let _ = navigator.service_worker().register("/sw.js");
            }
        }
    }

    fn js_has(target: &wasm_bindgen::JsValue, key: &str) -> bool {
        let value = js_get(target, key);
        !value.is_undefined() && !value.is_null()
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
        fn reflect_get(target: &wasm_bindgen::JsValue, key: &wasm_bindgen::JsValue)
            -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
    }

    fn js_get(target: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
        reflect_get(target, &wasm_bindgen::JsValue::from_str(key)).unwrap_or(wasm_bindgen::JsValue::UNDEFINED)
    }

    /// Focuses (and selects) the first element matching `selector`.
    pub fn focus(selector: &str) {
        if let Some(element) = document().and_then(|d| d.query_selector(selector).ok().flatten()) {
            if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            } else if let Some(element) = element.dyn_ref::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        }
    }

    thread_local! {
        static HYDRATED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Called once the app has hydrated: from then on pages are built by the app, not adopted.
    pub fn mark_hydrated() {
        HYDRATED.with(|h| h.set(true));
    }

    /// After hydration (a client-side navigation), loads the current URL from the server: for the
    /// pages only the server renders (`server_page.rs`).
    pub fn reload_if_hydrated() {
        if HYDRATED.with(|h| h.get()) {
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
        }
    }

    /// While hydrating, the value of the form control (textarea, select or input) matching
    /// `selector`: what the user typed or chose on the server-rendered page before the app took it
    /// over (hydration would otherwise reset it). Empty afterwards, so nothing follows the user to
    /// another page.
    pub fn typed_text(selector: &str) -> String {
        if HYDRATED.with(|h| h.get()) {
            return String::new();
        }
        let Some(element) = document().and_then(|d| d.query_selector(selector).ok().flatten()) else { return String::new() };
        if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            area.value()
        } else if let Some(select) = element.dyn_ref::<web_sys::HtmlSelectElement>() {
            select.value()
        } else if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
            input.value()
        } else {
            String::new()
        }
    }

    /// Blurs whatever has the focus.
    pub fn blur_active() {
        if let Some(element) = document().and_then(|d| d.active_element()) {
            if let Some(element) = element.dyn_ref::<web_sys::HtmlElement>() {
                let _ = element.blur();
            }
        }
    }

    /// True while the focus is in a text field (shortcuts like `?` stay out of the way).
    pub fn typing() -> bool {
        document().and_then(|d| d.active_element()).is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || element.has_attribute("contenteditable")
        })
    }

    /// Scrolls the element with this id into view (centered).
    pub fn scroll_to_id(id: &str) -> bool {
        match document().and_then(|d| d.get_element_by_id(id)) {
            Some(element) => {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                element.scroll_into_view_with_scroll_into_view_options(&options);
                true
            }
            None => false,
        }
    }

    /// The `data-path` of the `code[data-path]` the event happened in, if any.
    pub fn clicked_path(event: &web_sys::Event) -> Option<String> {
        let target = event.target()?.dyn_into::<web_sys::Element>().ok()?;
        target.closest("code[data-path]").ok().flatten()?.get_attribute("data-path")
    }

    /// Gives the server-rendered file paths (`code[data-path]`) their test hook.
    pub fn tag_file_paths() {
        let Some(found) = document().and_then(|d| d.query_selector_all(".markdown code[data-path]").ok()) else { return };
        for i in 0..found.length() {
            if let Some(element) = found.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                let _ = element.set_attribute("data-testid", "file-path");
                let _ = element.set_attribute("role", "button");
                let _ = element.set_attribute("tabindex", "0");
            }
        }
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    fn notifications_supported() -> bool {
        web_sys::window().is_some_and(|w| js_has(&w, "Notification"))
    }

    /// Whether the user turned notifications on here (and the browser allows them).
    pub fn notifications_on() -> bool {
        notifications_supported()
            && web_sys::Notification::permission() == web_sys::NotificationPermission::Granted
            && storage().and_then(|s| s.get_item(NOTIFY_KEY).ok().flatten()).as_deref() == Some("on")
    }

    /// Turns notifications on (asking for permission) or off; answers the new setting.
    pub fn toggle_notifications() -> bool {
        if !notifications_supported() {
            return false;
        }
        let on = !notifications_on();
        if let Some(storage) = storage() {
            let _ = storage.set_item(NOTIFY_KEY, if on { "on" } else { "off" });
        }
        if on && web_sys::Notification::permission() != web_sys::NotificationPermission::Granted {
            let _ = web_sys::Notification::request_permission();
        }
        on
    }

    /// Shows a notification when the tab is hidden and the user turned them on.
    pub fn notify(title: &str) {
        let hidden = document().is_some_and(|d| d.hidden());
        if hidden && notifications_on() {
            let _ = web_sys::Notification::new(title);
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(not(feature = "hydrate"))]
mod server_side {
    pub fn copy_text(_text: &str) {}
    pub fn register_service_worker() {}
    pub fn focus(_selector: &str) {}
    pub fn blur_active() {}
    pub fn typed_text(_selector: &str) -> String {
        String::new()
    }
    pub fn mark_hydrated() {}
    #[allow(dead_code)]
    pub fn reload_if_hydrated() {}
    pub fn typing() -> bool {
        false
    }
    pub fn tag_file_paths() {}
    pub fn scroll_to_id(_id: &str) -> bool {
        false
    }
    pub fn notifications_on() -> bool {
        false
    }
    pub fn toggle_notifications() -> bool {
        false
    }
    #[allow(dead_code)]
    pub fn notify(_title: &str) {}
}

#[cfg(not(feature = "hydrate"))]
pub use server_side::*;
