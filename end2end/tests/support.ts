// Helpers shared by the specs: the mock's expected text, reading the reply, starting conversations, sending prompts.
import { expect, Page } from "@playwright/test";

export const MOCK_URL = process.env.MOCK_URL ?? "http://127.0.0.1:3901";

/**
 * The text the mock LLM replies with for `tokens` tokens, with its whitespace as the page shows it
 * (see `shownText`): every token is a word, so a lost or repeated token still changes the text.
 */
export async function expectedText(tokens: number): Promise<string> {
  const response = await fetch(`${MOCK_URL}/mock/expected?tokens=${tokens}`);
  expect(response.ok).toBeTruthy();
  return shownText(await response.text());
}

/** Text as the page shows it: a finished reply is rendered Markdown, whose line breaks and spaces differ. */
export function shownText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The assistant's reply text as shown (text blocks only, not thinking or tools), see `shownText`. */
export async function assistantText(page: Page): Promise<string> {
  // A streaming text block is plain text (`p.text`); a finished one is the server's rendered Markdown.
  const parts = await page
    .locator('[data-testid="message"][data-role="assistant"] :is(p.text, [data-testid="markdown"])')
    .evaluateAll((nodes) => nodes.filter((n) => !n.closest("details")).map((n) => n.textContent ?? ""));
  return shownText(parts.join(" "));
}

/** Collects uncaught page errors. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
}

/** Opens the app and starts a conversation; retries until the page has hydrated. */
export async function newConversation(page: Page, options: { provider?: string; workspace?: string } = {}) {
  if (options.workspace) {
    // Workspaces are chosen from a list: create it first (409 when it already exists).
    const created = await page.request.post("/api/workspaces", { data: { name: options.workspace } });
    expect([201, 409]).toContain(created.status());
  }
  await page.goto("/");
  await expect(async () => {
    if (options.provider) await page.getByTestId("provider").selectOption(options.provider);
    if (options.workspace) await page.getByTestId("workspace-select").selectOption(options.workspace, { timeout: 1000 });
    await page.getByTestId("new-conversation").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId("composer")).toBeVisible();
}

/** Types a prompt and presses Enter; retries until the page has hydrated and the prompt shows. */
export async function sendPrompt(page: Page, text: string) {
  const composer = page.getByTestId("composer");
  await expect(async () => {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
}

/** Waits until the reply reads exactly `expected`, and returns how many distinct partial lengths were seen on the way. */
export async function watchReplyGrow(page: Page, expected: string, timeout = 30_000): Promise<number> {
  const lengths = new Set<number>();
  await expect(async () => {
    const text = await assistantText(page);
    if (text.length > 0 && text.length < expected.length) lengths.add(text.length);
    expect(text).toBe(expected);
  }).toPass({ timeout, intervals: [50] });
  return lengths.size;
}

// ---------------------------------------------------------------------------------------------------
// Helpers of the chat UI's specs (tests/ux_*.spec.ts): the API (docs/UI.md), seeding conversations,
// and the two viewports (`desktop`, `phone`). Everything below is additive; the helpers above are unchanged.

import { APIRequestContext, Browser, BrowserContext, Locator, test } from "@playwright/test";
import * as nodeFs from "node:fs";
import * as nodePath from "node:path";

/** A name no earlier test (or the other viewport's run of this test) has used. */
export function unique(prefix: string): string {
  const project = test.info().project.name;
  return `${prefix}-${project}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** True when the running project is the 390×844 phone. */
export function isPhone(): boolean {
  return test.info().project.name === "phone";
}

/** A second device: a new browser context with the project's options (viewport, credentials, base URL). */
export async function newDevice(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}): Promise<BrowserContext> {
  const use = test.info().project.use;
  return await browser.newContext({
    baseURL: use.baseURL,
    httpCredentials: use.httpCredentials,
    viewport: use.viewport ?? undefined,
    isMobile: use.isMobile,
    hasTouch: use.hasTouch,
    userAgent: use.userAgent,
    ...options,
  });
}

/** `POST /api/conversations`; returns the new id. */
export async function createConversation(request: APIRequestContext, body: Record<string, unknown> = {}): Promise<string> {
  const created = await request.post("/api/conversations", { data: { provider: "anthropic", ...body } });
  expect(created.status(), await created.text()).toBe(201);
  return (await created.json()).id;
}

/** `GET /api/conversations/{id}` (optionally `?at=` / `?turns=`). */
export async function getView(request: APIRequestContext, id: string, query = ""): Promise<any> {
  const response = await request.get(`/api/conversations/${id}${query}`);
  expect(response.status(), await response.text()).toBe(200);
  return await response.json();
}

/** Waits until the conversation is no longer running (nor waiting for an approval); returns its view. */
export async function waitSettled(request: APIRequestContext, id: string, timeout = 30_000): Promise<any> {
  let view: any;
  await expect
    .poll(
      async () => {
        view = await getView(request, id);
        return view.status;
      },
      { timeout, intervals: [100, 200, 250] },
    )
    .not.toMatch(/^(running|awaiting_approval)$/);
  return view;
}

/** Sends a prompt through the API and waits until its turn is over; returns the view. */
export async function sendAndWait(request: APIRequestContext, id: string, text: string, timeout = 30_000): Promise<any> {
  const sent = await request.post(`/api/conversations/${id}/messages`, { data: { text } });
  expect(sent.status(), await sent.text()).toBe(202);
  const { turn } = await sent.json();
  // The turn is over when its reply has a stop reason (end_turn, error or aborted).
  await expect
    .poll(async () => (await getView(request, id)).messages.some((m: any) => m.role === "assistant" && m.turn === turn && !!m.stop_reason), {
      timeout,
      intervals: [100, 200, 250],
    })
    .toBe(true);
  return await waitSettled(request, id, timeout);
}

/** `POST /api/workspaces`; returns the name. */
export async function createWorkspace(request: APIRequestContext, name: string): Promise<string> {
  const created = await request.post("/api/workspaces", { data: { name } });
  expect(created.status(), await created.text()).toBe(201);
  return name;
}

/** The workspace root the server uses (`GET /api/workspaces`). */
export async function workspaceRoot(request: APIRequestContext): Promise<string> {
  const listed = await request.get("/api/workspaces");
  expect(listed.status()).toBe(200);
  return (await listed.json()).root;
}

/** Uploads `body` as `path` into workspace `ws` through the API. */
export async function uploadFile(request: APIRequestContext, ws: string, path: string, body: string | Buffer) {
  const uploaded = await request.post(`/api/workspaces/${encodeURIComponent(ws)}/files?path=${encodeURIComponent(path)}`, {
    data: typeof body === "string" ? Buffer.from(body, "utf8") : body,
    headers: { "Content-Type": "application/octet-stream" },
  });
  expect(uploaded.status(), await uploaded.text()).toBe(201);
}

/**
 * The server's Claude Code home (`$CLAUDE_HOME`, which holds `.claude/projects/<project>/<session>.jsonl`):
 * `CLAUDE_HOME` if the runner passes it, else the parent of the global config folder the API names, else
 * `./test e2e`'s layout (`.data/e2e-claude-home` beside `.data/e2e-workspace`).
 */
export async function claudeHome(request: APIRequestContext): Promise<string> {
  if (process.env.CLAUDE_HOME) return process.env.CLAUDE_HOME;
  const config = await request.get("/api/claude/config?scope=global");
  if (config.ok()) {
    const dir: string = (await config.json()).dir ?? "";
    if (nodePath.basename(dir) === ".claude") return nodePath.dirname(dir);
  }
  return nodePath.join(nodePath.dirname(process.env.WORKSPACE_ROOT ?? ""), "e2e-claude-home");
}

/** One turn of a generated Claude Code session: the prompt, then assistant and tool-result lines. */
export type SessionTurn = {
  prompt: string;
  thinking?: string;
  text?: string;
  tools?: { name: string; input: unknown; result: string; isError?: boolean }[];
  /** Text after the tool results. */
  after?: string;
};

/** The lines of a CLI session file for `turns`; `cwd` (a workspace folder) makes it that workspace's. */
export function sessionLines(turns: SessionTurn[], options: { cwd?: string; title?: string; sessionId: string }): string[] {
  const lines: unknown[] = [];
  let n = 0;
  const base = { sessionId: options.sessionId, cwd: options.cwd ?? "/tmp/e2e-elsewhere", version: "2.0.0" };
  for (const turn of turns) {
    lines.push({ ...base, type: "user", uuid: `u${n++}`, message: { role: "user", content: turn.prompt } });
    if (turn.thinking) lines.push({ ...base, type: "assistant", uuid: `a${n++}`, message: { role: "assistant", model: "claude-sonnet-4-5", content: [{ type: "thinking", thinking: turn.thinking }] } });
    if (turn.text) lines.push({ ...base, type: "assistant", uuid: `a${n++}`, message: { role: "assistant", model: "claude-sonnet-4-5", content: [{ type: "text", text: turn.text }] } });
    for (const [i, tool] of (turn.tools ?? []).entries()) {
      const id = `toolu_${n}_${i}`;
      lines.push({ ...base, type: "assistant", uuid: `a${n++}`, message: { role: "assistant", content: [{ type: "tool_use", id, name: tool.name, input: tool.input }] } });
      lines.push({
        ...base,
        type: "user",
        uuid: `r${n++}`,
        message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: tool.result, is_error: !!tool.isError }] },
      });
    }
    if (turn.after) lines.push({ ...base, type: "assistant", uuid: `a${n++}`, message: { role: "assistant", content: [{ type: "text", text: turn.after }] } });
  }
  if (options.title) lines.push({ type: "ai-title", title: options.title });
  return lines.map((line) => JSON.stringify(line));
}

/**
 * Imports a generated Claude Code session (`POST /api/claude/sessions/import`): the fast way to a
 * conversation with exact assistant text (markdown, code, thinking, tools) or with many turns.
 * Returns the conversation id. `workspace` (an existing one) makes the session run there.
 */
export async function importSession(
  request: APIRequestContext,
  turns: SessionTurn[],
  options: { title?: string; workspace?: string } = {},
): Promise<string> {
  const home = await claudeHome(request);
  const project = "-e2e-ux-import";
  const sessionId = `e2e-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const cwd = options.workspace ? nodePath.join(await workspaceRoot(request), options.workspace) : undefined;
  const dir = nodePath.join(home, ".claude", "projects", project);
  nodeFs.mkdirSync(dir, { recursive: true });
  nodeFs.writeFileSync(nodePath.join(dir, `${sessionId}.jsonl`), sessionLines(turns, { cwd, title: options.title, sessionId }).join("\n") + "\n");
  const imported = await request.post("/api/claude/sessions/import", { data: { project, session_id: sessionId } });
  expect(imported.status(), await imported.text()).toBe(201);
  const body = await imported.json();
  expect(body.turns).toBe(turns.length);
  return body.conversation.id;
}

/** Opens the drawer on the phone (no-op on the desktop, where the sidebar is always shown). */
export async function openSidebar(page: Page) {
  const toggle = page.getByTestId("drawer-toggle");
  const sidebar = page.getByTestId("sidebar");
  await waitHydrated(page);
  if (!(await toggle.isVisible())) {
    await expect(sidebar).toBeVisible();
    return;
  }
  await expect(async () => {
    if ((await sidebar.getAttribute("data-open")) !== "true") await toggle.click();
    await expect(sidebar).toHaveAttribute("data-open", "true", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(sidebar).toBeInViewport();
}

/** A conversation's row in the sidebar (the item carries `data-id`). */
export function sidebarItem(page: Page, id: string): Locator {
  return page.locator(`[data-testid="conversation-item"][data-id="${id}"]`);
}

/** The row around a sidebar item: its closest `<li>` (or the item itself), where its buttons live. */
export function sidebarRow(page: Page, id: string): Locator {
  return sidebarItem(page, id).locator("xpath=ancestor-or-self::li[1]");
}

/** Waits until the page has hydrated: a click on the drawer toggle / a key press is handled by the app. */
export async function waitHydrated(page: Page) {
  // Leptos hydration replaces the server-rendered nodes' handlers; the wasm is fetched and instantiated.
  await page.waitForLoadState("load");
  await expect
    .poll(
      async () =>
        await page.evaluate(() =>
          performance.getEntriesByType("resource").some((r) => r.name.endsWith(".wasm") && (r as PerformanceResourceTiming).responseEnd > 0),
        ),
      { timeout: 20_000 },
    )
    .toBe(true);
  // Instantiating the module and hydrating take a moment after the download; callers still retry their first action.
  await page.waitForTimeout(200);
}

/** Selects the `<option>` of `select` whose value is `wanted`, ends with `:wanted`, or whose label contains it. */
export async function selectLike(select: Locator, wanted: string) {
  await expect
    .poll(
      async () =>
        await select.locator("option").evaluateAll(
          (options, w) => (options as HTMLOptionElement[]).find((o) => o.value === w || o.value.endsWith(`:${w}`) || (o.textContent ?? "").includes(w))?.value ?? null,
          wanted,
        ),
      { message: `an option like ${wanted}` },
    )
    .not.toBeNull();
  const value = await select.locator("option").evaluateAll(
    (options, w) => (options as HTMLOptionElement[]).find((o) => o.value === w || o.value.endsWith(`:${w}`) || (o.textContent ?? "").includes(w))!.value,
    wanted,
  );
  await select.selectOption(value);
}

/** Opens `/` and brings the new-conversation form into view (the drawer on the phone, if it lives there). */
export async function openNewConversationForm(page: Page) {
  await page.goto("/");
  await waitHydrated(page);
  // On the phone the form may sit in the closed drawer: off-screen but "visible" to Playwright, so open it.
  if (await page.getByTestId("drawer-toggle").isVisible()) await openSidebar(page);
  await expect(page.getByTestId("new-conversation")).toBeVisible();
}

/** Types into the composer and presses Enter until the `turn`-th user message shows (the page may still hydrate). */
export async function sendFromComposer(page: Page, text: string, turn = 1) {
  const composer = page.getByTestId("composer");
  await expect(async () => {
    if ((await page.locator('[data-testid="message"][data-role="user"]').count()) < turn) {
      await composer.fill(text);
      await composer.press("Enter");
    }
    await expect(page.locator(`[data-testid="message"][data-role="user"][data-turn="${turn}"]`)).toHaveCount(1, { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
}
