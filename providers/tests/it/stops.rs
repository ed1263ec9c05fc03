//! A reply cut at the request's output limit: every API provider reports the `max_tokens` stop,
//! distinct from a finished reply.

use mockllm::reply_text;
use providers::BlockKind;

use crate::support::{every_api, mock, request, run, Reply};

#[tokio::test]
async fn a_reply_cut_at_max_tokens_stops_for_max_tokens_with_the_text_so_far() {
    let base = mock().await;
    for (api, provider) in every_api(&base) {
        let mut req = request(&format!("{api} [[mock tokens=40]]"));
        req.max_tokens = 6;
        let reply = Reply::from_items(run(&provider, req).await);
        assert_eq!(reply.error, None, "{api}");
        assert_eq!(reply.stop_reason.as_deref(), Some("max_tokens"), "{api}");
        assert_eq!(reply.text_of(BlockKind::Text), reply_text(6), "{api}");
        assert_eq!(reply.usage.map(|u| u.output_tokens), Some(6), "{api}");
        assert!(reply.blocks.values().all(|b| b.stopped), "{api}");
    }
}

#[tokio::test]
async fn a_reply_within_max_tokens_stops_for_end_turn() {
    let base = mock().await;
    for (api, provider) in every_api(&base) {
        let mut req = request(&format!("{api} [[mock tokens=6]]"));
        req.max_tokens = 6;
        let reply = Reply::from_items(run(&provider, req).await);
        assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"), "{api}");
    }
}
