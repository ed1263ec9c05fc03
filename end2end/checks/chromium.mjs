// Debian's Chromium for the scripts outside the Playwright runner (checks/hydrates.mjs, bench/open-long.mjs),
// with the flags playwright.config.ts gives the test projects, and a page's errors collected in one place.
import { chromium } from "@playwright/test";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    // Without the background-networking flags Chromium hammers the closed network at every start.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Calls `record` with every uncaught error and console error of `page`, cut to 500 characters. */
export function onPageErrors(page, record) {
  page.on("pageerror", (e) => record(String(e).slice(0, 500)));
  page.on("console", (m) => m.type() === "error" && record(m.text().slice(0, 500)));
}
