// Times how long Chromium takes to show the last message of a conversation: navigation start to
// the moment the newest message is in the viewport, over several loads (first one is a warm-up).
// Usage: node end2end/bench/open-long.mjs URL [loads]   → prints one JSON line with the samples (ms).
// Run by `scripts/bench.sh anchors open` (server/benches/anchors.rs); Debian's Chromium, as the tests.
import { launch, onPageErrors } from "../checks/chromium.mjs";

const [url, loadsArg] = process.argv.slice(2);
const loads = Number(loadsArg ?? 6);
const browser = await launch();
const samples = [];
const errors = new Set();
let messages = 0;
for (let i = 0; i < loads; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // A page whose script failed never scrolls to the newest message: say why beside the NaN.
  onPageErrors(page, (text) => errors.add(text));
  await page.goto(url, { waitUntil: "commit" });
  const shown = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const check = () => {
          const all = document.querySelectorAll('[data-testid="message"]');
          const last = all[all.length - 1];
          if (last) {
            // In view: inside the window and inside every scrolling ancestor (the message list scrolls).
            const box = last.getBoundingClientRect();
            let top = 0, bottom = window.innerHeight;
            for (let el = last.parentElement; el; el = el.parentElement) {
              const style = getComputedStyle(el);
              if (/(auto|scroll)/.test(style.overflowY)) {
                const r = el.getBoundingClientRect();
                top = Math.max(top, r.top);
                bottom = Math.min(bottom, r.bottom);
              }
            }
            if (box.height > 0 && box.top < bottom && box.bottom > top) {
              return resolve({ ms: performance.now(), count: all.length });
            }
          }
          requestAnimationFrame(check);
        };
        // Never hang the bench: after 30 s report "not shown".
        setTimeout(() => resolve({ ms: Number.NaN, count: document.querySelectorAll('[data-testid="message"]').length }), 30_000);
        check();
      }),
  );
  if (i > 0) samples.push(shown.ms);
  messages = shown.count;
  await context.close();
}
await browser.close();
console.log(JSON.stringify({ samples, messages_in_dom: messages, errors: [...errors] }));
