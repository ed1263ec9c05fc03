// The Claude Code config editor at /claude/config (docs/UI.md, "Config editor"): CLAUDE.md, settings.json
// (invalid JSON is refused with an error, valid JSON is saved), hooks, and a slash command, a subagent and a
// skill, globally and per workspace; every change is read back after a reload and through the API.
// The global files are shared with the Claude Code specs, so they are restored afterwards.
import { test, expect, Page, APIRequestContext } from "./fixtures";
import { createWorkspace, selectLike, unique, waitHydrated } from "./support";

type Scope = string; // "global" or "workspace:NAME"

async function apiFile(request: APIRequestContext, scope: Scope, path: string): Promise<{ content: string; exists: boolean }> {
  const response = await request.get(`/api/claude/config/file?scope=${encodeURIComponent(scope)}&path=${encodeURIComponent(path)}`);
  expect(response.status(), await response.text()).toBe(200);
  return await response.json();
}

async function putFile(request: APIRequestContext, scope: Scope, path: string, content: string) {
  const response = await request.put(`/api/claude/config/file?scope=${encodeURIComponent(scope)}&path=${encodeURIComponent(path)}`, { data: { content } });
  expect(response.status(), await response.text()).toBeLessThan(300);
}

/** Opens the editor in `scope` (the `config-scope` select's option for it). */
async function openScope(page: Page, scope: Scope) {
  await page.goto("/claude/config");
  await waitHydrated(page);
  const select = page.getByTestId("config-scope");
  await expect(async () => {
    await selectLike(select, scope === "global" ? "global" : scope.slice("workspace:".length));
    await expect(page.getByTestId("config-file").first()).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  if (scope !== "global") await expect(select).toHaveValue(new RegExp(scope.slice("workspace:".length)));
}

/**
 * Opens a file of the list in the editor (its `data-path` ends with `path`: relative to the scope's folder)
 * and waits until the editor holds what the server has, so that typing cannot race the load.
 */
async function openFile(page: Page, request: APIRequestContext, scope: Scope, path: string) {
  const item = page.locator(`[data-testid="config-file"][data-path$="${path}"]`);
  await expect(item).toHaveCount(1);
  const stored = await apiFile(request, scope, path);
  await expect(async () => {
    await item.click();
    await expect(page.getByTestId("config-editor")).toBeVisible({ timeout: 2000 });
    // A file that does not exist yet may open empty or with a template.
    if (stored.exists) await expect(page.getByTestId("config-editor")).toHaveValue(stored.content, { timeout: 2000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("config-editor")).toBeEditable();
  if (!stored.exists) await page.waitForTimeout(500);
}

/** Replaces the editor's text and presses save (callers check the outcome). */
async function save(page: Page, content: string) {
  const editor = page.getByTestId("config-editor");
  await editor.fill(content);
  await page.getByTestId("config-save").click();
}

test("the global CLAUDE.md and settings.json are edited and saved, and invalid JSON is refused with the line", async ({ page, request }) => {
  const marker = unique("global-md");
  const originalMd = await apiFile(request, "global", "CLAUDE.md");
  const originalSettings = await apiFile(request, "global", "settings.json");
  try {
    await openScope(page, "global");
    // Both files are always listed, existing or not.
    await expect(page.locator('[data-testid="config-file"][data-path$="CLAUDE.md"]')).toHaveCount(1);
    await expect(page.locator('[data-testid="config-file"][data-path$="settings.json"]')).toHaveCount(1);

    await openFile(page, request, "global", "CLAUDE.md");
    await save(page, `# Global memory\n\nAlways answer politely. ${marker}\n`);
    await expect(page.getByTestId("config-saved")).toBeVisible();
    await expect.poll(async () => (await apiFile(request, "global", "CLAUDE.md")).content).toBe(`# Global memory\n\nAlways answer politely. ${marker}\n`);
    await page.reload();
    await openScope(page, "global");
    await openFile(page, request, "global", "CLAUDE.md");
    await expect(page.getByTestId("config-editor")).toHaveValue(`# Global memory\n\nAlways answer politely. ${marker}\n`);

    // settings.json: broken JSON is refused, names where it broke, and changes nothing on disk.
    const before = (await apiFile(request, "global", "settings.json")).content;
    await openFile(page, request, "global", "settings.json");
    await save(page, '{\n  "model": "claude-sonnet-4-5",\n  "env": { "E2E": "1" ,\n}\n');
    await expect(page.getByTestId("config-error")).toBeVisible();
    await expect(page.getByTestId("config-error")).toContainText(/line \d+/i);
    expect((await apiFile(request, "global", "settings.json")).content).toBe(before);
    // The API refuses it the same way (400, naming line and column).
    const refused = await request.put(`/api/claude/config/file?scope=global&path=settings.json`, { data: { content: "{ nope" } });
    expect(refused.status()).toBe(400);
    expect((await refused.json()).error).toMatch(/line \d+.*column \d+/i);

    // Valid JSON saves.
    const settings = { env: { E2E_MARKER: marker }, permissions: { allow: ["Read"] } };
    await save(page, JSON.stringify(settings, null, 2));
    await expect(page.getByTestId("config-saved")).toBeVisible();
    await expect(page.getByTestId("config-error")).toBeHidden();
    await expect.poll(async () => JSON.parse((await apiFile(request, "global", "settings.json")).content)).toEqual(settings);
    await page.reload();
    await openScope(page, "global");
    await openFile(page, request, "global", "settings.json");
    expect(JSON.parse(await page.getByTestId("config-editor").inputValue())).toEqual(settings);
  } finally {
    await putFile(request, "global", "CLAUDE.md", originalMd.exists ? originalMd.content : "");
    await putFile(request, "global", "settings.json", originalSettings.exists ? originalSettings.content : "{}");
  }
});

test("a workspace's CLAUDE.md and hooks are saved in that workspace only", async ({ page, request }) => {
  const ws = await createWorkspace(request, unique("cfg").toLowerCase());
  const scope = `workspace:${ws}`;
  const marker = unique("ws-md");
  const globalMd = (await apiFile(request, "global", "CLAUDE.md")).content;
  await openScope(page, scope);
  await openFile(page, request, scope, "CLAUDE.md");
  await save(page, `Project notes ${marker}\n`);
  await expect(page.getByTestId("config-saved")).toBeVisible();
  await expect.poll(async () => (await apiFile(request, scope, "CLAUDE.md")).content).toBe(`Project notes ${marker}\n`);
  expect((await apiFile(request, "global", "CLAUDE.md")).content, "the global file is untouched").toBe(globalMd);
  // The folder the API names for the scope is inside that workspace.
  const listing = await (await request.get(`/api/claude/config?scope=${encodeURIComponent(scope)}`)).json();
  expect(listing.scope).toBe(scope);
  expect(listing.dir).toContain(ws);
  expect(listing.files.find((f: any) => f.kind === "claude_md").exists).toBe(true);

  // Hooks live in the scope's settings.json: saved through the editor, read back through the hooks API.
  const hooks = { PostToolUse: [{ matcher: "Write", hooks: [{ type: "command", command: `echo hook-${marker}` }] }] };
  await openFile(page, request, scope, "settings.json");
  await save(page, JSON.stringify({ model: "claude-sonnet-4-5", hooks }, null, 2));
  await expect(page.getByTestId("config-saved")).toBeVisible();
  await expect.poll(async () => (await (await request.get(`/api/claude/config/hooks?scope=${encodeURIComponent(scope)}`)).json()).hooks).toEqual(hooks);
  // Replacing the hooks through the API keeps the other keys, and the editor shows both after a reload.
  const newHooks = { Stop: [{ hooks: [{ type: "command", command: `echo stop-${marker}` }] }] };
  const put = await request.put(`/api/claude/config/hooks?scope=${encodeURIComponent(scope)}`, { data: { hooks: newHooks } });
  expect(put.status(), await put.text()).toBeLessThan(300);
  await page.reload();
  await openScope(page, scope);
  await openFile(page, request, scope, "settings.json");
  expect(JSON.parse(await page.getByTestId("config-editor").inputValue())).toEqual({ model: "claude-sonnet-4-5", hooks: newHooks });
  await openFile(page, request, scope, "CLAUDE.md");
  await expect(page.getByTestId("config-editor")).toHaveValue(`Project notes ${marker}\n`);
});

for (const [kind, path, content] of [
  ["command", (n: string) => `commands/${n}.md`, (n: string) => `---\ndescription: Run the e2e check ${n}\n---\nRun the tests and report. ${n}\n`],
  ["agent", (n: string) => `agents/${n}.md`, (n: string) => `---\nname: ${n}\ndescription: Reviews diffs (${n})\ntools: Read, Grep\n---\nYou review code. ${n}\n`],
  ["skill", (n: string) => `skills/${n}/SKILL.md`, (n: string) => `---\nname: ${n}\ndescription: Formats release notes (${n})\n---\n# Release notes\n${n}\n`],
] as const) {
  test(`${kind === "agent" ? "an" : "a"} ${kind} is created in a workspace's config, saved, and still there after a reload`, async ({ page, request }) => {
    const ws = await createWorkspace(request, unique(`cfg-${kind}`).toLowerCase());
    const scope = `workspace:${ws}`;
    const name = `e2e-${kind}-${Date.now().toString(36)}`;
    await openScope(page, scope);
    await page.getByTestId("config-new-kind").selectOption(kind);
    await page.getByTestId("config-new-name").fill(name);
    await page.getByTestId("config-create").click();
    const item = page.locator(`[data-testid="config-file"][data-path$="${path(name)}"]`);
    await expect(item).toHaveCount(1);
    // A new file may open with a template: whatever loads first, our text is what gets saved.
    await item.click();
    const editor = page.getByTestId("config-editor");
    await expect(editor).toBeEditable();
    await expect(async () => {
      await editor.fill(content(name));
      await page.waitForTimeout(300);
      await expect(editor).toHaveValue(content(name), { timeout: 100 });
    }).toPass({ timeout: 10_000 });
    await page.getByTestId("config-save").click();
    await expect(page.getByTestId("config-saved")).toBeVisible();
    await expect.poll(async () => (await apiFile(request, scope, path(name))).content).toBe(content(name));
    const listing = await (await request.get(`/api/claude/config?scope=${encodeURIComponent(scope)}`)).json();
    expect(listing.files.find((f: any) => f.path.endsWith(path(name)))).toMatchObject({ kind, exists: true });

    await page.reload();
    await openScope(page, scope);
    await openFile(page, request, scope, path(name));
    await expect(page.getByTestId("config-editor")).toHaveValue(content(name));
    // Other scopes do not list it.
    await openScope(page, "global");
    await expect(page.locator(`[data-testid="config-file"][data-path$="${path(name)}"]`)).toHaveCount(0);
    // A name that leaves its folder is refused by the API: 403 and why, not any error (a 500 is not a refusal).
    const bad = await request.put(`/api/claude/config/file?scope=${encodeURIComponent(scope)}&path=${encodeURIComponent(`commands/../../${name}.md`)}`, {
      data: { content: "x" },
    });
    expect(bad.status(), await bad.text()).toBe(403);
    expect(await bad.json()).toEqual({ error: expect.stringMatching(/(may not leave|outside) the configuration folder/) });
  });
}
