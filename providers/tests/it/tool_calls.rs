//! Several tool calls in one reply: every API provider yields them in order, each a complete
//! tool-use block with its name, its own id and its whole input.

use providers::BlockKind;
use serde_json::{json, Value};

use crate::support::{every_api, mock, request, run, Reply};

#[tokio::test]
async fn several_tool_calls_come_in_order_each_with_its_name_id_and_whole_input() {
    let base = mock().await;
    for (api, provider) in every_api(&base) {
        let reply = Reply::from_items(run(&provider, request(&format!("{api} [[mock tokens=3 tools=read,write,bash]]"))).await);
        assert_eq!(reply.error, None, "{api}");
        let tools: Vec<_> = reply.blocks.values().filter(|b| b.kind == Some(BlockKind::ToolUse)).collect();
        let names: Vec<&str> = tools.iter().filter_map(|b| b.name.as_deref()).collect();
        assert_eq!(names, ["Read", "Write", "Bash"], "{api}");
        let mut ids: Vec<&str> = tools.iter().filter_map(|b| b.id.as_deref()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3, "{api}: distinct ids");
        let inputs: Vec<Value> = tools.iter().map(|b| serde_json::from_str(&b.text).unwrap()).collect();
        assert_eq!(inputs[0], json!({"file_path": "README.md"}), "{api}");
        assert_eq!(inputs[1], json!({"file_path": "mock-output.txt", "content": "hello from mockllm\n"}), "{api}");
        assert_eq!(inputs[2]["command"], "echo hello-from-mock", "{api}");
        assert!(tools.iter().all(|b| b.stopped), "{api}: each block is closed");
        assert_eq!(reply.stop_reason.as_deref(), Some("tool_use"), "{api}");
        let text_index = reply.blocks.iter().find(|(_, b)| b.kind == Some(BlockKind::Text)).map(|(i, _)| *i);
        assert_eq!(text_index, Some(0), "{api}: the text comes first");
    }
}
