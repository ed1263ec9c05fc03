// Claude Code in the browser: the real CLI streams, and a second device approves or denies its tool use.
import { test, expect, Page, Browser } from "./fixtures";
import { assistantText, expectedText, newConversation, sendPrompt, watchReplyGrow } from "./support";
import * as fs from "node:fs";
import * as path from "node:path";

const WORKSPACE_ROOT = process.env.WORKSPACE_ROOT ?? "";

/** Starts a Claude Code conversation in `workspace`. */
async function newClaudeConversation(page: Page, workspace: string) {
  await newConversation(page, { provider: "claude_code", workspace });
  await expect(page.getByTestId("conversation-details")).toContainText(workspace);
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
  expect(await watchReplyGrow(page, expected, 60_000)).toBeGreaterThan(2);
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
