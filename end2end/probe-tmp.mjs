// node probe.mjs URL... : opens each URL in Chromium, prints errors and message count.
import { chromium } from "@playwright/test";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
for (const url of process.argv.slice(2)) {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e).slice(0, 400)));
  page.on("console", (m) => m.type() === "error" && errors.push("console: " + m.text().slice(0, 1500)));
  await page.goto(url);
  await page.waitForTimeout(3000);
  const count = await page.locator('[data-testid="message"]').count();
  console.log(url, "messages", count, "errors", JSON.stringify(errors, null, 1));
}
await browser.close();
