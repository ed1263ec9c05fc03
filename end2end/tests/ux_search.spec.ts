// Full-text search over messages (docs/UI.md: `GET /api/search`, `search-input`, `search-result`): a result
// links to its turn, and opening it scrolls that turn into view.
import { test, expect } from "./fixtures";
import { createConversation, openSidebar, sendAndWait, unique, waitHydrated } from "./support";

test("search finds a message by a word in it, and the result opens the conversation at that turn", async ({ page, request }) => {
  const word = unique("zebrafinch").replace(/-/g, "");
  const id = await createConversation(request, { title: unique("search") });
  // Six long turns; only turn 2 carries the word. The page is much taller than the viewport.
  for (let turn = 1; turn <= 6; turn++) {
    const text = turn === 2 ? `Tell me about the ${word} please [[mock tokens=400 rate=0]]` : `Turn ${turn} filler [[mock tokens=400 rate=0]]`;
    expect((await sendAndWait(request, id, text)).status).toBe("idle");
  }
  // The API finds it, with a plain-text snippet.
  const found = await (await request.get(`/api/search?q=${word}&limit=10`)).json();
  expect(found.hits).toHaveLength(1);
  expect(found.hits[0]).toMatchObject({ conversation_id: id, turn: 2, role: "user" });
  expect(found.hits[0].snippet).toContain(word);
  expect(found.hits[0].snippet).not.toMatch(/<[a-z]/i);

  await page.goto("/");
  await waitHydrated(page);
  const input = page.getByTestId("search-input");
  if (!(await input.isVisible())) await openSidebar(page);
  const results = page.getByTestId("search-result");
  await expect(async () => {
    await input.fill(word);
    await input.press("Enter");
    await expect(results).toHaveCount(1, { timeout: 3000 });
  }).toPass({ timeout: 20_000 });
  await expect(results.first()).toContainText(word);
  await expect(results.first()).toHaveAttribute("href", `/c/${id}?turn=2#turn-2`);
  // A word nobody wrote finds nothing.
  await input.fill(`${word}nothere`);
  await input.press("Enter");
  await expect(results).toHaveCount(0);
  await input.fill(word);
  await input.press("Enter");
  await expect(results).toHaveCount(1);

  await results.first().click();
  await expect(page).toHaveURL(new RegExp(`/c/${id}\\?turn=2(#turn-2)?$`));
  const target = page.locator("#turn-2");
  await expect(target).toHaveAttribute("data-turn", "2");
  await expect(target).toHaveAttribute("data-role", "user");
  await expect(target).toBeInViewport();
  await expect(target).toContainText(word);
  // It is the jump that put it there: the newest turn is out of view.
  await expect(page.locator("#turn-6")).not.toBeInViewport();
});
