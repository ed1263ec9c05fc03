// The settings page through the whole gateway (nginx + in-app Basic Auth, CSRF checks, CSP with a nonce):
// an API key is set, replaced, deleted and set again; its value never comes back to the browser.
import { createHash } from "node:crypto";
import { test, expect, Page } from "./fixtures";
import { createWorkspace } from "./support";

// `./test e2e` passes a fresh realistic-looking key and searches logs and the database for it afterwards.
const UI_KEY = process.env.PD_E2E_UI_KEY ?? `sk-ant-api03-${"e2e".repeat(20)}-ZZZZ`;

/** Response bodies the page received (not the live feed, which never ends). */
function recordResponses(page: Page): string[] {
  const bodies: string[] = [];
  page.on("response", async (response) => {
    if ((response.headers()["content-type"] ?? "").includes("event-stream")) return;
    try {
      bodies.push(`${response.url()}\n${await response.text()}`);
    } catch {
      // redirects and aborted loads have no body
    }
  });
  return bodies;
}

function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
  page.on("pageerror", (error) => violations.push(String(error)));
  return violations;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The SHA-256 of the last key the mock's Anthropic API was sent. */
async function lastAnthropicKey(page: Page): Promise<string | null> {
  const answer = await page.request.get(`${process.env.MOCK_URL}/mock/last-key?api=anthropic`);
  expect(answer.status()).toBe(200);
  return (await answer.json()).sha256;
}

/** Starts an Anthropic conversation, sends one prompt from its page, and answers the status it ends in. */
async function promptWith(page: Page, what: string): Promise<string> {
  const created = await page.request.post("/api/conversations", { data: { provider: "anthropic" } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id;
  await page.goto(`/c/${id}`);
  const composer = page.getByTestId("composer");
  await expect(async () => {
    await composer.fill(`Hello with ${what} [[mock tokens=8]]`);
    await composer.press("Enter");
    await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  const status = page.getByTestId("conversation-status");
  await expect(status).toHaveText(/^(idle|failed)$/, { timeout: 30_000 });
  return (await status.textContent()) ?? "";
}

async function saveKey(page: Page, value: string, expected: RegExp) {
  const row = page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"]');
  // Works before hydration too (a plain form POST), so no retry is needed for the click itself.
  await row.getByTestId("api-key-input").fill(value);
  await row.getByTestId("api-key-save").click();
  await expect(page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"] [data-testid="api-key-status"]')).toHaveText(expected, {
    timeout: 15_000,
  });
}

test("API keys are set, replaced and deleted on the settings page, and only their last 4 characters show", async ({ page }) => {
  const bodies = recordResponses(page);
  const violations = watchCsp(page);
  await page.goto("/settings");
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  const status = page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"] [data-testid="api-key-status"]');
  await expect(status).toHaveText(/from the environment/);
  await expect(page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"] [data-testid="api-key-input"]')).toHaveAttribute("type", "password");

  await saveKey(page, UI_KEY, new RegExp(`ends in …${UI_KEY.slice(-4)} \\(from this page\\)`));
  await saveKey(page, `${UI_KEY}9876`, /ends in …9876 \(from this page\)/);
  await page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"]').getByTestId("api-key-delete").click();
  await expect(status).toHaveText(/from the environment/, { timeout: 15_000 });
  await saveKey(page, UI_KEY, new RegExp(`ends in …${UI_KEY.slice(-4)} \\(from this page\\)`));

  // The key saved here is the one the provider uses, over the environment's (the mock accepts only the
  // run's keys and tells which one it was sent, by its SHA-256).
  expect(await promptWith(page, "the settings key")).toBe("idle");
  expect(await lastAnthropicKey(page)).toBe(sha256(UI_KEY));

  // Reload the settings page: still only the hint.
  await page.goto("/settings");
  await expect(status).toHaveText(new RegExp(`…${UI_KEY.slice(-4)}`));
  const html = await page.content();
  expect(html).not.toContain(UI_KEY);
  for (const body of bodies) {
    expect(body, "no response carries the key").not.toContain(UI_KEY.slice(0, 24));
    expect(body).not.toContain(UI_KEY.slice(-24));
  }
  expect(violations, "no CSP violations or page errors").toEqual([]);
});

test("a wrong key saved on the settings page fails the turn visibly, and deleting it brings the environment's key back", async ({ page }) => {
  const row = page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"]');
  await page.goto("/settings");
  const wrong = `sk-ant-api03-${"x".repeat(40)}-Wrong`;
  await saveKey(page, wrong, /ends in …rong \(from this page\)/);
  expect(await promptWith(page, "a wrong key")).toBe("failed");
  expect(await lastAnthropicKey(page)).toBe(sha256(wrong));
  await expect(page.getByText(/invalid x-api-key|401/).first()).toBeVisible();
  // Deleted: the environment's key applies again.
  await page.goto("/settings");
  await row.getByTestId("api-key-delete").click();
  await expect(row.getByTestId("api-key-status")).toHaveText(/from the environment/, { timeout: 15_000 });
  expect(await promptWith(page, "the environment's key")).toBe("idle");
  const envKey = process.env.PD_E2E_ENV_KEY_SHA256;
  if (envKey) expect(await lastAnthropicKey(page)).toBe(envKey);
  // And the settings key again, as the secret scan after the run expects it stored.
  await page.goto("/settings");
  await saveKey(page, UI_KEY, new RegExp(`ends in …${UI_KEY.slice(-4)} \\(from this page\\)`));
  expect(await promptWith(page, "the settings key again")).toBe("idle");
  expect(await lastAnthropicKey(page)).toBe(sha256(UI_KEY));
});

test("a cross-origin request to change a key is refused", async ({ page, request }) => {
  const forged = await request.put("/api/settings/keys/ANTHROPIC_API_KEY", {
    headers: { Origin: "https://evil.example" },
    data: { value: "sk-ant-api03-forged-by-another-site" },
  });
  expect(forged.status()).toBe(403);
  expect((await forged.json()).error).toContain("cross-origin");
  await page.goto("/settings");
  await expect(page.locator('[data-testid="api-key"][data-name="ANTHROPIC_API_KEY"] [data-testid="api-key-status"]')).not.toHaveText(/…site/);
});

test("instructions for every workspace and for one workspace are saved apart and survive a reload", async ({ page }) => {
  const workspace = await createWorkspace(page.request, `instr-${Date.now()}`);
  await page.goto("/settings");
  const text = page.getByTestId("instructions-text");
  await text.fill("Answer in French.");
  await page.getByTestId("instructions-save").click();
  await expect(page.getByTestId("instructions-saved")).toBeVisible();
  await expect(text).toHaveValue("Answer in French.");

  await page.getByTestId("instructions-scope").selectOption(workspace);
  await page.getByTestId("instructions-show").click();
  await expect(text).toHaveValue("");
  await text.fill("Run the tests with make test.");
  await page.getByTestId("instructions-save").click();
  await expect(page.getByTestId("instructions-saved")).toBeVisible();
  await expect(page.getByTestId("instructions-scope")).toHaveValue(workspace);

  await page.goto("/settings");
  await expect(text).toHaveValue("Answer in French.");
  const stored = await page.request.get(`/api/workspaces/${workspace}/instructions`);
  expect(await stored.json()).toEqual({ text: "Run the tests with make test." });

  // Too long: refused with the reason, and the stored text is kept.
  await text.fill("x".repeat(32_768));
  await text.evaluate((el: HTMLTextAreaElement) => { el.removeAttribute("maxlength"); el.value += "yy"; });
  await page.getByTestId("instructions-save").click();
  await expect(page.getByTestId("instructions-error")).toContainText("at most 32768");
  expect(await (await page.request.get("/api/settings/instructions")).json()).toEqual({ text: "Answer in French." });
  await page.request.put("/api/settings/instructions", { data: { text: "" } });
});
