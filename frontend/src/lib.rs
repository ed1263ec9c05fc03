//! The WASM entry point: hydrates the server-rendered page.

// The app's view types are deep; builds without `erase_components` (plain `cargo build`) need more room.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
