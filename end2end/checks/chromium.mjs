// Debian's Chromium for the scripts outside the Playwright runner (checks/hydrates.mjs, bench/open-long.mjs),
// with the flags of checks/chromium.json (the test projects' too), and a page's errors collected in one place.
import { readFileSync } from "node:fs";
import { chromium } from "@playwright/test";

const flags = JSON.parse(readFileSync(new URL("./chromium.json", import.meta.url), "utf8"));

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? flags.executablePath, args: flags.args });
}

/** Calls `record` with every uncaught error and console error of `page`, cut to 500 characters. */
export function onPageErrors(page, record) {
  page.on("pageerror", (e) => record(String(e).slice(0, 500)));
  page.on("console", (m) => m.type() === "error" && record(m.text().slice(0, 500)));
}
