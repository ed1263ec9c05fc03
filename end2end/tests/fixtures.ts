// The `test` every spec uses: Playwright's, plus a record of the test context's network requests that, when a
// test fails, prints the ones still unanswered (and the slowest answered ones), so that a timeout in CI names
// what the browser was waiting for. Everything else is re-exported from @playwright/test unchanged.
import { test as base, Request } from "@playwright/test";

export * from "@playwright/test";

type Seen = { request: Request; started: number; ended?: number; outcome?: string };

/** One line per request: its age or duration, method, path and how it ended. */
function describe(seen: Seen, now: number): string {
  const url = new URL(seen.request.url());
  const ms = (seen.ended ?? now) - seen.started;
  const from = seen.request.serviceWorker() ? " (service worker)" : "";
  return `${String(ms).padStart(6)} ms  ${seen.request.method()} ${url.pathname}${url.search}${from}  ${seen.outcome ?? "NO ANSWER YET"}`;
}

export const test = base.extend<{ networkOnFailure: void }>({
  networkOnFailure: [
    async ({ context }, use, testInfo) => {
      const seen = new Map<Request, Seen>();
      context.on("request", (request) => seen.set(request, { request, started: Date.now() }));
      const end = (request: Request, outcome: string) => {
        const entry = seen.get(request);
        if (entry && entry.ended === undefined) Object.assign(entry, { ended: Date.now(), outcome });
      };
      context.on("requestfinished", async (request) => end(request, `${(await request.response())?.status() ?? "?"}`));
      context.on("requestfailed", (request) => end(request, `failed: ${request.failure()?.errorText ?? "?"}`));
      await use();
      if (testInfo.status === testInfo.expectedStatus) return;
      const now = Date.now();
      const all = [...seen.values()];
      const open = all.filter((entry) => entry.ended === undefined);
      const slowest = all.filter((entry) => entry.ended !== undefined)
        .sort((a, b) => (b.ended! - b.started) - (a.ended! - a.started)).slice(0, 5);
      const lines = [
        `[network] ${testInfo.title}: ${all.length} requests, ${open.length} without an answer at the failure`,
        ...open.map((entry) => `  open  ${describe(entry, now)}`),
        ...slowest.map((entry) => `  slow  ${describe(entry, now)}`),
      ];
      console.log(lines.join("\n"));
    },
    { auto: true },
  ],
});
