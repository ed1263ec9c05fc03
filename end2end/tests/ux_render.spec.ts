// Rendering of messages (docs/UI.md, "Messages"): markdown through pulldown-cmark and ammonia, highlighted code,
// thinking and tool blocks, error and interrupted markers, copying a message and exporting the conversation.
// Exact assistant text comes from an imported Claude Code session (the mock LLM only replies with its word list).
import { test, expect } from "./fixtures";
import { createConversation, expectedText, getView, importSession, sendFromComposer, shownText, unique, waitHydrated, waitSettled, watchErrors } from "./support";

const CODE = 'fn main() {\n    let greeting = "hello";\n    println!("{greeting}");\n}';

function markdownReply(marker: string): string {
  return [
    `# Heading ${marker}`,
    "",
    `Some **bold words** and a list, sentence ${marker}:`,
    "",
    "- first item",
    "- second item",
    "",
    "```rust",
    CODE,
    "```",
    "",
    "A [safe link](https://example.com/docs) and a [bad link](javascript:window.__xss=3).",
    "",
    "<script>window.__xss = 1</script>",
    '<img src="/nonexistent.png" onerror="window.__xss = 2">',
    '<p onclick="window.__xss = 4">raw html paragraph</p>',
  ].join("\n");
}

test("markdown renders as HTML with highlighted code, and script, event handlers and javascript: links are stripped", async ({ page, request }) => {
  const errors = watchErrors(page);
  const marker = unique("md");
  const id = await importSession(request, [{ prompt: `Show me markdown ${marker}`, text: markdownReply(marker) }], { title: `Render ${marker}` });
  // The API serves the sanitized HTML on the finished text block.
  const view = await getView(request, id);
  const block = view.messages.find((m: any) => m.role === "assistant").blocks.find((b: any) => b.type === "text");
  expect(block.html).toContain("<h1");
  expect(block.html).not.toContain("<script");
  expect(block.html).not.toContain("onerror");
  expect(block.html).not.toContain("javascript:");

  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const md = page.locator('[data-testid="message"][data-role="assistant"] [data-testid="markdown"]').first();
  await expect(md.locator("h1")).toHaveText(`Heading ${marker}`);
  await expect(md.locator("strong")).toHaveText("bold words");
  await expect(md.locator("li")).toHaveText(["first item", "second item"]);
  await expect(md.locator('a[href="https://example.com/docs"]')).toHaveText("safe link");
  // Highlighted code: the text is intact and split into spans with classes.
  const code = md.locator("pre code");
  await expect(code).toHaveCount(1);
  expect((await code.textContent())?.trim()).toBe(CODE);
  expect(await code.locator("span[class]").count()).toBeGreaterThan(2);
  // Sanitized: nothing executable made it into the page, and nothing ran.
  await expect(md.locator("script")).toHaveCount(0);
  await expect(md.locator("[onerror], [onclick], [onload]")).toHaveCount(0);
  await expect(md.locator('a[href^="javascript:"]')).toHaveCount(0);
  await page.waitForTimeout(300); // give a smuggled onerror the time to fire
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(errors).toEqual([]);
});

test("a thinking block is open while the model thinks, collapses once the reply text starts, and opens on demand", async ({ page, request }) => {
  const id = await createConversation(request, { provider: "anthropic", thinking_budget: 1024, title: unique("thinking") });
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  // A prompt of its own: the mock answers a request it has seen (the other viewport's run) with another variant.
  await sendFromComposer(page, `Think first (${unique("prompt")}) [[mock thinking=100 tokens=80 rate=20]]`);
  const reply = page.locator('[data-testid="message"][data-role="assistant"]');
  const thinking = reply.getByTestId("thinking");
  const isOpen = async () => (await thinking.count()) === 1 && (await thinking.evaluate((d) => (d as HTMLDetailsElement).open));
  /** Whether the reply has any text yet, according to the server. */
  const textStarted = async () => {
    const view = await getView(request, id);
    const assistant = view.messages.find((m: any) => m.role === "assistant");
    return !!assistant?.blocks.some((b: any) => b.type === "text" && (b.text ?? "").length > 0);
  };
  // While only thinking streams (5 s at 20 tokens/s), the block is open so it can be followed.
  await expect.poll(isOpen, { timeout: 15_000, intervals: [50] }).toBe(true);
  expect(await textStarted()).toBe(false);
  // As soon as reply text streams, it is folded away, and stays folded.
  await expect.poll(textStarted, { timeout: 20_000, intervals: [100] }).toBe(true);
  await expect.poll(isOpen, { timeout: 5000 }).toBe(false);
  await expect(page.getByTestId("conversation-status")).toHaveText("idle", { timeout: 30_000 });
  expect(await isOpen()).toBe(false);
  // It is a real <details>: its summary opens it, and the thinking text is there.
  await thinking.locator("summary").click();
  expect(await isOpen()).toBe(true);
  const view = await getView(request, id);
  const thought = view.messages.find((m: any) => m.role === "assistant").blocks.find((b: any) => b.type === "thinking").text as string;
  expect(thought.trim().length).toBeGreaterThan(0);
  await expect(thinking).toContainText(thought.trim().split(/\s+/).slice(0, 3).join(" "));
  await thinking.locator("summary").click();
  expect(await isOpen()).toBe(false);
  await page.reload();
  await expect(thinking).toHaveCount(1);
  expect(await isOpen()).toBe(false);
  // The reply text itself is the mock's.
  const replyText = view.messages.find((m: any) => m.role === "assistant").blocks.filter((b: any) => b.type === "text").map((b: any) => b.text).join("");
  expect(shownText(replyText)).toBe(await expectedText(80));
});

test("tool blocks show the tool's name, input and result, and a failed tool is marked as an error", async ({ page, request }) => {
  const marker = unique("tools");
  const id = await importSession(
    request,
    [
      {
        prompt: `List and read ${marker}`,
        thinking: `I should list the folder first ${marker}`,
        text: "Let me look.",
        tools: [
          { name: "Bash", input: { command: `ls ${marker}`, description: "List files" }, result: `listing-${marker}.txt` },
          { name: "Read", input: { file_path: `/nope/${marker}.md` }, result: `File does not exist: ${marker}`, isError: true },
        ],
        after: "All done.",
      },
    ],
    { title: `Tools ${marker}` },
  );
  await page.goto(`/c/${id}`);
  const reply = page.locator('[data-testid="message"][data-role="assistant"]');
  const tools = reply.getByTestId("tool");
  await expect(tools).toHaveCount(2);
  // A finished conversation shows its thinking folded.
  await expect(reply.getByTestId("thinking")).toHaveCount(1);
  expect(await reply.getByTestId("thinking").evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);

  const bash = tools.filter({ hasText: "Bash" });
  const read = tools.filter({ hasText: "Read" });
  await expect(bash).toHaveCount(1);
  await expect(read).toHaveCount(1);
  await expect(bash).not.toHaveAttribute("data-error", "true");
  await expect(read).toHaveAttribute("data-error", "true");
  // <details>: open them to read the input.
  for (const tool of [bash, read]) {
    if (!(await tool.evaluate((d) => (d as HTMLDetailsElement).open))) await tool.locator("summary").first().click();
  }
  await expect(bash).toContainText(`ls ${marker}`);
  await expect(read).toContainText(`/nope/${marker}.md`);
  const results = reply.getByTestId("tool-result");
  await expect(results).toHaveCount(2);
  await expect(results.filter({ hasText: `listing-${marker}.txt` })).toHaveCount(1);
  await expect(results.filter({ hasText: `File does not exist: ${marker}` })).toHaveCount(1);
  await expect(reply).toContainText("All done.");
});

test("a failed turn shows an error marker and a stopped turn shows an interrupted marker", async ({ page, request }) => {
  const failed = await createConversation(request, { title: unique("failed") });
  await page.goto(`/c/${failed}`);
  await waitHydrated(page);
  await sendFromComposer(page, "This fails [[mock fail=http401]]");
  await expect(page.getByTestId("error")).toBeVisible({ timeout: 30_000 });
  expect((await waitSettled(request, failed)).status).toBe("failed");
  await expect(page.getByTestId("interrupted")).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId("error")).toBeVisible();

  const stopped = await createConversation(request, { title: unique("stopped") });
  await page.goto(`/c/${stopped}`);
  await waitHydrated(page);
  await sendFromComposer(page, "Long one [[mock tokens=600 rate=20]]");
  await expect(page.getByTestId("conversation-status")).toHaveText("running", { timeout: 15_000 });
  const aborted = await request.post(`/api/conversations/${stopped}/abort`);
  expect(aborted.status()).toBe(202);
  await expect(page.getByTestId("interrupted")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("conversation-status")).toHaveText("idle");
  await page.reload();
  await expect(page.getByTestId("interrupted")).toBeVisible();
  await expect(page.getByTestId("error")).toHaveCount(0);
});

test("copy puts a message's text on the clipboard", async ({ page, context, request, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(baseURL!).origin });
  const marker = unique("copy");
  const id = await importSession(request, [{ prompt: `Copy me ${marker}`, text: `The answer is **forty-two** (${marker}).\n\n\`\`\`rust\n${CODE}\n\`\`\`` }]);
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  await page.evaluate(() => navigator.clipboard.writeText("nothing copied yet"));
  const reply = page.locator('[data-testid="message"][data-role="assistant"]');
  await reply.hover();
  await expect(async () => {
    await reply.getByTestId("copy-message").click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain(marker);
  }).toPass({ timeout: 15_000 });
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain("forty-two");
  expect(copied).toContain('let greeting = "hello";');
  expect(copied).not.toContain("<strong>");
});

test("export downloads the conversation as Markdown", async ({ page, request }) => {
  const marker = unique("export");
  const title = `Export ${marker}`;
  const id = await importSession(
    request,
    [
      { prompt: `First question ${marker}`, text: `First answer with \`code\` ${marker}` },
      { prompt: `Second question ${marker}`, text: `Second answer ${marker}` },
    ],
    { title },
  );
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export").click()]);
  expect(download.suggestedFilename()).toMatch(/\.md$/);
  const file = await download.path();
  const fs = await import("node:fs");
  const text = fs.readFileSync(file, "utf8");
  expect(text).toContain(title);
  for (const part of [`First question ${marker}`, `First answer with \`code\` ${marker}`, `Second question ${marker}`, `Second answer ${marker}`]) {
    expect(text).toContain(part);
  }
  expect(text.indexOf(`First question ${marker}`)).toBeLessThan(text.indexOf(`Second answer ${marker}`));
  // The document the API serves, as an attachment.
  const api = await request.get(`/api/conversations/${id}/export.md`);
  expect(api.headers()["content-type"]).toContain("text/markdown");
  expect(api.headers()["content-disposition"]).toMatch(/attachment/);
  expect(await api.text()).toContain(`Second answer ${marker}`);
});
