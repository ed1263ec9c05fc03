// The chat page in Chromium: hydration, streaming, reload mid-stream, the composer's keys.
import { test, expect } from "./fixtures";
import { assistantText, expectedText, newConversation, sendPrompt, watchErrors, watchReplyGrow } from "./support";

test("a prompt streams the mock reply token by token", async ({ page }) => {
  const errors = watchErrors(page);
  const expected = await expectedText(60);
  await newConversation(page);
  await sendPrompt(page, "Hello there [[mock tokens=60 rate=30]]");
  await expect(page.getByTestId("conversation-status")).toHaveText("running");
  // Watch the reply grow: several distinct partial lengths before it is complete.
  expect(await watchReplyGrow(page, expected)).toBeGreaterThan(2);
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
