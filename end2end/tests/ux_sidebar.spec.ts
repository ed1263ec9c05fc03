// The sidebar (docs/UI.md, "Sidebar"): newest activity first with a status icon, paging, the archived filter,
// rename, delete with a confirmation, and live title/status updates from other devices over SSE, without polling.
import { test, expect, Page, Request } from "./fixtures";
import {
  createConversation,
  getView,
  newDevice,
  openSidebar,
  sendAndWait,
  sidebarItem,
  sidebarRow,
  unique,
  waitHydrated,
  waitSettled,
} from "./support";

/** The ids of the sidebar's items, top to bottom. */
async function sidebarIds(page: Page): Promise<string[]> {
  return await page.getByTestId("conversation-item").evaluateAll((items) => items.map((i) => i.getAttribute("data-id") ?? ""));
}

test("the sidebar lists conversations by newest activity first, each with a status icon", async ({ page, request }) => {
  const a = await createConversation(request, { title: unique("order-a") });
  const b = await createConversation(request, { title: unique("order-b") });
  const c = await createConversation(request, { title: unique("order-c") });
  const failed = await createConversation(request, { title: unique("order-failed") });
  expect((await sendAndWait(request, failed, "Fail please [[mock fail=http401]]")).status).toBe("failed");
  // Activity on the oldest one moves it to the top.
  await sendAndWait(request, a, "Bump [[mock tokens=2 rate=0]]");

  await page.goto("/");
  await waitHydrated(page);
  await openSidebar(page);
  await expect.poll(async () => (await sidebarIds(page)).filter((id) => [a, b, c, failed].includes(id))).toEqual([a, failed, c, b]);
  // The list's order is the API's.
  const listed = await (await request.get("/api/conversations?limit=10")).json();
  expect(listed.items.map((i: any) => i.id).filter((id: string) => [a, b, c, failed].includes(id))).toEqual([a, failed, c, b]);
  // Each row carries its status and shows an icon for it.
  await expect(sidebarItem(page, a)).toHaveAttribute("data-status", "idle");
  await expect(sidebarItem(page, failed)).toHaveAttribute("data-status", "failed");
  for (const id of [a, failed]) {
    await expect(sidebarRow(page, id).getByTestId("status-icon")).toBeVisible();
  }
  const [idleIcon, failedIcon] = await Promise.all(
    [a, failed].map((id) => sidebarRow(page, id).getByTestId("status-icon").evaluate((el) => {
      const style = getComputedStyle(el);
      const before = getComputedStyle(el, "::before");
      return [el.outerHTML.replace(/data-id="[^"]*"/g, ""), el.getAttribute("aria-label"), style.color, style.backgroundColor, before.content, before.backgroundColor].join("|");
    })),
  );
  expect(idleIcon, "a failed conversation's icon differs from an idle one's").not.toBe(failedIcon);
  await expect(sidebarItem(page, a)).toContainText((await getView(request, a)).title);
});

test("load-more pages through the conversation list without duplicates", async ({ page, request }) => {
  const prefix = unique("page");
  // More than a page: the API's default page is 50, the UI's is at most that.
  const ids: string[] = [];
  for (let i = 0; i < 55; i++) ids.push(await createConversation(request, { title: `${prefix} #${i}` }));
  const oldest = ids[0];
  await page.goto("/");
  await waitHydrated(page);
  await openSidebar(page);
  await expect(sidebarItem(page, ids[54])).toBeVisible();
  const firstPage = await page.getByTestId("conversation-item").count();
  expect(firstPage).toBeLessThan(55);
  await expect(sidebarItem(page, oldest)).toHaveCount(0);
  // Load more until the oldest of ours shows; each click adds rows.
  for (let clicks = 0; (await sidebarItem(page, oldest).count()) === 0; clicks++) {
    expect(clicks, "load-more reaches the oldest conversation").toBeLessThan(20);
    const before = await page.getByTestId("conversation-item").count();
    await page.getByTestId("load-more").scrollIntoViewIfNeeded();
    await page.getByTestId("load-more").click();
    await expect.poll(async () => await page.getByTestId("conversation-item").count()).toBeGreaterThan(before);
  }
  const shown = await sidebarIds(page);
  expect(new Set(shown).size, "no conversation is listed twice").toBe(shown.length);
  // Ours are in creation order reversed (newest first), all 55 of them.
  expect(shown.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
});

test("the archived filter shows active, archived or all conversations", async ({ page, request }) => {
  const kept = await createConversation(request, { title: unique("active") });
  const archivedViaUi = await createConversation(request, { title: unique("archive-me") });
  await page.goto("/");
  await waitHydrated(page);
  await openSidebar(page);
  await expect(sidebarItem(page, archivedViaUi)).toBeVisible();
  // Archive from the sidebar.
  await expect(async () => {
    await sidebarItem(page, archivedViaUi).hover();
    await sidebarRow(page, archivedViaUi).getByTestId("archive").click({ timeout: 2000 });
    await expect(sidebarItem(page, archivedViaUi)).toHaveCount(0, { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  expect((await getView(request, archivedViaUi)).archived).toBe(true);
  await expect(sidebarItem(page, kept)).toBeVisible();

  const filter = page.getByTestId("archived-filter");
  await filter.selectOption("archived");
  await expect(sidebarItem(page, archivedViaUi)).toBeVisible();
  await expect(sidebarItem(page, kept)).toHaveCount(0);
  await filter.selectOption("all");
  await expect(sidebarItem(page, archivedViaUi)).toBeVisible();
  await expect(sidebarItem(page, kept)).toBeVisible();
  await filter.selectOption("active");
  await expect(sidebarItem(page, kept)).toBeVisible();
  await expect(sidebarItem(page, archivedViaUi)).toHaveCount(0);
  // The API agrees.
  const all = (await (await request.get("/api/conversations?archived=all&limit=200")).json()).items;
  expect(all.find((i: any) => i.id === archivedViaUi)?.archived).toBe(true);
  expect(all.find((i: any) => i.id === kept)?.archived).toBe(false);
});

test("a conversation is renamed from the sidebar", async ({ page, request }) => {
  const id = await createConversation(request, { title: unique("before-rename") });
  const renamed = unique("after-rename");
  await page.goto("/");
  await waitHydrated(page);
  await openSidebar(page);
  await expect(async () => {
    await sidebarItem(page, id).hover();
    await sidebarRow(page, id).getByTestId("rename").click({ timeout: 2000 });
    await expect(page.getByTestId("rename-input")).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  await page.getByTestId("rename-input").fill(renamed);
  await page.getByTestId("rename-input").press("Enter");
  await expect(sidebarItem(page, id)).toContainText(renamed);
  await expect.poll(async () => (await getView(request, id)).title).toBe(renamed);
  await page.reload();
  await openSidebar(page);
  await expect(sidebarItem(page, id)).toContainText(renamed);
});

test("delete asks for confirmation: cancel keeps the conversation, confirm removes it", async ({ page, request }) => {
  const id = await createConversation(request, { title: unique("delete-me") });
  await page.goto("/");
  await waitHydrated(page);
  await openSidebar(page);
  const askDelete = async () => {
    await expect(async () => {
      await sidebarItem(page, id).hover();
      await sidebarRow(page, id).getByTestId("delete").click({ timeout: 2000 });
      await expect(page.getByTestId("confirm-delete")).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 20_000 });
  };
  await askDelete();
  await page.getByTestId("cancel-delete").click();
  await expect(page.getByTestId("confirm-delete")).toBeHidden();
  await expect(sidebarItem(page, id)).toBeVisible();
  expect((await request.get(`/api/conversations/${id}`)).status()).toBe(200);

  await askDelete();
  await page.getByTestId("confirm-delete").click();
  await expect(sidebarItem(page, id)).toHaveCount(0);
  await expect.poll(async () => (await request.get(`/api/conversations/${id}`)).status()).toBe(404);
  await page.reload();
  await openSidebar(page);
  await expect(page.getByTestId("conversation-item").first()).toBeVisible();
  await expect(sidebarItem(page, id)).toHaveCount(0);
});

test("another device's sidebar follows renames, status changes and deletes live, without polling", async ({ page, browser, request }) => {
  const id = await createConversation(request, { title: unique("live") });
  const gone = await createConversation(request, { title: unique("live-gone") });
  // Device B: a second browser context, opened on the start page.
  const other = await newDevice(browser);
  const phoneB = await other.newPage();
  const requests: Request[] = [];
  phoneB.on("request", (r) => requests.push(r));
  await phoneB.goto("/");
  await waitHydrated(phoneB);
  await openSidebar(phoneB);
  await expect(sidebarItem(phoneB, id)).toBeVisible();
  await phoneB.evaluate(() => ((window as any).__sameDocument = true));

  // Idle for 3 s: no request at all for the list (or anything else): updates come over the live feed.
  await phoneB.waitForTimeout(1000);
  const from = requests.length;
  await phoneB.waitForTimeout(3000);
  const idle = requests.slice(from);
  const listCalls = idle.filter((r) => new URL(r.url()).pathname === "/api/conversations");
  expect(listCalls.map((r) => r.url()), "no polling of the conversation list").toEqual([]);
  expect(idle.filter((r) => ["fetch", "xhr"].includes(r.resourceType())).map((r) => r.url()), "no polling at all").toEqual([]);
  // The live feed is an SSE stream of summaries.
  expect(requests.some((r) => new URL(r.url()).pathname === "/api/conversations/live")).toBe(true);

  // Device A renames (here through the API, as page A would): B's row follows.
  const title = unique("live-renamed");
  const patched = await request.patch(`/api/conversations/${id}`, { data: { title } });
  expect(patched.status()).toBe(200);
  await expect(sidebarItem(phoneB, id)).toContainText(title);

  // A turn runs on device A (the page): B's row shows running, then idle again.
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const sent = await request.post(`/api/conversations/${id}/messages`, { data: { text: "Run a while [[mock tokens=60 rate=20]]" } });
  expect(sent.status()).toBe(202);
  await expect(sidebarItem(phoneB, id)).toHaveAttribute("data-status", "running", { timeout: 15_000 });
  await waitSettled(request, id);
  await expect(sidebarItem(phoneB, id)).toHaveAttribute("data-status", "idle");
  // The item that was active most recently is now on top.
  await expect.poll(async () => (await sidebarIds(phoneB))[0]).toBe(id);

  // A delete elsewhere removes the row.
  expect((await request.delete(`/api/conversations/${gone}`)).status()).toBe(204);
  await expect(sidebarItem(phoneB, gone)).toHaveCount(0);

  // All of it without a reload, and still without list requests.
  expect(await phoneB.evaluate(() => (window as any).__sameDocument)).toBe(true);
  expect(requests.slice(from).filter((r) => new URL(r.url()).pathname === "/api/conversations").map((r) => r.url())).toEqual([]);
  await other.close();
});
