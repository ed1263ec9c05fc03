//! The rules a running attempt follows around approvals: whether the turn is still its own, and
//! what an approval left undecided until its deadline becomes.

use domain::{Conversation, ConversationCommand, Decision};

use crate::state::Backend;

/// Why an approval nobody decided in time was denied; also what the tool is told.
const TIMED_OUT: &str = "No decision in time; denied.";

/// Whether the turn still runs as `attempt_id` (not aborted, deleted, or taken over).
pub(super) fn ours(state: &Conversation, attempt_id: &str) -> bool {
    !state.deleted && state.running.as_ref().and_then(|r| r.attempt_id.as_deref()) == Some(attempt_id)
}

/// Records the denial of an approval whose time is up. A decision made meanwhile elsewhere wins:
/// the refusal is logged, and the caller reads the decision from the state.
pub(super) async fn deny_timed_out(backend: &Backend, id: &str, approval_id: &str) {
    let decide = ConversationCommand::DecideApproval {
        approval_id: approval_id.to_string(),
        decision: Decision::Deny,
        reason: Some(TIMED_OUT.into()),
    };
    if let Err(error) = backend.execute(id, decide).await {
        tracing::warn!(%error, approval = %approval_id, "recording a timed-out approval's denial failed");
    }
}
