// The chat page in Chromium: hydration, streaming, reload mid-stream, the composer's keys.
import { test, expect, Page } from "@playwright/test";

const MOCK_URL = process.env.MOCK_URL ?? "http://127.0.0.1:3901";

async function expectedText(tokens: number): Promise<string> {
  const response = await fetch(`${MOCK_URL}/mock/expected?tokens=${tokens}`);
  expect(response.ok).toBeTruthy();
  return await response.text();
}

async function assistantText(page: Page): Promise<string> {
  return await page
    .locator('[data-testid="message"][data-role="assistant"] > p.text')
    .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? "").join(""));
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
}

/** Opens the app and starts a conversation; retries the click until the page has hydrated. */
async function newConversation(page: Page) {
  await page.goto("/");
  await expect(async () => {
    await page.getByTestId("new-conversation").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId("composer")).toBeVisible();
}

/** Types a prompt and presses Enter; retries until the page has hydrated and the prompt shows. */
async function sendPrompt(page: Page, text: string) {
  const composer = page.getByTestId("composer");
  await expect(async () => {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
}

test("a prompt streams the mock reply token by token", async ({ page }) => {
  const errors = watchErrors(page);
  const expected = await expectedText(60);
  await newConversation(page);
  await sendPrompt(page, "Hello there [[mock tokens=60 rate=30]]");
  await expect(page.getByTestId("conversation-status")).toHaveText("running");
  // Watch the reply grow: several distinct partial lengths before it is complete.
  const lengths = new Set<number>();
  await expect(async () => {
    const text = await assistantText(page);
    if (text.length > 0 && text.length < expected.length) lengths.add(text.length);
    expect(text).toBe(expected);
  }).toPass({ timeout: 30_000, intervals: [50] });
  expect(lengths.size).toBeGreaterThan(2);
  await expect(page.getByTestId("conversation-status")).toHaveText("idle");
  await expect(page.getByTestId("conversation-item").first()).toBeVisible();
  expect(errors).toEqual([]);
});

test("a reload mid-stream continues the reply exactly where it was", async ({ page }) => {
  const errors = watchErrors(page);
  const expected = await expectedText(150);
  await newConversation(page);
  await sendPrompt(page, "Long one [[mock tokens=150 rate=30]]");
  await expect(async () => expect((await assistantText(page)).length).toBeGreaterThan(10)).toPass({ timeout: 15_000 });
  const before = await assistantText(page);
  expect(before.length).toBeLessThan(expected.length);
  await page.reload();
  // Server-rendered text is there before any script runs, and the live feed carries on from it.
  await expect(async () => expect(await assistantText(page)).toBe(expected)).toPass({ timeout: 30_000, intervals: [100] });
  await expect(page.locator('[data-testid="message"][data-role="assistant"]')).toHaveCount(1);
  await expect(page.getByTestId("conversation-status")).toHaveText("idle");
  await page.reload();
  expect(await assistantText(page)).toBe(expected);
  expect(errors).toEqual([]);
});

test("shift+enter inserts a newline and the stop button ends a running turn", async ({ page }) => {
  await newConversation(page);
  const composer = page.getByTestId("composer");
  await composer.click();
  await composer.pressSequentially("first line");
  await composer.press("Shift+Enter");
  await composer.pressSequentially("second line [[mock tokens=500 rate=20]]");
  await expect(composer).toHaveValue("first line\nsecond line [[mock tokens=500 rate=20]]");
  await page.getByTestId("send").click();
  await expect(page.getByTestId("conversation-status")).toHaveText("running");
  await expect(async () => expect((await assistantText(page)).length).toBeGreaterThan(0)).toPass({ timeout: 15_000 });
  await page.getByTestId("stop").click();
  await expect(page.getByTestId("conversation-status")).toHaveText("idle", { timeout: 10_000 });
  await expect(page.locator(".marker")).toHaveText("Stopped.");
});

test("the conversation is readable without JavaScript", async ({ browser, request }) => {
  const created = await request.post("/api/conversations", { data: { provider: "anthropic" } });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  const sent = await request.post(`/api/conversations/${id}/messages`, { data: { text: "Hi [[mock tokens=12]]" } });
  expect(sent.status()).toBe(202);
  await expect(async () => {
    const view = await (await request.get(`/api/conversations/${id}`)).json();
    expect(view.status).toBe("idle");
  }).toPass({ timeout: 15_000 });
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`/c/${id}`);
  expect(await assistantText(page)).toBe(await expectedText(12));
  await context.close();
});
