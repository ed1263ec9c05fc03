//! Runs one CLI turn: spawns `claude` in its own process group, writes the prompt and control
//! responses to stdin, reads events from stdout, keeps the tail of stderr, and kills the whole
//! group on abort so no `claude` process outlives its turn.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::parse::{Line, LineParser};
use super::{arguments, locate, ClaudeCodeConfig, ClaudeCodeRequest, GRACE};
use crate::{ProviderError, ProviderEvent, ProviderStream};

/// Always set for the CLI: no telemetry, update checks, error reports or other traffic
/// besides the model API. `ClaudeCodeConfig::env` comes after and may override them.
const QUIET: [(&str, &str); 4] = [
    ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
    ("DISABLE_AUTOUPDATER", "1"),
    ("DISABLE_TELEMETRY", "1"),
    ("DISABLE_ERROR_REPORTING", "1"),
];

/// How much of stderr is kept for error messages.
const STDERR_TAIL: usize = 4096;

enum StdinMessage {
    Line(String),
    Close,
}

/// A running turn: its events, and a handle to steer the process.
pub struct ClaudeCodeRun {
    pub events: ProviderStream,
    pub control: ClaudeControl,
}

/// Steers a running CLI process.
#[derive(Clone)]
pub struct ClaudeControl {
    stdin: mpsc::UnboundedSender<StdinMessage>,
    group: Option<i32>,
}

impl ClaudeControl {
    /// Lets a pending tool use go ahead.
    pub fn allow(&self, request_id: &str, input: Value) {
        self.respond(request_id, json!({"behavior": "allow", "updatedInput": input}));
    }

    /// Refuses a pending tool use; `message` tells the model why.
    pub fn deny(&self, request_id: &str, message: &str) {
        self.respond(request_id, json!({"behavior": "deny", "message": message}));
    }

    fn respond(&self, request_id: &str, response: Value) {
        let line = json!({
            "type": "control_response",
            "response": {"subtype": "success", "request_id": request_id, "response": response}
        });
        let _ = self.stdin.send(StdinMessage::Line(line.to_string()));
    }

    /// Interrupts through the control protocol, then SIGTERM, then SIGKILL for the whole group.
    pub async fn abort(&self) {
        let interrupt = json!({"type": "control_request", "request_id": "pocketdev-interrupt", "request": {"subtype": "interrupt"}});
        let _ = self.stdin.send(StdinMessage::Line(interrupt.to_string()));
        tokio::time::sleep(GRACE).await;
        self.signal(libc::SIGTERM);
        tokio::time::sleep(GRACE).await;
        self.signal(libc::SIGKILL);
    }

    fn signal(&self, signal: i32) {
        if let Some(group) = self.group {
            // SAFETY: killpg only sends a signal to a process group we created; it touches no memory.
            unsafe {
                libc::killpg(group, signal);
            }
        }
    }
}

/// Starts the CLI for one turn.
#[tracing::instrument(name = "claude_code.start", skip_all, fields(cwd = %request.cwd.display(), resume = ?request.resume))]
pub fn start(config: &ClaudeCodeConfig, request: &ClaudeCodeRequest) -> Result<ClaudeCodeRun, ProviderError> {
    let bin = locate(&config.bin).map_err(ProviderError::Unavailable)?;
    let mut command = Command::new(&bin);
    command
        .args(arguments(request))
        .current_dir(&request.cwd)
        .env_clear()
        .envs(crate::minimal_environment(&config.home))
        .envs(QUIET.iter().copied())
        .envs(config.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(budget) = request.thinking_budget {
        command.env("MAX_THINKING_TOKENS", budget.to_string());
    }
    let mut child = command.spawn().map_err(|e| ProviderError::Unavailable(format!("cannot start `{}`: {e}", bin.display())))?;
    let group = child.id().map(|pid| pid as i32);
    let (stdin_sender, stdin_receiver) = mpsc::unbounded_channel();
    let prompt = json!({"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": request.prompt}]}});
    let _ = stdin_sender.send(StdinMessage::Line(prompt.to_string()));
    spawn_stdin(&mut child, stdin_receiver);
    let stderr_tail = spawn_stderr(&mut child);
    let (events_sender, events_receiver) = mpsc::unbounded_channel();
    let control = ClaudeControl { stdin: stdin_sender.clone(), group };
    tokio::spawn(read_stdout(child, stdin_sender, events_sender, stderr_tail));
    Ok(ClaudeCodeRun { events: Box::pin(tokio_stream::wrappers::UnboundedReceiverStream::new(events_receiver)), control })
}

fn spawn_stdin(child: &mut Child, mut lines: mpsc::UnboundedReceiver<StdinMessage>) {
    let Some(mut stdin) = child.stdin.take() else { return };
    tokio::spawn(async move {
        while let Some(StdinMessage::Line(line)) = lines.recv().await {
            if stdin.write_all(format!("{line}\n").as_bytes()).await.is_err() || stdin.flush().await.is_err() {
                break;
            }
        }
        // Dropping stdin closes it: the CLI ends once the turn is done.
    });
}

/// The tail of stderr, and the task filling it (done when stderr closes).
struct StderrTail {
    tail: Arc<Mutex<VecDeque<u8>>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

fn spawn_stderr(child: &mut Child) -> StderrTail {
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
    let mut reader = None;
    if let Some(stderr) = child.stderr.take() {
        let tail = tail.clone();
        reader = Some(tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "claude_code", stderr = %line);
                let mut tail = tail.lock().expect("stderr tail lock");
                tail.extend(line.bytes().chain(std::iter::once(b'\n')));
                while tail.len() > STDERR_TAIL {
                    tail.pop_front();
                }
            }
        }));
    }
    StderrTail { tail, reader }
}

async fn read_stdout(
    mut child: Child,
    stdin: mpsc::UnboundedSender<StdinMessage>,
    events: mpsc::UnboundedSender<Result<ProviderEvent, ProviderError>>,
    stderr_tail: StderrTail,
) {
    let Some(stdout) = child.stdout.take() else { return };
    let mut lines = BufReader::new(stdout).lines();
    let mut parser = LineParser::default();
    let mut finished: Option<Result<ProviderEvent, String>> = None;
    let mut malformed = 0usize;
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        match parser.parse(&line) {
            Line::Events(parsed) => {
                for event in parsed {
                    let _ = events.send(Ok(event));
                }
            }
            Line::Malformed(text) => {
                malformed += 1;
                let _ = events.send(Ok(ProviderEvent::Raw(json!({"malformed_line": text}))));
            }
            Line::Result(outcome) => {
                finished = Some(outcome);
                let _ = stdin.send(StdinMessage::Close);
                break;
            }
        }
    }
    let status = match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            let _ = child.start_kill();
            None
        }
    };
    let code = status.and_then(|s| s.code());
    // The process is gone; let the stderr reader drain the pipe before the tail is read.
    if let Some(reader) = stderr_tail.reader {
        let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    }
    let tail = {
        let tail = stderr_tail.tail.lock().expect("stderr tail lock");
        String::from_utf8_lossy(&tail.iter().copied().collect::<Vec<_>>()).trim().to_string()
    };
    let failure = |what: String| {
        let mut message = what;
        if malformed > 0 {
            message.push_str(&format!(" ({malformed} unreadable output lines)"));
        }
        if !tail.is_empty() {
            message.push_str(&format!("\n{tail}"));
        }
        ProviderError::Process { code, message }
    };
    let outcome = match finished {
        Some(Ok(event)) if code.unwrap_or(0) == 0 => Ok(event),
        Some(Ok(_)) => Err(failure(format!("claude exited with status {}", code.map_or("unknown".into(), |c| c.to_string())))),
        Some(Err(reported)) => Err(failure(reported)),
        None => Err(failure(match code {
            Some(code) => format!("claude exited with status {code} without a result"),
            None => "claude was stopped without a result".to_string(),
        })),
    };
    let _ = events.send(outcome);
}
