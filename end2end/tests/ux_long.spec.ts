// Long conversations (docs/UI.md: `?turns=N`, `has_older`, `GET …/messages?before_turn=`, `load-older`): only the
// newest page is in the DOM, the last message is in view, and older turns are prepended on demand.
// The 60-turn history is an imported Claude Code session (the benchmark builds long histories the same way).
import { test, expect, Page } from "./fixtures";
import { getView, importSession, SessionTurn, unique, waitHydrated } from "./support";

const TURNS = 60;

function history(marker: string): SessionTurn[] {
  return Array.from({ length: TURNS }, (_, i) => ({
    prompt: `Question ${i + 1} of ${marker}`,
    text: `Answer ${i + 1} of ${marker}.\n\nA second paragraph so that each turn takes some room on the screen.\n\n- one\n- two`,
  }));
}

/** The turns of the user messages in the DOM, top to bottom. */
async function userTurns(page: Page): Promise<number[]> {
  return await page
    .locator('[data-testid="message"][data-role="user"]')
    .evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute("data-turn"))));
}

test("a long conversation opens at its newest page with the last message in view", async ({ page, request }) => {
  const marker = unique("long");
  const id = await importSession(request, history(marker), { title: `Long ${marker}` });
  // The API pages too.
  const newest = await getView(request, id, "?turns=20");
  expect(newest.has_older).toBe(true);
  expect(new Set(newest.messages.map((m: any) => m.turn)).size).toBe(20);
  const older = await (await request.get(`/api/conversations/${id}/messages?before_turn=41&limit=20`)).json();
  expect(older.has_older).toBe(true);
  expect(Math.max(...older.messages.map((m: any) => m.turn))).toBe(40);
  expect(older.messages.find((m: any) => m.role === "assistant").blocks.find((b: any) => b.type === "text").html).toContain("<p>");

  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const turns = await userTurns(page);
  expect(turns.length, "only the newest page is rendered").toBeLessThan(TURNS);
  expect(turns.length).toBeGreaterThan(0);
  expect(turns[turns.length - 1]).toBe(TURNS);
  expect(turns).toEqual(Array.from({ length: turns.length }, (_, i) => TURNS - turns.length + 1 + i));
  await expect(page.locator("#turn-1")).toHaveCount(0);
  await expect(page.locator(`#turn-${TURNS}`)).toHaveCount(1);
  // The newest message is on screen (the view starts at the bottom).
  const last = page.locator(`[data-testid="message"][data-role="assistant"][data-turn="${TURNS}"]`);
  await expect(last).toBeInViewport();
  await expect(last).toContainText(`Answer ${TURNS} of ${marker}.`);
  await expect(page.getByTestId("composer")).toBeInViewport();
  await expect(page.getByTestId("load-older")).toHaveCount(1);
  // Loaded, not just hidden: the DOM holds no older turn.
  expect(await page.getByTestId("message").count()).toBe(turns.length * 2);
});

test("load-older prepends older turns until the first one, keeping the newest", async ({ page, request }) => {
  const marker = unique("older");
  const id = await importSession(request, history(marker), { title: `Older ${marker}` });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const loadOlder = page.getByTestId("load-older");
  let turns = await userTurns(page);
  const firstPage = turns.length;
  expect(firstPage).toBeLessThan(TURNS);
  for (let clicks = 0; turns[0] !== 1; clicks++) {
    expect(clicks, "load-older reaches turn 1").toBeLessThan(TURNS);
    const before = turns;
    // Scroll up to the top, where the control is; the page may also load older turns by itself.
    await page.locator(`#turn-${before[0]}`).scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, -3000);
    await page.waitForTimeout(300);
    if ((await userTurns(page))[0] === before[0]) await loadOlder.click();
    await expect.poll(async () => (await userTurns(page))[0], { timeout: 15_000 }).toBeLessThan(before[0]);
    turns = await userTurns(page);
    // Prepended: the turns already shown are still there, in order, and the older ones come before them.
    expect(turns.slice(turns.length - before.length)).toEqual(before);
    expect(turns).toEqual(Array.from({ length: turns.length }, (_, i) => turns[0] + i));
    expect(new Set(turns).size).toBe(turns.length);
  }
  expect(turns).toEqual(Array.from({ length: TURNS }, (_, i) => i + 1));
  await expect(page.locator("#turn-1")).toContainText(`Question 1 of ${marker}`);
  await expect(page.locator(`[data-testid="message"][data-role="assistant"][data-turn="1"]`)).toContainText(`Answer 1 of ${marker}.`);
  // Nothing older is left to load.
  await expect(loadOlder).toBeHidden();
  await expect(page.locator(`#turn-${TURNS}`)).toHaveCount(1);
});
