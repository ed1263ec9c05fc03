// Workspaces and files (docs/UI.md, "Workspaces", "Files"): a workspace is created, listed and chosen for a
// Claude Code conversation that then writes into it; a file is attached (uploaded into the workspace and named
// in the prompt); a path in a message opens a highlighted preview; a binary file is refused with a message.
// Effects are checked on the server through the files API, not only in the page.
import { test, expect, Page, APIRequestContext } from "./fixtures";
import {
  createConversation,
  createWorkspace,
  getView,
  importSession,
  openNewConversationForm,
  selectLike,
  sendFromComposer,
  unique,
  uploadFile,
  waitHydrated,
  waitSettled,
} from "./support";

/** `GET /api/workspaces/{ws}/files?path=`: status and JSON body. */
async function readFile(request: APIRequestContext, ws: string, path: string): Promise<{ status: number; body: any }> {
  const response = await request.get(`/api/workspaces/${encodeURIComponent(ws)}/files?path=${encodeURIComponent(path)}`);
  return { status: response.status(), body: await response.json().catch(() => null) };
}

/** Approves the tool use if the conversation asks (permission mode `ask`); returns once the turn is over. */
async function approveUntilSettled(page: Page, request: APIRequestContext, id: string) {
  await expect(async () => {
    const view = await getView(request, id);
    if (view.status === "awaiting_approval") {
      await page.getByTestId("approve").click({ timeout: 2000 });
    }
    expect(["idle", "failed"]).toContain((await getView(request, id)).status);
  }).toPass({ timeout: 90_000, intervals: [250, 500, 1000] });
}

test("a workspace is created and listed, chosen in the new-conversation form, and a Claude Code turn writes into it", async ({ page, request }) => {
  test.setTimeout(150_000);
  const ws = unique("ws").toLowerCase();
  await page.goto("/workspaces");
  await waitHydrated(page);
  await expect(async () => {
    await page.getByTestId("workspace-new").fill(ws);
    await page.getByTestId("workspace-create").click();
    await expect(page.getByTestId("workspace-item").filter({ hasText: ws })).toHaveCount(1, { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  const listed = await (await request.get("/api/workspaces")).json();
  expect(listed.workspaces.map((w: any) => w.name)).toContain(ws);
  // The same name twice is refused (409) and still listed once.
  expect((await request.post("/api/workspaces", { data: { name: ws } })).status()).toBe(409);
  await page.reload();
  await expect(page.getByTestId("workspace-item").filter({ hasText: ws })).toHaveCount(1);

  // The new-conversation form offers it.
  await openNewConversationForm(page);
  await expect(async () => {
    await page.getByTestId("provider").selectOption("claude_code");
    await selectLike(page.getByTestId("workspace-select"), ws);
    await page.getByTestId("new-conversation").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/, { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  const id = page.url().split("/c/")[1];
  const view = await getView(request, id);
  expect(view.provider).toBe("claude_code");
  expect(view.workspace).toBe(ws);

  // The agent's Write lands in that workspace.
  const content = `written-by-e2e-${ws}`;
  await sendFromComposer(page, `Write the file [[mock tool=write file=e2e-written.txt content=${content} tokens=3 rate=0]]`);
  await approveUntilSettled(page, request, id);
  expect((await getView(request, id)).status).toBe("idle");
  const file = await readFile(request, ws, "e2e-written.txt");
  expect(file.status).toBe(200);
  expect(file.body.text).toBe(content);
  // The tool block shows the Write and its result.
  const tool = page.locator('[data-testid="message"][data-role="assistant"] [data-testid="tool"]').filter({ hasText: "Write" });
  await expect(tool).toHaveCount(1);
  await expect(tool).not.toHaveAttribute("data-error", "true");
  await expect(page.locator('[data-testid="message"][data-role="assistant"] [data-testid="tool-result"]')).toHaveCount(1);
});

test("an attached file is uploaded into the workspace and the prompt names its path", async ({ page, request }) => {
  test.setTimeout(120_000);
  const ws = await createWorkspace(request, unique("attach").toLowerCase());
  const id = await createConversation(request, { provider: "claude_code", workspace: ws, title: unique("attach") });
  const name = `notes-${Date.now()}.txt`;
  const content = `attached content ${ws}\nsecond line\n`;
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  await expect(async () => {
    await page.getByTestId("attach").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(content) });
    // (Retried only if the page had not hydrated yet, so no upload happened; a second upload of the name is a 409.)
    await expect(page.getByTestId("attachment").filter({ hasText: name })).toBeVisible({ timeout: 6000 });
  }).toPass({ timeout: 20_000 });
  // It is on the server, under uploads/.
  await expect.poll(async () => (await readFile(request, ws, `uploads/${name}`)).status, { timeout: 15_000 }).toBe(200);
  expect((await readFile(request, ws, `uploads/${name}`)).body.text).toBe(content);

  // The prompt names the uploaded path (whatever the composer already holds is kept).
  const composer = page.getByTestId("composer");
  await composer.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.insertText(" Please summarise the attachment [[mock tokens=3 rate=0]]");
  await composer.press("Enter");
  const prompt = page.locator('[data-testid="message"][data-role="user"]');
  await expect(prompt).toHaveCount(1, { timeout: 15_000 });
  await expect(prompt).toContainText(`uploads/${name}`);
  const view = await waitSettled(request, id, 90_000);
  const text = view.messages.find((m: any) => m.role === "user").blocks.map((b: any) => b.text ?? "").join("");
  expect(text).toContain(`uploads/${name}`);
  expect(text).toContain("Please summarise the attachment");
  // Sent: the chip is gone from the composer.
  await expect(page.getByTestId("attachment")).toHaveCount(0);
});

test("a path in a message opens a preview with highlighted text, and a binary file is refused with a message", async ({ page, request }) => {
  const ws = await createWorkspace(request, unique("preview").toLowerCase());
  const source = `src/preview_${Date.now()}.rs`;
  const code = `// preview marker ${ws}\nfn preview_marker() -> u32 {\n    let answer = 42;\n    answer\n}\n`;
  await uploadFile(request, ws, source, code);
  const binary = `img/pixel_${Date.now()}.png`;
  const png = Buffer.from(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082",
    "hex",
  );
  await uploadFile(request, ws, binary, png);
  expect((await readFile(request, ws, binary)).status).toBe(415);

  const id = await importSession(
    request,
    [{ prompt: "Where is the code?", text: `The function is in \`${source}\`, and the logo is \`${binary}\`.` }],
    { workspace: ws, title: unique("preview") },
  );
  expect((await getView(request, id)).workspace).toBe(ws);
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const sourcePath = page.locator(`code[data-path="${source}"]`);
  await expect(sourcePath).toBeVisible();
  await expect(sourcePath).toHaveText(source);
  const preview = page.getByTestId("preview");
  await expect(async () => {
    await sourcePath.click();
    await expect(preview).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  await expect(preview).toContainText(source);
  await expect(preview).toContainText("fn preview_marker() -> u32 {");
  await expect(preview).toContainText("let answer = 42;");
  // Highlighted: the code is split into spans with classes.
  expect(await preview.locator("pre span[class], code span[class]").count()).toBeGreaterThan(2);
  await preview.getByTestId("preview-close").click();
  await expect(preview).toBeHidden();

  // The binary file: the preview says why instead of showing bytes.
  await page.locator(`code[data-path="${binary}"]`).click();
  await expect(preview).toBeVisible();
  await expect(preview).toContainText(/binary/i);
  await expect(preview.locator("pre span[class], code span[class]")).toHaveCount(0);
  await preview.getByTestId("preview-close").click();
  await expect(preview).toBeHidden();
});

test("a conversation without a workspace says it has no tools or attachments, and one in a workspace does not", async ({ page, request }) => {
  const plain = await createConversation(request, { provider: "anthropic", title: unique("no-ws") });
  await page.goto(`/c/${plain}`);
  await waitHydrated(page);
  await expect(page.getByTestId("no-workspace")).toHaveText("No workspace: no tools or attachments");
  await expect(page.getByTestId("attach")).toBeDisabled();
  const ws = await createWorkspace(request, unique("tools").toLowerCase());
  const agent = await createConversation(request, { provider: "anthropic", workspace: ws, title: unique("ws") });
  await page.goto(`/c/${agent}`);
  await waitHydrated(page);
  await expect(page.getByTestId("attach")).toBeEnabled();
  await expect(page.getByTestId("no-workspace")).toHaveCount(0);
});
