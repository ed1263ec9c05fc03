// Playwright config of the screenshot script (scripts/screenshots.sh), separate from the test suite's: it runs
// only screenshots.spec.ts, which seeds a demo conversation and saves PNGs into docs/screenshots/.
// `npx playwright test` (the e2e phase) uses playwright.config.ts, whose testDir (./tests) never sees this spec.
import { defineConfig } from "@playwright/test";
import { chromium, viewports } from "./playwright.config";

export default defineConfig({
  testDir: ".",
  testMatch: /screenshots\.spec\.ts$/,
  timeout: 180_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results/screenshots",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3020",
    httpCredentials: process.env.PD_E2E_USER
      ? { username: process.env.PD_E2E_USER, password: process.env.PD_E2E_PASS ?? "" }
      : undefined,
    trace: "retain-on-failure",
    // Steady pictures: no caret blinking or transitions half-way.
    colorScheme: "light",
  },
  projects: [
    { name: "desktop", use: { ...chromium, ...viewports.desktop } },
    { name: "phone", use: { ...chromium, ...viewports.phone } },
  ],
});
