// The phone (docs/UI.md, "Layout", "Phone"): at 390×844 the sidebar is a drawer, the composer stays at the
// bottom and nothing scrolls sideways; the app is installable (manifest), works offline (service worker shell)
// and notifies when a turn ends while it is in the background. Every test runs at both viewports.
import { test, expect, Page } from "./fixtures";
import { createConversation, importSession, isPhone, openSidebar, sendAndWait, sidebarItem, unique, waitHydrated } from "./support";

test("on the phone the sidebar is a drawer that opens and closes; on the desktop it is always shown", async ({ page, request }) => {
  const id = await createConversation(request, { title: unique("drawer") });
  await page.goto("/");
  await waitHydrated(page);
  const toggle = page.getByTestId("drawer-toggle");
  const sidebar = page.getByTestId("sidebar");
  if (!isPhone()) {
    await expect(toggle).toBeHidden();
    await expect(sidebar).toBeVisible();
    await expect(sidebar).toBeInViewport();
    await expect(sidebarItem(page, id)).toBeVisible();
    return;
  }
  await expect(toggle).toBeVisible();
  await expect(sidebar).toHaveAttribute("data-open", "false");
  await expect(sidebar).not.toBeInViewport({ ratio: 0.5 });
  await openSidebar(page);
  await expect(sidebar).toHaveAttribute("data-open", "true");
  await expect(sidebarItem(page, id)).toBeInViewport();
  // Picking a conversation opens it and closes the drawer.
  await sidebarItem(page, id).click();
  await expect(page).toHaveURL(new RegExp(`/c/${id}$`));
  await expect(sidebar).toHaveAttribute("data-open", "false");
  await expect(sidebar).not.toBeInViewport({ ratio: 0.5 });
  await expect(page.getByTestId("composer")).toBeInViewport();
  // The toggle opens it again, and a second press closes it.
  await openSidebar(page);
  await toggle.dispatchEvent("click");
  await expect(sidebar).toHaveAttribute("data-open", "false");
});

test("the composer stays at the bottom of the screen and nothing scrolls sideways, even with long code lines", async ({ page, request }) => {
  const longLine = `let very_long_identifier_${"x".repeat(40)} = compute(${Array.from({ length: 30 }, (_, i) => `argument_${i}`).join(", ")});`;
  const id = await importSession(
    request,
    [
      { prompt: `Short question ${"averyveryverylongwordwithoutanybreakopportunity".repeat(4)}`, text: `Here:\n\n\`\`\`rust\n${longLine}\n\`\`\`\n\nSee https://example.com/${"path/".repeat(40)}end and a table:\n\n| a | b | c |\n|---|---|---|\n| ${"wide ".repeat(30)} | 2 | 3 |` },
      { prompt: "Another", text: "Short answer." },
    ],
    { title: unique("layout") },
  );
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const viewport = page.viewportSize()!;
  const composer = page.getByTestId("composer");
  await expect(composer).toBeVisible();
  const box = (await composer.boundingBox())!;
  expect(box.y + box.height, "the composer ends inside the screen").toBeLessThanOrEqual(viewport.height + 1);
  expect(box.y, "the composer is in the lower part of the screen").toBeGreaterThan(viewport.height / 2);
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(viewport.width + 1);
  const overflow = async () =>
    await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, width: window.innerWidth }));
  let sizes = await overflow();
  expect(sizes.doc, JSON.stringify(sizes)).toBeLessThanOrEqual(viewport.width);
  expect(sizes.body, JSON.stringify(sizes)).toBeLessThanOrEqual(viewport.width);
  // The long code line scrolls inside its block instead.
  const pre = page.locator('[data-testid="markdown"] pre').first();
  const preBox = (await pre.boundingBox())!;
  expect(preBox.x + preBox.width).toBeLessThanOrEqual(viewport.width + 1);
  // Still so after scrolling to the top and with the drawer open.
  await page.mouse.wheel(0, -5000);
  await expect(composer).toBeInViewport();
  if (isPhone()) {
    await openSidebar(page);
    sizes = await overflow();
    expect(sizes.doc, JSON.stringify(sizes)).toBeLessThanOrEqual(viewport.width);
  }
});

test("the web app manifest is linked and served with a name, start URL, standalone display and icons", async ({ page, request }) => {
  await page.goto("/");
  const link = page.locator('link[rel="manifest"]');
  await expect(link).toHaveCount(1);
  const href = (await link.getAttribute("href"))!;
  const response = await request.get(new URL(href, page.url()).pathname);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toMatch(/application\/(manifest\+)?json/);
  const manifest = await response.json();
  expect(manifest.name).toMatch(/PocketDev/);
  expect(manifest.short_name).toBeTruthy();
  expect(manifest.start_url).toBeTruthy();
  expect(["standalone", "fullscreen", "minimal-ui"]).toContain(manifest.display);
  expect(manifest.theme_color ?? manifest.background_color).toBeTruthy();
  expect(Array.isArray(manifest.icons) && manifest.icons.length).toBeTruthy();
  // Installable: an icon of at least 192 px (or a scalable one).
  const sizes: string[] = manifest.icons.flatMap((i: any) => String(i.sizes ?? "").split(/\s+/));
  expect(sizes.some((size) => size === "any" || Number(size.split("x")[0]) >= 192), JSON.stringify(manifest.icons)).toBe(true);
  for (const icon of manifest.icons) {
    const served = await request.get(new URL(icon.src, new URL(href, page.url())).pathname);
    expect(served.status(), icon.src).toBe(200);
    expect(served.headers()["content-type"]).toMatch(/^image\//);
  }
  // The phone-friendly head: a viewport that fits the device.
  await expect(page.locator('meta[name="viewport"]')).toHaveAttribute("content", /width=device-width/);
});

test("the service worker registers and the app shell loads offline", async ({ page, context }) => {
  await page.goto("/");
  await waitHydrated(page);
  const state = await page.evaluate(async () => {
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000));
    const registration = await Promise.race([navigator.serviceWorker.ready, timeout]);
    if (!registration) return null;
    // `ready` resolves once a worker is active, which includes "activating": wait for its activate handler to end.
    const worker = registration.active!;
    if (worker.state === "activating") {
      await Promise.race([new Promise((resolve) => worker.addEventListener("statechange", resolve, { once: true })), timeout]);
    }
    return { scope: registration.scope, active: worker.state };
  });
  expect(state, "navigator.serviceWorker.ready resolves").not.toBeNull();
  expect(state!.scope).toBe(new URL("/", page.url()).href);
  expect(state!.active).toBe("activated");
  // Once it controls the page (after a reload at the latest), a navigation without network still shows the shell.
  await expect(async () => {
    if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  }).toPass({ timeout: 20_000 });
  await context.setOffline(true);
  try {
    const response = await page.reload();
    expect(page.url()).not.toMatch(/^chrome-error:/);
    expect(response?.status()).toBe(200);
    expect(response?.fromServiceWorker()).toBe(true);
    await expect(page).toHaveTitle(/PocketDev/);
    const text = await page.locator("body").innerText();
    expect(text).not.toMatch(/ERR_INTERNET_DISCONNECTED|No internet|This site can.t be reached/i);
    expect(text.trim().length).toBeGreaterThan(0);
  } finally {
    await context.setOffline(false);
  }
});

/**
 * Before any app script: record every notification (the constructor and the service worker's showNotification,
 * both still called for real), and make `document.hidden` / `visibilityState` / `hasFocus()` follow
 * `window.__pdSetHidden(bool)`, which also fires `visibilitychange`.
 */
function spyOnNotifications() {
  const w = window as any;
  w.__notifications = [];
  w.__pdHidden = false;
  Object.defineProperty(document, "hidden", { configurable: true, get: () => w.__pdHidden });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (w.__pdHidden ? "hidden" : "visible") });
  document.hasFocus = () => !w.__pdHidden;
  w.__pdSetHidden = (hidden: boolean) => {
    w.__pdHidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event(hidden ? "blur" : "focus"));
  };
  const Real = w.Notification;
  if (Real) {
    const Spy: any = function (this: unknown, title: string, options?: NotificationOptions) {
      w.__notifications.push({ title, body: options?.body ?? "", via: "constructor" });
      try {
        return new Real(title, options);
      } catch {
        return { close() {}, addEventListener() {}, removeEventListener() {} };
      }
    };
    Spy.prototype = Real.prototype;
    Object.defineProperty(Spy, "permission", { get: () => Real.permission });
    Spy.requestPermission = (...args: unknown[]) => Real.requestPermission(...args);
    w.Notification = Spy;
  }
  if (w.ServiceWorkerRegistration) {
    const show = w.ServiceWorkerRegistration.prototype.showNotification;
    w.ServiceWorkerRegistration.prototype.showNotification = function (title: string, options?: NotificationOptions) {
      w.__notifications.push({ title, body: options?.body ?? "", via: "service-worker" });
      return show.call(this, title, options).catch(() => undefined);
    };
  }
}

async function enableNotifications(page: Page) {
  let toggle = page.getByTestId("notify-toggle");
  if (!(await toggle.isVisible())) await openSidebar(page);
  toggle = page.getByTestId("notify-toggle");
  await expect(toggle).toBeVisible();
  const kind = await toggle.evaluate((el) => (el instanceof HTMLInputElement ? el.type : el.tagName));
  if (kind === "checkbox") {
    await toggle.check();
  } else if ((await toggle.getAttribute("aria-pressed")) !== "true" && (await toggle.getAttribute("aria-checked")) !== "true") {
    await toggle.click();
    await expect.poll(async () => (await toggle.getAttribute("aria-pressed")) ?? (await toggle.getAttribute("aria-checked"))).toBe("true");
  }
  if (isPhone() && (await page.getByTestId("sidebar").getAttribute("data-open")) === "true") {
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("sidebar")).toHaveAttribute("data-open", "false");
  }
}

test("a turn that ends while the app is in the background shows a notification, and not while it is in view", async ({ page, context, request, baseURL }) => {
  await context.grantPermissions(["notifications"], { origin: new URL(baseURL!).origin });
  await page.addInitScript(spyOnNotifications);
  const title = unique("notify");
  const id = await createConversation(request, { title });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  expect(await page.evaluate(() => Notification.permission)).toBe("granted");
  await expect(async () => {
    await enableNotifications(page);
  }).toPass({ timeout: 20_000 });

  // In view: a finished turn does not notify.
  await sendAndWait(request, id, "While watching [[mock tokens=5 rate=0]]");
  await expect(page.locator('[data-testid="message"][data-role="assistant"][data-turn="1"]')).toHaveCount(1);
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => (window as any).__notifications)).toEqual([]);

  // In the background: it does, naming the conversation.
  await page.evaluate(() => (window as any).__pdSetHidden(true));
  await sendAndWait(request, id, "While away [[mock tokens=20 rate=40]]");
  await expect.poll(async () => (await page.evaluate(() => (window as any).__notifications)).length, { timeout: 15_000 }).toBe(1);
  const [shown] = await page.evaluate(() => (window as any).__notifications);
  expect(`${shown.title} ${shown.body}`).toContain(title);
  await page.evaluate(() => (window as any).__pdSetHidden(false));
});
