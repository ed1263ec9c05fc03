//! One human line per event, for the audit timeline (`AuditEntry::summary`).

use domain::{BlockKind, ConversationEvent, Decision};

/// E.g. "Prompt: first 80 characters…", "Text +12 chars", "Tool Write requested", "Turn 3 completed (end_turn)".
pub fn summarize(event: &ConversationEvent) -> String {
    use ConversationEvent as E;
    match event {
        E::ConversationStarted { provider, model, .. } => format!("Conversation started with {provider} ({model})"),
        E::ConversationConfigured(settings) => match settings.thinking_budget {
            Some(budget) => format!("Configured: up to {} tokens, thinking {budget}", settings.max_tokens),
            None => format!("Configured: up to {} tokens", settings.max_tokens),
        },
        E::ConversationRetitled { title } => format!("Renamed to \u{201c}{}\u{201d}", clip(title, 80)),
        E::PromptSubmitted { turn, text, .. } => format!("Prompt (turn {turn}): {}", clip(text, 80)),
        E::AttemptStarted { turn, attempt, resume_blocks: Some(kept @ 1..), .. } => {
            format!("Turn {turn}: attempt {attempt} started, continuing after {kept} recorded blocks")
        }
        E::AttemptStarted { turn, attempt, .. } => format!("Turn {turn}: attempt {attempt} started"),
        E::BlockStarted { kind, name, .. } => match kind {
            BlockKind::Text => "Text block started".into(),
            BlockKind::Thinking => "Thinking started".into(),
            BlockKind::ToolUse => format!("Tool {} requested", name.as_deref().unwrap_or("?")),
            BlockKind::ToolResult => "Tool result".into(),
        },
        E::TextAppended { text, .. } => format!("Text +{} chars", text.chars().count()),
        E::BlockFinished { is_error: Some(true), .. } => "Block finished with an error".into(),
        E::BlockFinished { .. } => "Block finished".into(),
        E::UsageRecorded { input_tokens, output_tokens, cost_usd, .. } => {
            format!("Usage: {input_tokens} in, {output_tokens} out, ${cost_usd:.4}")
        }
        E::TurnCompleted { turn, stop_reason } => format!("Turn {turn} completed ({stop_reason})"),
        E::CliSessionStarted { session_id, .. } => format!("Claude Code session {}", clip(session_id, 40)),
        E::CliMessageRecorded { raw, .. } => {
            format!("Claude Code message: {}", raw.get("type").and_then(|t| t.as_str()).unwrap_or("other"))
        }
        E::SystemPromptUsed { turn, sha256, text } => {
            format!("Turn {turn}: system prompt {} ({} characters)", clip(sha256, 12), text.chars().count())
        }
        E::ApprovalRequested { tool, .. } => format!("Approval requested for {tool}"),
        E::ApprovalDecided { tool, decision, .. } => {
            let decided = match decision {
                Decision::Allow => "allowed",
                Decision::Deny => "denied",
                Decision::Always => "always allowed",
            };
            format!("{tool} {decided}")
        }
        E::TurnFailed { turn, reason } => format!("Turn {turn} failed: {}", clip(reason, 80)),
        E::TurnAborted { turn } => format!("Turn {turn} interrupted"),
        E::ConversationArchived => "Archived".into(),
        E::ConversationUnarchived => "Unarchived".into(),
        E::ConversationDeleted => "Deleted".into(),
    }
}

/// The first `max` characters of `text` on one line, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        format!("{}…", line.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_clipped_to_80_characters() {
        let event = ConversationEvent::PromptSubmitted { turn: 1, text: "x".repeat(100), job_id: "j".into() };
        assert_eq!(summarize(&event), format!("Prompt (turn 1): {}…", "x".repeat(80)));
        let done = ConversationEvent::TurnCompleted { turn: 3, stop_reason: "end_turn".into() };
        assert_eq!(summarize(&done), "Turn 3 completed (end_turn)");
    }
}
