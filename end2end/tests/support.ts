// Helpers shared by the specs: the mock's expected text, reading the reply, starting conversations, sending prompts.
import { expect, Page } from "@playwright/test";

export const MOCK_URL = process.env.MOCK_URL ?? "http://127.0.0.1:3901";

/** The exact text the mock LLM replies with for `tokens` tokens. */
export async function expectedText(tokens: number): Promise<string> {
  const response = await fetch(`${MOCK_URL}/mock/expected?tokens=${tokens}`);
  expect(response.ok).toBeTruthy();
  return await response.text();
}

/** The assistant's reply text as shown (text blocks only, not thinking). */
export async function assistantText(page: Page): Promise<string> {
  return await page
    .locator('[data-testid="message"][data-role="assistant"] > p.text')
    .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? "").join(""));
}

/** Collects uncaught page errors. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
}

/** Opens the app and starts a conversation; retries until the page has hydrated. */
export async function newConversation(page: Page, options: { provider?: string; workspace?: string } = {}) {
  await page.goto("/");
  await expect(async () => {
    if (options.provider) await page.getByTestId("provider").selectOption(options.provider);
    if (options.workspace) await page.getByTestId("workspace").fill(options.workspace);
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
