// Playwright config for PocketDev's browser tests (owned by the build/test scripts; specs live in ./tests).
// The browser is Debian's Chromium (apt package `chromium`), never a Playwright download: install
// @playwright/test with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 (scripts/setup.sh does). `./test e2e` starts the
// server and the mock LLM and sets BASE_URL / MOCK_URL.
//
// Two projects: `desktop` (1280×800) runs every spec; `phone` (390×844, touch) runs the chat UI's specs
// (tests/ux_*.spec.ts) a second time. The older specs drive the new-conversation form directly and run on
// the desktop only. The screenshot script has its own config (screenshots.config.ts) and never runs here.
import { readFileSync } from "node:fs";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

/** Debian's Chromium with the flags every project uses (checks/chromium.json; also imported by screenshots.config.ts). */
const flags = JSON.parse(readFileSync(path.join(__dirname, "checks", "chromium.json"), "utf8"));
export const chromium = {
  browserName: "chromium" as const,
  launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? flags.executablePath, args: flags.args as string[] },
};

/** The two viewports every UX spec runs at. */
export const viewports = {
  desktop: { viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
  phone: {
    // Pixel-7-like user agent so the app sees a phone; the size is the iPhone 12-14 CSS viewport.
    userAgent: devices["Pixel 7"].userAgent,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  },
};

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // One retry, so that a flaky test is told from a broken one: a test that fails twice fails the run; one that
  // fails and then passes is "flaky" in Playwright's summary, and `./test e2e` fails on it too, naming it. Its
  // first failure still prints its unanswered requests (tests/fixtures.ts) and keeps its trace.
  retries: 1,
  // A committed `test.only` would silently skip every other test: always an error, not only on CI.
  forbidOnly: true,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3010",
    // `./test e2e` runs the app behind the nginx gateway with Basic Auth (PD_E2E_USER / PD_E2E_PASS).
    httpCredentials: process.env.PD_E2E_USER
      ? { username: process.env.PD_E2E_USER, password: process.env.PD_E2E_PASS ?? "" }
      : undefined,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "desktop",
      use: { ...chromium, ...viewports.desktop },
    },
    {
      name: "phone",
      testMatch: /ux_.*\.spec\.ts$/,
      use: { ...chromium, ...viewports.phone },
    },
  ],
});
