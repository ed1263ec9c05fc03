// Keyboard (docs/UI.md): Enter sends, Shift+Enter inserts a newline, Esc closes dialogs and the drawer,
// Ctrl+K focuses the search field, `?` opens the keyboard help.
import { test, expect } from "./fixtures";
import { createConversation, createWorkspace, getView, importSession, isPhone, openSidebar, unique, uploadFile, waitHydrated, waitSettled } from "./support";

test("Enter sends the prompt and Shift+Enter inserts a newline", async ({ page, request }) => {
  const id = await createConversation(request, { title: unique("keys") });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const composer = page.getByTestId("composer");
  await composer.click();
  await composer.pressSequentially("line one");
  await composer.press("Shift+Enter");
  await composer.pressSequentially("line two [[mock tokens=3 rate=0]]");
  await expect(composer).toHaveValue("line one\nline two [[mock tokens=3 rate=0]]");
  await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(0);
  expect((await getView(request, id)).messages).toEqual([]);
  await expect(async () => {
    if ((await page.locator('[data-testid="message"][data-role="user"]').count()) === 0) await composer.press("Enter");
    await expect(page.locator('[data-testid="message"][data-role="user"]')).toHaveCount(1, { timeout: 2000 });
  }).toPass({ timeout: 15_000 });
  await expect(composer).toHaveValue("");
  const view = await waitSettled(request, id);
  const sent = view.messages.find((m: any) => m.role === "user").blocks.map((b: any) => b.text ?? "").join("");
  expect(sent).toBe("line one\nline two [[mock tokens=3 rate=0]]");
  expect(view.messages.filter((m: any) => m.role === "user")).toHaveLength(1);
});

test("? opens the keyboard help and Esc closes it, but ? typed in the composer is just text", async ({ page, request }) => {
  const id = await createConversation(request, { title: unique("help") });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const help = page.getByTestId("help-dialog");
  await expect(help).toBeHidden();
  await expect(async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("?");
    await expect(help).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 15_000 });
  await expect(help).toContainText(/Enter/);
  await expect(help).toContainText(/Esc/);
  await page.keyboard.press("Escape");
  await expect(help).toBeHidden();
  // In the composer, ? is a character.
  const composer = page.getByTestId("composer");
  await composer.click();
  await page.keyboard.press("?");
  await expect(composer).toHaveValue("?");
  await expect(help).toBeHidden();
});

test("Ctrl+K focuses the search field from anywhere", async ({ page, request }) => {
  // Also on the phone: a phone or tablet with a keyboard attached has Ctrl too, and the field is in the top bar.
  const id = await createConversation(request, { title: unique("ctrlk") });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const search = page.getByTestId("search-input");
  await page.getByTestId("composer").click();
  await expect(page.getByTestId("composer")).toBeFocused();
  await expect(async () => {
    await page.getByTestId("composer").focus();
    await page.keyboard.press("Control+k");
    await expect(search).toBeFocused({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  // The K did not land in the composer, and typing goes to the search field.
  await expect(page.getByTestId("composer")).toHaveValue("");
  await page.keyboard.type("needle");
  await expect(search).toHaveValue("needle");
});

test("Esc closes the file preview, and on the phone the drawer", async ({ page, request }) => {
  const ws = await createWorkspace(request, unique("esc").toLowerCase());
  await uploadFile(request, ws, "notes.md", "# Notes\n\nSome *notes*.\n");
  const id = await importSession(request, [{ prompt: "Where?", text: "In `notes.md`." }], { workspace: ws, title: unique("esc") });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const preview = page.getByTestId("preview");
  await expect(async () => {
    await page.locator('code[data-path="notes.md"]').click();
    await expect(preview).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 15_000 });
  await expect(preview).toContainText("Some");
  await page.keyboard.press("Escape");
  await expect(preview).toBeHidden();
  if (isPhone()) {
    await openSidebar(page);
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("sidebar")).toHaveAttribute("data-open", "false");
  }
});
