// The audit timeline at /c/:id/timeline (docs/UI.md, "Timeline"): every event with its type, time and summary;
// opening one shows the conversation as it was then (`/c/:id?at=SEQ`, read-only, with a banner back).
import { test, expect } from "./fixtures";
import { createConversation, sendAndWait, unique, waitHydrated } from "./support";

test("the timeline lists every event, and opening one from turn 1 shows the conversation as of that event", async ({ page, request }) => {
  const id = await createConversation(request, { title: unique("timeline") });
  await sendAndWait(request, id, "First question [[mock tokens=6 rate=0]]");
  await sendAndWait(request, id, "Second question [[mock tokens=6 rate=0]]");
  const raw: any[] = await (await request.get(`/api/conversations/${id}/log`)).json();
  // An entry's type is `event_type` (docs/UI.md; older servers call it `type`), and `data` may wrap the payload
  // in an object named after the type.
  const log = raw.map((e) => {
    const type: string = e.event_type ?? e.type;
    return { ...e, event_type: type, payload: e.data?.[type] ?? e.data };
  });
  const firstDone = log.find((e) => e.event_type === "TurnCompleted" && e.payload.turn === 1);
  const secondPrompt = log.find((e) => e.event_type === "PromptSubmitted" && e.payload.turn === 2);
  expect(firstDone, JSON.stringify(log.map((e) => e.event_type))).toBeTruthy();
  expect(secondPrompt).toBeTruthy();
  expect(firstDone.seq).toBeLessThan(secondPrompt.seq);
  // Every event has a one-line summary (never empty), and the end of turn 1 says which turn it was.
  for (const entry of log) expect(entry.summary, `summary of #${entry.seq} ${entry.event_type}`).toMatch(/\S/);
  expect(firstDone.summary).toMatch(/\bturn 1\b/i);

  // From the chat page's link.
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  await expect(async () => {
    await page.getByTestId("timeline-link").click();
    await expect(page).toHaveURL(new RegExp(`/c/${id}/timeline$`), { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  const events = page.getByTestId("timeline-event");
  await expect(events).toHaveCount(log.length);
  // Each event shows its type, time and summary.
  const row = page.locator(`[data-testid="timeline-event"][data-seq="${firstDone.seq}"]`);
  await expect(row).toHaveAttribute("data-type", "TurnCompleted");
  await expect(row).toContainText(/TurnCompleted|turn completed/i);
  await expect(row).toContainText(firstDone.summary);
  await expect(row).toContainText(/\d{1,2}:\d{2}/); // its time
  expect(await events.evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-seq"))))).toEqual(log.map((e) => e.seq));
  expect(await events.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-type")))).toEqual(log.map((e) => e.event_type));
  // …and every row shows its own event's summary.
  const shown = await events.evaluateAll((rows) => rows.map((r) => r.textContent ?? ""));
  shown.forEach((text, i) => expect(text, `timeline row #${log[i].seq}`).toContain(log[i].summary));

  // Open it: the conversation as of the end of turn 1.
  await row.getByTestId("timeline-open").click();
  await expect(page).toHaveURL(new RegExp(`/c/${id}\\?at=${firstDone.seq}$`));
  await expect(page.getByTestId("at-banner")).toBeVisible();
  const messages = page.getByTestId("message");
  await expect(messages).toHaveCount(2);
  await expect(page.locator('[data-testid="message"][data-turn="1"]')).toHaveCount(2);
  await expect(page.locator('[data-testid="message"][data-turn="2"]')).toHaveCount(0);
  await expect(page.locator('[data-testid="message"][data-role="user"]')).toContainText("First question");
  // Read-only: nothing to type into.
  await expect(page.getByTestId("composer")).toBeHidden();

  // An event in the middle of turn 2: its prompt is there, its reply not yet.
  await page.goto(`/c/${id}?at=${secondPrompt.seq}`);
  await expect(page.getByTestId("at-banner")).toBeVisible();
  await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(2);
  await expect(page.locator('[data-testid="message"][data-role="assistant"][data-turn="2"]')).toHaveCount(0);

  // The banner leads back to the live conversation.
  await page.getByTestId("at-banner").locator("a").first().click();
  await expect(page).toHaveURL(new RegExp(`/c/${id}$`));
  await expect(page.getByTestId("at-banner")).toHaveCount(0);
  await expect(page.getByTestId("message")).toHaveCount(4);
  await expect(page.getByTestId("composer")).toBeVisible();
});
