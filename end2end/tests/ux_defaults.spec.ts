// Chat defaults on /settings (docs/UI.md, "Settings", `GET|PUT /api/settings/defaults`): saved, pre-filled in the
// new-conversation form, and applied to a conversation created from it or through the API without those fields.
// The defaults are shared by every spec, so the test puts the previous ones back.
import { test, expect } from "./fixtures";
import { getView, openNewConversationForm, waitHydrated } from "./support";

test("chat defaults are saved on the settings page, pre-filled in the new-conversation form and applied", async ({ page, request }) => {
  const previous = await (await request.get("/api/settings/defaults")).json();
  // Not the catalogue's first model, so a default can't pass by accident.
  const wanted = { provider: "anthropic", model: "claude-haiku-4-5", thinking_budget: 2048, permission_mode: "accept_edits" };
  try {
    await page.goto("/settings");
    await waitHydrated(page);
    await expect(async () => {
      await page.getByTestId("default-provider").selectOption(wanted.provider);
      const model = page.getByTestId("default-model");
      if ((await model.evaluate((el) => el.tagName)) === "SELECT") await model.selectOption(wanted.model);
      else await model.fill(wanted.model);
      await page.getByTestId("default-thinking").fill(String(wanted.thinking_budget));
      await page.getByTestId("default-permission").selectOption(wanted.permission_mode);
      await page.getByTestId("defaults-save").click();
      await expect(page.getByTestId("defaults-saved")).toBeVisible({ timeout: 3000 });
    }).toPass({ timeout: 20_000 });
    await expect.poll(async () => await (await request.get("/api/settings/defaults")).json()).toMatchObject(wanted);

    // The settings page shows them after a reload.
    await page.reload();
    await expect(page.getByTestId("default-provider")).toHaveValue(wanted.provider);
    await expect(page.getByTestId("default-model")).toHaveValue(wanted.model);
    await expect(page.getByTestId("default-thinking")).toHaveValue(String(wanted.thinking_budget));
    await expect(page.getByTestId("default-permission")).toHaveValue(wanted.permission_mode);

    // The new-conversation form starts from them.
    await openNewConversationForm(page);
    await expect(page.getByTestId("provider")).toHaveValue(wanted.provider);
    await expect(page.getByTestId("model")).toHaveValue(wanted.model);
    await expect(page.getByTestId("thinking-budget")).toHaveValue(String(wanted.thinking_budget));
    await expect(page.getByTestId("permission-mode")).toHaveValue(wanted.permission_mode);
    // …and a conversation created from it as it is gets them.
    await expect(async () => {
      await page.getByTestId("new-conversation").click();
      await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/, { timeout: 2000 });
    }).toPass({ timeout: 20_000 });
    const fromForm = await getView(request, page.url().split("/c/")[1]);
    expect(fromForm.provider).toBe(wanted.provider);
    expect(fromForm.model).toBe(wanted.model);
    expect(fromForm.settings.thinking_budget).toBe(wanted.thinking_budget);
    expect(fromForm.permission_mode).toBe(wanted.permission_mode);

    // Through the API, a conversation that leaves the fields out gets the defaults too.
    const created = await request.post("/api/conversations", { data: { provider: "anthropic" } });
    expect(created.status()).toBe(201);
    const fromApi = await created.json();
    expect(fromApi.model).toBe(wanted.model);
    expect(fromApi.settings.thinking_budget).toBe(wanted.thinking_budget);
    expect(fromApi.permission_mode).toBe(wanted.permission_mode);
    // An explicit field still wins over the default.
    const explicit = await (await request.post("/api/conversations", { data: { provider: "anthropic", model: "claude-opus-4-1", permission_mode: "ask" } })).json();
    expect(explicit.model).toBe("claude-opus-4-1");
    expect(explicit.permission_mode).toBe("ask");
  } finally {
    const restored = await request.put("/api/settings/defaults", { data: previous });
    expect(restored.status(), await restored.text()).toBeLessThan(300);
  }
});
