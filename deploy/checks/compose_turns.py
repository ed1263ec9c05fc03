#!/usr/bin/env python3
"""deploy/checks/compose_turns.py — TEST FIXTURE: the turns the Compose test (compose_test.sh) sends through
the proxy, and what it checks of them. Standard library only; it talks to the proxy on 127.0.0.1 and, for the
mock's expected replies and `docker kill`, to the private engine through $DOCKER (scripts/docker.sh env).

Usage: compose_turns.py BASE USER:PASS COMMAND [ARG]
  stream            one prompt streams token by token and its text is exactly the mock's reply
  concurrent N W    N turns at once, in N conversations: each completes with exactly the mock's reply,
                    and the W worker containers all ran some
  kill-mid-turn     a long turn's worker container is killed (docker kill) mid-reply: the turn completes
                    through another worker, with exactly the mock's reply to a retried request, nothing spliced
  seed FILE         three conversations with a completed turn each, and an API key stored encrypted; their
                    views and the key's listing go to FILE
  check FILE        every conversation of FILE is there, its messages exactly as FILE has them, and the
                    stored key still reads (its last four characters)
  agent-writes      the app makes a workspace, the Claude Code CLI (bypass mode) writes a file in it, and the
                    file reads back through the API
"""
import base64
import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

BASE, CREDENTIALS, COMMAND = sys.argv[1], sys.argv[2], sys.argv[3]
ARGS = sys.argv[4:]
AUTH = {"Authorization": "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()}
DOCKER = os.environ.get("DOCKER", "docker")
MOCK = "pocket-dev-mock-llm"  # the container_name of the mock service in compose.test.yml


def say(message):
    print(f"[compose-test]      {message}", flush=True)


def call(method, path, body=None, timeout=30):
    headers = {**AUTH, "Content-Type": "application/json", "Origin": BASE}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, method=method, headers=headers, data=data)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def expected(tokens, attempt=1):
    """The mock's reply of `tokens` tokens to the `attempt`-th sending of one request (its /mock/expected)."""
    url = f"http://127.0.0.1:3900/mock/expected?tokens={tokens}&attempt={attempt}"
    return subprocess.run([DOCKER, "exec", MOCK, "curl", "-fsS", url], check=True, capture_output=True, text=True).stdout


def start_turn(prompt):
    conversation = call("POST", "/api/conversations", {"provider": "anthropic"})["id"]
    call("POST", f"/api/conversations/{conversation}/messages", {"text": prompt})
    return conversation


def reply(view):
    """The text of the conversation's last message (the assistant's reply)."""
    return "".join(block.get("text") or "" for block in view["messages"][-1]["blocks"] if block["type"] == "text")


def wait_idle(conversation, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        view = call("GET", f"/api/conversations/{conversation}")
        answered = view["messages"] and view["messages"][-1]["role"] == "assistant"
        if view["status"] == "failed" or (view["status"] != "running" and answered):
            return view
        time.sleep(0.25)
    sys.exit(f"conversation {conversation} is still {view['status']} after {seconds} s")


def attempts(conversation):
    """The workers that began the conversation's turns, in order (its AttemptStarted events)."""
    log = call("GET", f"/api/conversations/{conversation}/log")
    events = [entry["data"] for entry in log if entry["type"] == "AttemptStarted"]
    return [event.get("AttemptStarted", event)["worker"] for event in events]


def container_of(worker):
    """A worker's consumer name starts with its HOSTNAME, the container's short id."""
    return worker.split("-", 1)[0]


def stream():
    conversation = call("POST", "/api/conversations", {"provider": "anthropic"})["id"]
    feed = urllib.request.urlopen(urllib.request.Request(f"{BASE}/api/conversations/{conversation}/events", headers=AUTH), timeout=60)
    prompt = f"compose test {time.time_ns()}"
    threading.Timer(0.5, lambda: call("POST", f"/api/conversations/{conversation}/messages", {"text": prompt})).start()
    frames, text, event = [], "", None
    for raw in feed:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "TextAppended":
            frames.append(time.monotonic())
            text += json.loads(line[6:])["event"]["TextAppended"]["text"]
        elif line.startswith("data: ") and event in ("TurnCompleted", "TurnFailed"):
            if event == "TurnFailed":
                sys.exit(f"the turn failed: {line[6:500]}")
            break
    mock = expected(40)
    if len(frames) < 10:
        sys.exit(f"only {len(frames)} text frames: not streamed token by token")
    if frames[-1] - frames[0] < 0.1:
        sys.exit("every frame arrived at once: buffered, not streamed")
    if text != mock:
        sys.exit(f"the streamed text is not the mock's reply: {text[:80]!r} vs {mock[:80]!r}")
    if reply(call("GET", f"/api/conversations/{conversation}")) != mock:
        sys.exit("the stored reply is not the mock's")
    say(f"{len(frames)} text frames over {frames[-1] - frames[0]:.2f} s, {len(text)} characters, exactly the mock's reply")


def concurrent_turns(count, workers):
    # 300 tokens at the mock's 100 a second: three seconds each, so the ten overlap, more than the eight
    # slots two workers have (PD_WORKER_CONCURRENCY 4), and every worker must take some.
    tokens = 300
    mock = expected(tokens)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        conversations = list(pool.map(lambda i: start_turn(f"[[mock tokens={tokens}]] turn {i} {time.time_ns()}"), range(count)))
        views = list(pool.map(lambda c: wait_idle(c, 120), conversations))
    elapsed = time.monotonic() - started
    for conversation, view in zip(conversations, views):
        if view["status"] != "idle" or reply(view) != mock:
            sys.exit(f"{conversation} ended {view['status']} with {reply(view)[:80]!r}, not the mock's reply")
    used = {container_of(worker) for conversation in conversations for worker in attempts(conversation)}
    if len(used) != workers:
        sys.exit(f"the turns ran on {len(used)} worker containers ({sorted(used)}), not on all {workers}")
    say(f"{count} concurrent turns of {tokens} tokens completed in {elapsed:.1f} s on {len(used)} workers, each exactly the mock's reply")


def kill_mid_turn():
    tokens = 1000  # ten seconds at 100 a second
    conversation = start_turn(f"[[mock tokens={tokens}]] killed mid-turn {time.time_ns()}")
    deadline = time.monotonic() + 30
    while not reply(call("GET", f"/api/conversations/{conversation}")):
        if time.monotonic() > deadline:
            sys.exit("the long turn never started streaming")
        time.sleep(0.2)
    first = attempts(conversation)[-1]
    subprocess.run([DOCKER, "kill", container_of(first)], check=True, capture_output=True)
    killed_at = time.monotonic()
    say(f"killed worker container {container_of(first)} mid-reply")
    view = wait_idle(conversation, 120)
    workers = attempts(conversation)
    if view["status"] != "idle":
        sys.exit(f"the turn ended {view['status']} after its worker was killed")
    if len(workers) < 2 or container_of(workers[-1]) == container_of(first):
        sys.exit(f"the turn was not taken over by another worker: {workers}")
    text = reply(view)
    if text != expected(tokens, len(workers)):
        sys.exit(f"the reply is not the mock's reply to attempt {len(workers)} (spliced or lost): {text[:80]!r}")
    say(f"completed {time.monotonic() - killed_at:.1f} s after the kill by {container_of(workers[-1])}, attempt {len(workers)}, exactly the mock's reply")


def seed(path):
    conversations = [start_turn(f"kept across restarts {i} {time.time_ns()}") for i in range(3)]
    views = {c: wait_idle(c, 60)["messages"] for c in conversations}
    key = f"sk-test-kept-{time.time_ns()}"
    call("PUT", "/api/settings/keys/OPENAI_API_KEY", {"value": key})
    with open(path, "w") as out:
        json.dump({"conversations": views, "keys": call("GET", "/api/settings/keys")}, out)
    say(f"{len(views)} conversations and a stored key written to {path}")


def check(path):
    with open(path) as kept_file:
        kept = json.load(kept_file)
    for conversation, messages in kept["conversations"].items():
        now = call("GET", f"/api/conversations/{conversation}")["messages"]
        if now != messages:
            sys.exit(f"conversation {conversation} changed: {json.dumps(now)[:200]} vs {json.dumps(messages)[:200]}")
    keys = call("GET", "/api/settings/keys")
    if keys != kept["keys"]:
        sys.exit(f"the stored keys changed: {keys} vs {kept['keys']}")
    say(f"all {len(kept['conversations'])} conversations are there, message for message, and the stored key reads")


def agent_writes():
    workspace = f"compose-{time.time_ns()}"
    call("POST", "/api/workspaces", {"name": workspace})
    body = {"provider": "claude_code", "workspace": workspace, "permission_mode": "bypass"}
    conversation = call("POST", "/api/conversations", body)["id"]
    content = f"written-by-the-agent-{time.time_ns()}"
    prompt = f"[[mock tool=write file=from-the-agent.txt content={content}]] write the file"
    call("POST", f"/api/conversations/{conversation}/messages", {"text": prompt})
    view = wait_idle(conversation, 120)
    if view["status"] != "idle":
        sys.exit(f"the Claude Code turn ended {view['status']}: {json.dumps(view['messages'][-1])[:300]}")
    written = call("GET", f"/api/workspaces/{workspace}/files?path=from-the-agent.txt")
    if written.get("text", "").strip() != content:
        sys.exit(f"the agent's file reads {written!r}, not {content!r}")
    say(f"the Claude Code CLI wrote {workspace}/from-the-agent.txt, and it reads back")


COMMANDS = {
    "stream": stream,
    "concurrent": lambda: concurrent_turns(int(ARGS[0]), int(ARGS[1])),
    "kill-mid-turn": kill_mid_turn,
    "seed": lambda: seed(ARGS[0]),
    "check": lambda: check(ARGS[0]),
    "agent-writes": agent_writes,
}

if __name__ == "__main__":
    if COMMAND not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[COMMAND]()
