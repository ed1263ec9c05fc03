// Proves a running server's page hydrates: opens URL in Chromium, changes the provider to one only the
// app knows the fields of, and waits for the field the app adds. Exits 1, with the page's errors, if the
// WASM failed to start or hydrate (e.g. a site from another build than the server).
// Usage: node checks/hydrates.mjs URL [user:pass] [X-Forwarded-For]   (run by deploy/checks/entrypoint_test.sh)
import { launch, onPageErrors } from "./chromium.mjs";

const [url, credentials, forwardedFor] = process.argv.slice(2);
const browser = await launch();
const [username, password] = (credentials ?? "").split(":");
const context = await browser.newContext({
  httpCredentials: credentials ? { username, password } : undefined,
  extraHTTPHeaders: forwardedFor ? { "X-Forwarded-For": forwardedFor, "X-Real-IP": forwardedFor } : {},
});
const page = await context.newPage();
const errors = [];
// The service worker's script is fetched by the browser itself, without the X-Forwarded-For the proxy
// adds (here there is no proxy), so the IP whitelist refuses it: that is this check's setup, not the app.
onPageErrors(page, (text) => /ServiceWorker|sw\.js|\(403\) was received when fetching the script/.test(text) || errors.push(text));
let hydrated = false;
try {
  await page.goto(url);
  // Retried: the first change may land before the app has taken the page over.
  for (let i = 0; i < 40 && !hydrated && errors.length === 0; i++) {
    await page.getByTestId("provider").selectOption(i % 2 ? "anthropic" : "openai");
    hydrated = (await page.getByTestId("reasoning-effort").count()) > 0;
    if (!hydrated) await page.waitForTimeout(250);
  }
} catch (e) {
  errors.push(String(e).slice(0, 500));
}
await browser.close();
if (!hydrated || errors.length > 0) {
  console.error(`the page at ${url} did not hydrate:\n${errors.join("\n") || "(no error logged; the app never took the page over)"}`);
  process.exit(1);
}
