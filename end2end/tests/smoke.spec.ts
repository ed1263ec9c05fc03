// Placeholder smoke test (created with the test scripts): the server answers GET /health with 200.
import { test, expect } from "./fixtures";

test("GET /health returns 200", async ({ request }) => {
  const res = await request.get("/health");
  expect(res.status()).toBe(200);
});
