//! Small inline SVG icons (no emoji font needed), drawn with the current text colour.

use leptos::prelude::*;

#[component]
pub fn Icon(name: &'static str) -> impl IntoView {
    let path = match name {
        "archive" => "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
        "unarchive" => "M3 4h18v4H3zM5 8v12h14V8M12 18v-6M9 15l3-3 3 3",
        "trash" => "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6",
        "bell" => "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0",
        "bell-off" => "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0M3 3l18 18",
        "clip" => "M16 7l-7 7a2 2 0 0 0 3 3l7-7a4 4 0 0 0-6-6l-7 7a6 6 0 0 0 9 9l6-6",
        _ => "M12 12h0",
    };
    view! {
        <svg class="svg-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d=path/></svg>
    }
}
