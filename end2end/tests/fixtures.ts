// The `test` every spec uses: Playwright's, plus a record of the test context's network requests that, when a
// test fails, prints the ones still without an answer, those answered whose body is still arriving (live feeds
// stay so while their page is open), and the slowest finished ones, so that a timeout in CI names what the
// browser was waiting for. Requests of other contexts a test opens (a second device) are not recorded.
// Everything else is re-exported from @playwright/test unchanged.
import { test as base, Request } from "@playwright/test";

export * from "@playwright/test";

type Seen = { request: Request; started: number; status?: number; ended?: number; outcome?: string };

/** One line per request: its age or duration, method, path and how it ended. */
function describe(seen: Seen, now: number): string {
  const url = new URL(seen.request.url());
  const ms = (seen.ended ?? now) - seen.started;
  const from = seen.request.serviceWorker() ? " (service worker)" : "";
  const state = seen.outcome ?? (seen.status === undefined ? "NO ANSWER YET" : `${seen.status}, body still arriving`);
  return `${String(ms).padStart(6)} ms  ${seen.request.method()} ${url.pathname}${url.search}${from}  ${state}`;
}

export const test = base.extend<{ networkOnFailure: void }>({
  networkOnFailure: [
    async ({ context }, use, testInfo) => {
      const seen = new Map<Request, Seen>();
      context.on("request", (request) => seen.set(request, { request, started: Date.now() }));
      context.on("response", (response) => {
        const entry = seen.get(response.request());
        if (entry) entry.status = response.status();
      });
      const end = (request: Request, outcome: string) => {
        const entry = seen.get(request);
        if (entry && entry.ended === undefined) Object.assign(entry, { ended: Date.now(), outcome });
      };
      // Listeners stay synchronous: an awaited call here can outlive the context and fail the next test.
      context.on("requestfinished", (request) => end(request, `${seen.get(request)?.status ?? "?"}`));
      context.on("requestfailed", (request) => end(request, `failed: ${request.failure()?.errorText ?? "?"}`));
      await use();
      if (testInfo.status === testInfo.expectedStatus) return;
      const now = Date.now();
      const all = [...seen.values()];
      const open = all.filter((entry) => entry.ended === undefined)
        .sort((a, b) => Number(a.status !== undefined) - Number(b.status !== undefined));
      const slowest = all.filter((entry) => entry.ended !== undefined)
        .sort((a, b) => (b.ended! - b.started) - (a.ended! - a.started)).slice(0, 5);
      const lines = [
        `[network] ${testInfo.title}: ${all.length} requests, ${open.length} not finished at the failure`,
        ...open.map((entry) => `  open  ${describe(entry, now)}`),
        ...slowest.map((entry) => `  slow  ${describe(entry, now)}`),
      ];
      console.log(lines.join("\n"));
    },
    { auto: true },
  ],
});
