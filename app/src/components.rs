//! Presentational pieces of the chat page.

mod approvals;
mod composer;
mod conversation_item;
mod help;
mod icons;
mod messages;
mod new_conversation;
mod preview;
mod search;
mod sidebar;

pub use approvals::Approvals;
pub use composer::Composer;
pub use conversation_item::ConversationItem;
pub use help::HelpDialog;
pub use icons::Icon;
pub use messages::MessageList;
pub use new_conversation::NewConversation;
pub use preview::PreviewDialog;
pub use search::SearchBox;
pub use sidebar::Sidebar;

/// A token count, short: `950`, `12.3k`, `1.05M`.
pub fn format_tokens(tokens: u64) -> String {
    match tokens {
        0..=999 => tokens.to_string(),
        1_000..=999_999 => trim(format!("{:.1}", tokens as f64 / 1e3)) + "k",
        _ => trim(format!("{:.2}", tokens as f64 / 1e6)) + "M",
    }
}

/// A cost in US dollars: cents for a dollar or more, four decimals below (`$0.0031`).
pub fn format_usd(usd: f64) -> String {
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

fn trim(number: String) -> String {
    number.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_dollars_read_short() {
        assert_eq!(
            [format_tokens(950), format_tokens(12_300), format_tokens(200_000), format_tokens(1_047_576)],
            ["950", "12.3k", "200k", "1.05M"]
        );
        assert_eq!([format_usd(0.0), format_usd(0.000258), format_usd(4.5)], ["$0.0000", "$0.0003", "$4.50"]);
    }
}
