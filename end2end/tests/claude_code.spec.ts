// Claude Code in the browser: the real CLI streams, and a second device approves or denies its tool use.
import { test, expect, Page, Browser } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

const MOCK_URL = process.env.MOCK_URL ?? "http://127.0.0.1:3901";
const WORKSPACE_ROOT = process.env.WORKSPACE_ROOT ?? "";

async function expectedText(tokens: number): Promise<string> {
  return await (await fetch(`${MOCK_URL}/mock/expected?tokens=${tokens}`)).text();
}

async function assistantText(page: Page): Promise<string> {
  return await page
    .locator('[data-testid="message"][data-role="assistant"] > p.text')
    .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? "").join(""));
}

/** Starts a Claude Code conversation in `workspace`; retries until the page has hydrated. */
async function newClaudeConversation(page: Page, workspace: string) {
  await page.goto("/");
  await expect(async () => {
    await page.getByTestId("provider").selectOption("claude_code");
    await page.getByTestId("workspace").fill(workspace);
    await page.getByTestId("new-conversation").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId("conversation-details")).toContainText(workspace);
}

async function sendPrompt(page: Page, text: string) {
  const composer = page.getByTestId("composer");
  await expect(async () => {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
}

async function secondDevice(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

test("a claude_code prompt streams token by token", async ({ page }) => {
  const expected = await expectedText(60);
  await newClaudeConversation(page, `e2e-stream-${Date.now()}`);
  await sendPrompt(page, "Stream please [[mock tokens=60 rate=30]]");
  const lengths = new Set<number>();
  await expect(async () => {
    const text = await assistantText(page);
    if (text.length > 0 && text.length < expected.length) lengths.add(text.length);
    expect(text).toBe(expected);
  }).toPass({ timeout: 60_000, intervals: [50] });
  expect(lengths.size).toBeGreaterThan(2);
  await expect(page.getByTestId("conversation-status")).toHaveText("idle");
});

for (const [decision, outcome] of [
  ["approve", "Done: "],
  ["deny", "Tool failed: "],
] as const) {
  test(`a second device can ${decision} a tool use`, async ({ page, browser }) => {
    const workspace = `e2e-${decision}-${Date.now()}`;
    const expected = await expectedText(20);
    await newClaudeConversation(page, workspace);
    await sendPrompt(page, "Write the file [[mock tool=write file=hello.txt content=hello-from-e2e tokens=20 rate=40]]");
    await expect(page.getByTestId("approval")).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId("conversation-status")).toHaveText("awaiting_approval");
    await expect(page.getByTestId("approval")).toContainText("Write");
    const phone = await secondDevice(browser, page.url());
    await expect(phone.getByTestId("approval")).toContainText("hello.txt");
    await expect(async () => {
      await phone.getByTestId(decision).click();
      await expect(phone.getByTestId("approval")).toHaveCount(0, { timeout: 1000 });
    }).toPass({ timeout: 15_000 });
    await expect(page.getByTestId("approval")).toHaveCount(0);
    await expect(async () => expect(await assistantText(page)).toContain(outcome + expected)).toPass({ timeout: 60_000 });
    await expect(page.getByTestId("conversation-status")).toHaveText("idle");
    const file = path.join(WORKSPACE_ROOT, workspace, "hello.txt");
    expect(fs.existsSync(file)).toBe(decision === "approve");
    if (decision === "approve") expect(fs.readFileSync(file, "utf8")).toBe("hello-from-e2e");
    await phone.context().close();
  });
}
