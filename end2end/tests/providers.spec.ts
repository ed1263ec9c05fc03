// The OpenAI providers in the browser, against the mock LLM: the new-conversation form's provider and
// settings, the context-window meter (ok → warn at 75 % → danger at 90 %), per-turn usage and the cost.
// `./test e2e` runs the app with PD_MODELS_FILE = the built-in catalogue plus `e2e-tiny-context`, an
// OpenAI model with a 200-token window priced $10 / $30 per million input / output tokens.
import { test, expect, Page } from "./fixtures";
import { assistantText, expectedText, watchErrors } from "./support";

/** Fills the new-conversation form (provider, then `fill`) and submits it; retries until the page has hydrated. */
async function startConversation(page: Page, provider: string, fill: (page: Page) => Promise<void>) {
  await page.goto("/");
  await expect(async () => {
    await page.getByTestId("provider").selectOption(provider);
    await fill(page);
    await page.getByTestId("new-conversation").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId("composer")).toBeVisible();
}

/** Sends a prompt and waits until its turn is over; retries until the page has hydrated. */
async function sendTurn(page: Page, text: string, turn: number) {
  const composer = page.getByTestId("composer");
  await expect(async () => {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(turn, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.locator(`[data-testid="message"][data-role="assistant"][data-turn="${turn}"] [data-testid="turn-usage"]`)).toBeVisible({
    timeout: 30_000,
  });
  await expect(page.getByTestId("conversation-status")).toHaveText("idle");
}

/** `words` filler words and a mock directive: the mock counts each whitespace-separated word as a token. */
function prompt(words: number, directive: string): string {
  return `${"word ".repeat(words)}[[mock ${directive}]]`;
}

test("the context meter warns at 75 % and turns to danger at 90 %, and the cost adds up", async ({ page }) => {
  const errors = watchErrors(page);
  await startConversation(page, "openai", async (p) => {
    await p.getByTestId("model").fill("e2e-tiny-context");
  });
  await expect(page.getByTestId("conversation-details")).toHaveText("openai · e2e-tiny-context");
  const meter = page.getByTestId("context-meter");
  await expect(meter).toHaveAttribute("data-level", "ok");
  await expect(meter).toHaveAttribute("data-percent", "0.0");
  await expect(page.getByTestId("conversation-cost")).toHaveText("$0.0000");

  // Every turn's input starts with the system prompt (the mock counts words as tokens): turn 1, a
  // 40-word prompt and a 10-token reply, tells its size, and the later prompts are sized from it.
  const usd = (input: number, output: number) => (input * 10 + output * 30) / 1e6;
  // The shown total rounds a sum of per-turn costs to 4 places: it is within half a unit of the exact sum.
  const expectTotal = async (input: number, output: number) =>
    await expect
      .poll(async () => Math.abs(Number((await page.getByTestId("conversation-cost").textContent())!.slice(1)) - usd(input, output)))
      .toBeLessThanOrEqual(0.00005 + 1e-9);
  await sendTurn(page, prompt(38, "tokens=10"), 1);
  const usage = page.locator('[data-turn="1"] [data-testid="turn-usage"]');
  await expect(usage).toHaveText(/^\d+ in · 10 out · \$/);
  const system = Number((await usage.textContent())!.split(" ")[0]) - 40;
  expect(system, "the system prompt counts, and leaves room for the turns below").toBeGreaterThan(20);
  expect(system).toBeLessThan(95);
  const used1 = system + 50;
  await expect(meter).toHaveAttribute("data-level", "ok");
  await expect(meter).toHaveAttribute("data-percent", (used1 / 2).toFixed(1));
  await expect(meter).toContainText(`${used1} / 200`);
  await expect(usage).toHaveText(new RegExp(`^${system + 40} in · 10 out · \\$`));
  await expectTotal(system + 40, 10);

  // Turn 2: the system prompt, the history (50) and a prompt in, 10 out: 160 of 200, 80 %.
  const words2 = 100 - system;
  await sendTurn(page, prompt(words2 - 2, "tokens=10"), 2);
  await expect(meter).toHaveAttribute("data-level", "warn");
  await expect(meter).toHaveAttribute("data-percent", "80.0");
  const input2 = system + 50 + words2;
  await expectTotal(system + 40 + input2, 20);

  // Turn 3: 160 + 12 words in, 12 out: 184 of 200, 92 %.
  await sendTurn(page, prompt(10, "tokens=12"), 3);
  await expect(meter).toHaveAttribute("data-level", "danger");
  await expect(meter).toHaveAttribute("data-percent", "92.0");
  await expectTotal(system + 40 + input2 + 172, 32);
  const total = (await page.getByTestId("conversation-cost").textContent())!;

  // The server-rendered page shows the same, before any script runs.
  await page.reload();
  await expect(page.getByTestId("context-meter")).toHaveAttribute("data-level", "danger");
  await expect(page.getByTestId("conversation-cost")).toHaveText(total);
  expect(errors).toEqual([]);
});

test("an OpenAI-compatible conversation streams the model's reasoning and its reply", async ({ page }) => {
  const errors = watchErrors(page);
  await startConversation(page, "openai_compatible", async (p) => {
    await p.getByTestId("reasoning-effort").selectOption("low");
  });
  await expect(page.getByTestId("conversation-details")).toHaveText("openai_compatible · local-e2e");
  await sendTurn(page, "Think first [[mock tokens=8 thinking=4]]", 1);
  const reply = page.locator('[data-testid="message"][data-role="assistant"]');
  expect(await assistantText(page)).toBe(await expectedText(8));
  await expect(reply.locator("details.thinking")).toHaveCount(1);
  await expect(reply.locator('[data-testid="turn-usage"]')).toHaveText(/ in · 12 out · \$0\.0000$/);
  // The window comes from OPENAI_COMPATIBLE_CONTEXT_WINDOW (8192).
  await expect(page.getByTestId("context-meter")).toContainText("/ 8.2k");
  await expect(page.getByTestId("context-meter")).toHaveAttribute("data-level", "ok");
  expect(errors).toEqual([]);
});

test("the provider list names every provider, and a wrong setting is refused with the reason", async ({ request }) => {
  const providers = await (await request.get("/api/providers")).json();
  expect(providers.map((p: { id: string }) => p.id)).toEqual(["anthropic", "claude_code", "openai", "openai_compatible"]);
  expect(providers.find((p: { id: string }) => p.id === "openai").available).toBe(true);
  const pricing = await (await request.get("/api/pricing")).json();
  const tiny = pricing.providers.openai.models.find((m: { id: string }) => m.id === "e2e-tiny-context");
  expect(tiny.context_window).toBe(200);
  const refused = await request.post("/api/conversations", { data: { provider: "openai", thinking_budget: 2048 } });
  expect(refused.status()).toBe(400);
  expect((await refused.json()).error).toContain("thinking_budget");
});

test("a provider chosen before the app has loaded is kept, and the page hydrates and creates the conversation", async ({ page }) => {
  // The WASM is held back until the choice is made, so the choice is certainly made on the
  // server-rendered page (a changed provider changes which fields exist: hydrating that as-is
  // used to panic and leave a dead page).
  const errors = watchErrors(page);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/", { waitUntil: "domcontentloaded" });
  await page.getByTestId("provider").selectOption("openai_compatible");
  release();
  // Only the app shows the reasoning field, and only for the kept provider.
  await page.getByTestId("reasoning-effort").selectOption("low", { timeout: 20_000 });
  await expect(page.getByTestId("provider")).toHaveValue("openai_compatible");
  await page.getByTestId("new-conversation").click();
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("conversation-details")).toHaveText("openai_compatible · local-e2e");
  expect(errors).toEqual([]);
});
