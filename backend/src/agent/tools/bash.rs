//! `bash`: a command run by `bash -c` in the workspace, in its own process group, with the agents'
//! minimal environment (no server secrets), a timeout, and capped output; the whole group is killed
//! when the command ends, times out or is stopped, so nothing it started outlives the call.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::limits::{BASH_DEFAULT_TIMEOUT, BASH_MAX_TIMEOUT, BASH_STREAM_CAP_BYTES};
use super::{input, Workspace};

pub const DESCRIPTION: &str = "Run a shell command with bash in the workspace root, for example to run tests, build, \
or use git. It gets no input on stdin and a minimal environment. It is stopped after `timeout_ms` (default 120000, \
at most 600000); when it ends, anything it started in the background is stopped too. Stdout and stderr are returned, \
each cut after 15 KB, with the exit code. Prefer the read, list, glob, grep, edit and write tools for files.";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command, run as `bash -c <command>`."},
            "timeout_ms": {"type": "integer", "minimum": 1, "maximum": BASH_MAX_TIMEOUT.as_millis() as u64, "description": "Stop it after this many milliseconds."},
            "description": {"type": "string", "description": "What the command does, in a few words, for the user who approves it."}
        },
        "required": ["command"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    command: String,
    timeout_ms: Option<u64>,
    #[allow(dead_code)]
    description: Option<String>,
}

/// How long the output readers may take after the group was killed (a process that left the group
/// may still hold the pipes open).
const DRAIN: Duration = Duration::from_millis(500);

enum Ended {
    Exited(ExitStatus),
    TimedOut(Duration),
    Stopped,
}

pub async fn run(value: &Value, workspace: &Workspace, stop: &CancellationToken) -> Result<String, String> {
    let Input { command, timeout_ms, .. } = input::parse("bash", value)?;
    if command.trim().is_empty() {
        return Err("the command is empty".to_string());
    }
    if stop.is_cancelled() {
        return Err("the turn was stopped before the command ran".to_string());
    }
    let timeout = timeout_ms.map_or(BASH_DEFAULT_TIMEOUT, Duration::from_millis).min(BASH_MAX_TIMEOUT);
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&command)
        .current_dir(workspace.root().path())
        .env_clear()
        .envs(providers::minimal_environment(&workspace.home))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("cannot start bash: {error}"))?;
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    let stdout = Captured::spawn(child.stdout.take());
    let stderr = Captured::spawn(child.stderr.take());
    let ended = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => Ended::Exited(status),
            Err(error) => return Err(format!("cannot wait for the command: {error}")),
        },
        () = tokio::time::sleep(timeout) => Ended::TimedOut(timeout),
        () = stop.cancelled() => Ended::Stopped,
    };
    kill_group(group);
    let _ = child.wait().await;
    let (stdout, stderr) = (stdout.finish().await, stderr.finish().await);
    let mut text = stdout;
    if !stderr.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("[stderr]\n");
        text.push_str(&stderr);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    match ended {
        Ended::Exited(status) if status.success() => Ok(format!("{text}[exit code 0]")),
        Ended::Exited(status) => match (status.code(), status.signal()) {
            (Some(code), _) => Err(format!("{text}[exit code {code}]")),
            (None, signal) => Err(format!("{text}[killed by signal {}]", signal.unwrap_or(0))),
        },
        Ended::TimedOut(after) => {
            Err(format!("{text}[timed out after {} ms; the command and everything it started were killed]", after.as_millis()))
        }
        Ended::Stopped => Err(format!("{text}[stopped by the user; the command and everything it started were killed]")),
    }
}

/// SIGKILL to the command's whole process group (bash and whatever it started that stayed in it).
fn kill_group(group: Option<i32>) {
    if let Some(group) = group.filter(|group| *group > 1) {
        // SAFETY: killpg sends a signal to the process group this call created; it touches no memory.
        unsafe {
            libc::killpg(group, libc::SIGKILL);
        }
    }
}

/// One output stream, read into a buffer that keeps its first bytes and counts the rest.
struct Captured {
    buffer: Arc<Mutex<(Vec<u8>, usize)>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl Captured {
    fn spawn(stream: Option<impl AsyncRead + Unpin + Send + 'static>) -> Captured {
        let buffer = Arc::new(Mutex::new((Vec::new(), 0)));
        let Some(mut stream) = stream else { return Captured { buffer, reader: None } };
        let sink = Arc::clone(&buffer);
        let reader = tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(read) = stream.read(&mut chunk).await {
                if read == 0 {
                    break;
                }
                let Ok(mut buffer) = sink.lock() else { break };
                let room = BASH_STREAM_CAP_BYTES.saturating_sub(buffer.0.len()).min(read);
                buffer.0.extend_from_slice(&chunk[..room]);
                buffer.1 += read - room;
            }
        });
        Captured { buffer, reader: Some(reader) }
    }

    /// What was read, once the stream closed or [`DRAIN`] passed, as text with a note of what was cut.
    async fn finish(self) -> String {
        if let Some(reader) = self.reader {
            let abort = reader.abort_handle();
            if tokio::time::timeout(DRAIN, reader).await.is_err() {
                abort.abort();
            }
        }
        let Ok(buffer) = self.buffer.lock() else { return String::new() };
        let mut text = String::from_utf8_lossy(&buffer.0).into_owned();
        if buffer.1 > 0 {
            text.push_str(&format!("\n[{} more bytes not shown]", buffer.1));
        }
        text
    }
}
