//! The keyboard-shortcuts help dialog (`?`).

use leptos::prelude::*;

use crate::layout::Ui;

#[component]
pub fn HelpDialog() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <Show when=move || ui.help.get()>
            <div class="overlay" on:click=move |_| ui.help.set(false)>
                <div class="dialog" data-testid="help-dialog" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts"
                    on:click=|ev| ev.stop_propagation()>
                    <h2>"Keyboard shortcuts"</h2>
                    <dl class="shortcuts">
                        <dt><kbd>"Enter"</kbd></dt><dd>"Send the message"</dd>
                        <dt><kbd>"Shift"</kbd>"+"<kbd>"Enter"</kbd></dt><dd>"New line"</dd>
                        <dt><kbd>"Ctrl"</kbd>"/"<kbd>"⌘"</kbd>"+"<kbd>"K"</kbd></dt><dd>"Search"</dd>
                        <dt><kbd>"Esc"</kbd></dt><dd>"Close a dialog or the drawer; leave the composer"</dd>
                        <dt><kbd>"?"</kbd></dt><dd>"This help"</dd>
                    </dl>
                    <button type="button" class="secondary" on:click=move |_| ui.help.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}
