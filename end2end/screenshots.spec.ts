// @screenshots: seeds a demo conversation (markdown with code, thinking, a tool call, a file in a workspace)
// and saves PNGs of the main screens at the desktop (1280×800) and phone (390×844) sizes into docs/screenshots/.
// Run by scripts/screenshots.sh with screenshots.config.ts; never part of the e2e suite.
import { test, expect, Page, APIRequestContext } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { importSession, openSidebar, SessionTurn, waitHydrated } from "./tests/support";

const OUT = process.env.PD_SCREENSHOTS_DIR ?? path.join(__dirname, "..", "docs", "screenshots");
const WORKSPACE = "demo-app";
const DEMO_TITLE = "Count lines in a file";

const MAIN_RS = `use std::fs::File;
use std::io::{self, BufRead, BufReader};

/// Counts the non-empty lines of a file.
fn count_lines(path: &str) -> io::Result<usize> {
    let reader = BufReader::new(File::open(path)?);
    let mut count = 0;
    for line in reader.lines() {
        if !line?.trim().is_empty() {
            count += 1;
        }
    }
    Ok(count)
}

fn main() -> io::Result<()> {
    let n = count_lines("Cargo.toml")?;
    println!("{n} lines");
    Ok(())
}
`;

const DEMO: SessionTurn[] = [
  {
    prompt: "How do I count the non-empty lines of a file in Rust without reading it all into memory?",
    thinking:
      "The user wants streaming line reading. BufReader::lines() yields io::Result<String> per line, so the file never sits in memory whole. I should check what src/main.rs already does before suggesting changes.",
    text: "Let me look at what `src/main.rs` does today.",
    tools: [{ name: "Read", input: { file_path: "src/main.rs" }, result: MAIN_RS }],
    after: [
      "`src/main.rs` already streams the file. The key part is **`BufReader::lines()`**, which reads one line at a time:",
      "",
      "```rust",
      "let reader = BufReader::new(File::open(path)?);",
      "for line in reader.lines() {",
      "    if !line?.trim().is_empty() {",
      "        count += 1;",
      "    }",
      "}",
      "```",
      "",
      "A few notes:",
      "",
      "1. Memory stays flat: only the current line is held.",
      "2. `line?` surfaces I/O errors *and* invalid UTF-8.",
      "3. For huge files, `read_until(b'\\n', &mut buf)` avoids the UTF-8 check.",
    ].join("\n"),
  },
  {
    prompt: "Add a test for an empty file.",
    text: "Here is a test that writes an empty temporary file and expects `0`:\n\n```rust\n#[test]\nfn empty_file_has_no_lines() {\n    let path = std::env::temp_dir().join(\"empty.txt\");\n    std::fs::write(&path, \"\").unwrap();\n    assert_eq!(count_lines(path.to_str().unwrap()).unwrap(), 0);\n}\n```",
    tools: [{ name: "Bash", input: { command: "cargo test empty_file", description: "Run the new test" }, result: "running 1 test\ntest empty_file_has_no_lines ... ok\n\ntest result: ok. 1 passed; 0 failed" }],
    after: "The test passes.",
  },
];

async function seed(request: APIRequestContext): Promise<string> {
  const created = await request.post("/api/workspaces", { data: { name: WORKSPACE } });
  expect([201, 409]).toContain(created.status());
  const uploaded = await request.post(`/api/workspaces/${WORKSPACE}/files?path=src/main.rs&overwrite=true`, {
    data: Buffer.from(MAIN_RS),
    headers: { "Content-Type": "application/octet-stream" },
  });
  expect(uploaded.status()).toBe(201);
  const md = await request.put(`/api/claude/config/file?scope=workspace:${WORKSPACE}&path=CLAUDE.md`, {
    data: { content: "# demo-app\n\n- Run `cargo test` before you say a change is done.\n- Keep functions small; prefer `io::Result`.\n" },
  });
  expect(md.status()).toBeLessThan(300);
  // Seeded once for both sizes: the phone run reuses the desktop run's conversations.
  const listed = await (await request.get("/api/conversations?archived=all&limit=200")).json();
  const existing = listed.items.find((c: any) => c.title === DEMO_TITLE);
  if (existing) return existing.id;
  // A few more conversations so that the sidebar is not empty.
  for (const title of ["Fix the flaky login test", "Explain the borrow checker error", "Release notes for v0.4"]) {
    const other = await request.post("/api/conversations", { data: { provider: "anthropic", title } });
    expect(other.status()).toBe(201);
  }
  return await importSession(request, DEMO, { workspace: WORKSPACE, title: DEMO_TITLE });
}

async function shot(page: Page, name: string) {
  fs.mkdirSync(OUT, { recursive: true });
  await page.waitForTimeout(300); // let transitions settle
  await page.screenshot({ path: path.join(OUT, `${name}-${test.info().project.name}.png`), animations: "disabled", caret: "hide" });
}

test("@screenshots the main screens", async ({ page, request }) => {
  const id = await seed(request);
  const phone = test.info().project.name === "phone";

  // Chat: markdown, highlighted code, thinking and tool blocks.
  await page.goto(`/c/${id}`);
  await waitHydrated(page);
  await expect(page.locator('[data-testid="markdown"] pre code').first()).toBeVisible();
  await page.locator('[data-testid="message"][data-turn="1"][data-role="assistant"]').first().scrollIntoViewIfNeeded();
  await shot(page, "chat");

  // The drawer (phone only; the desktop shows the sidebar in every picture).
  if (phone) {
    await openSidebar(page);
    await shot(page, "drawer");
    await page.keyboard.press("Escape");
  }

  // File preview: a path in the reply opens the highlighted file.
  await page.locator('code[data-path="src/main.rs"]').first().click();
  await expect(page.getByTestId("preview")).toBeVisible();
  await shot(page, "preview");
  await page.keyboard.press("Escape");

  // Search results.
  await page.goto("/");
  await waitHydrated(page);
  const search = page.getByTestId("search-input");
  if (!(await search.isVisible())) await openSidebar(page);
  await search.fill("BufReader");
  await search.press("Enter");
  await expect(page.getByTestId("search-result").first()).toBeVisible();
  await shot(page, "search");

  // Audit timeline.
  await page.goto(`/c/${id}/timeline`);
  await expect(page.getByTestId("timeline-event").first()).toBeVisible();
  await shot(page, "timeline");

  // Config editor: the workspace's CLAUDE.md.
  await page.goto("/claude/config");
  await waitHydrated(page);
  const scope = page.getByTestId("config-scope");
  const value = await scope.locator("option").evaluateAll((os, ws) => (os as HTMLOptionElement[]).find((o) => o.value.endsWith(ws))?.value, WORKSPACE);
  if (value) await scope.selectOption(value);
  await page.locator('[data-testid="config-file"][data-path$="CLAUDE.md"]').click();
  await expect(page.getByTestId("config-editor")).toHaveValue(/demo-app/);
  await shot(page, "config");

  // Settings: API keys and chat defaults.
  await page.goto("/settings");
  await expect(page.getByTestId("defaults-save")).toBeVisible();
  await shot(page, "settings");
});
