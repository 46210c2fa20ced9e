// The client against a real `scipix serve` on loopback.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  ScipixApiError,
  ScipixAuthError,
  ScipixClient,
  ScipixNetworkError,
  parseRetryAfter,
} from "../dist/index.js";
import { exampleImage, freePort, startServer } from "./server.mjs";

const QUADRATIC = String.raw`x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}`;
const img = exampleImage();

function assertTextResponse(res) {
  assert.equal(typeof res.request_id, "string");
  assert.equal(typeof res.confidence, "number");
  assert.ok(res.confidence >= 0 && res.confidence <= 1);
  assert.equal(typeof res.text, "string");
}

describe("open server", () => {
  let server;
  let client;
  before(async () => {
    server = await startServer();
    client = new ScipixClient({ baseUrl: server.baseUrl });
  });
  after(async () => server?.stop());

  test("health", async () => {
    const h = await client.health();
    assert.equal(h.status, "ok");
    assert.equal(h.auth, false);
  });

  test("ocrImage with a data URL, asking for MathML and AsciiMath", async () => {
    const res = await client.ocrImage(img.dataUrl, {
      formats: ["text", "data", "latex_styled"],
      data_options: { include_mathml: true, include_asciimath: true },
    });
    assertTextResponse(res);
    assert.equal(res.latex_styled, QUADRATIC);
    const types = (res.data ?? []).map((d) => d.type).sort();
    assert.deepEqual(types, ["asciimath", "mathml"]);
  });

  test("ocrImage with a Uint8Array (multipart)", async () => {
    const res = await client.ocrImage(img.bytes, { formats: ["latex_styled"] });
    assert.equal(res.latex_styled, QUADRATIC);
  });

  test("ocrImage with a Blob (multipart)", async () => {
    const res = await client.ocrImage(new Blob([img.bytes], { type: "image/png" }), { formats: ["latex_styled"] });
    assert.equal(res.latex_styled, QUADRATIC);
  });

  test("ocrLatex (legacy)", async () => {
    const res = await client.ocrLatex(img.bytes, { formats: ["latex_normal", "asciimath"] });
    assert.equal(res.latex_normal, QUADRATIC);
    assert.equal(typeof res.asciimath, "string");
    assert.equal(typeof res.latex_confidence, "number");
  });

  test("ocrStrokes round-trips (any LaTeX, a confidence)", async () => {
    const res = await client.ocrStrokes({
      x: [[10, 30, 50, 70], [40, 40]],
      y: [[10, 60, 10, 60], [0, 80]],
    });
    assertTextResponse(res);
    assert.equal(res.is_handwritten, true);
  });

  test("a bad image is a typed error with the Mathpix id", async () => {
    await assert.rejects(client.ocrImage(new Uint8Array([1, 2, 3, 4])), (err) => {
      assert.ok(err instanceof ScipixApiError);
      assert.match(err.id, /^image_/);
      assert.equal(err.status, 200);
      return true;
    });
  });

  test("batch with polling and progress", async () => {
    const progress = [];
    const res = await client.batch(
      { urls: { a: img.dataUrl, b: { url: img.dataUrl } }, formats: ["latex_normal"] },
      { intervalMs: 200, timeoutMs: 60_000, onProgress: (p) => progress.push(p) },
    );
    assert.equal(typeof res.batch_id, "string");
    assert.deepEqual([...res.keys].sort(), ["a", "b"]);
    assert.equal(res.results.a.latex_normal, QUADRATIC);
    assert.equal(progress.at(-1), 1);
    assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]));
  });

  test("a repeated image is answered from the cache", async () => {
    const first = await client.ocrImage(img.bytes, { formats: ["latex_styled"] });
    assert.equal(first.latex_styled, QUADRATIC);
    const again = await client.ocrImage(img.bytes, { formats: ["latex_styled"] });
    assert.equal(again.cached, true);
    assert.equal(again.latex_styled, QUADRATIC);
    const fresh = await client.ocrImage(img.bytes, { formats: ["latex_styled"], use_cache: false });
    assert.equal(fresh.cached, false);
  });

  test("engine option: local works, an unknown one is a typed error", async () => {
    const res = await client.ocrImage(img.dataUrl, { formats: ["latex_styled"], engine: "local" });
    assert.equal(res.latex_styled, QUADRATIC);
    await assert.rejects(client.ocrImage(img.dataUrl, { engine: "nope" }), (err) => {
      assert.ok(err instanceof ScipixApiError);
      assert.equal(err.id, "opts_unknown_engine");
      assert.equal(err.status, 200);
      return true;
    });
  });

  test("cacheStats", async () => {
    const stats = await client.cacheStats();
    assert.ok(stats.entries >= 1, JSON.stringify(stats));
    assert.ok(stats.hits >= 1, JSON.stringify(stats));
    assert.equal(typeof stats.hit_rate, "number");
  });

  test("cacheSearch", async () => {
    const res = await client.cacheSearch(QUADRATIC, 3);
    assert.ok(Array.isArray(res.results), JSON.stringify(res));
    assert.equal(res.results[0].latex, QUADRATIC);
    assert.ok(res.results[0].score > 0.9);
    assert.equal(typeof res.results[0].confidence, "number");
  });

  test("cacheClear empties the cache", async () => {
    const before = await client.cacheStats();
    const res = await client.cacheClear();
    assert.equal(res.cleared, before.entries);
    assert.equal((await client.cacheStats()).entries, 0);
    assert.deepEqual((await client.cacheSearch(QUADRATIC)).results, []);
  });
});

describe("server with an API key", () => {
  let server;
  before(async () => {
    server = await startServer({
      SCIPIX_SERVER__API_KEYS: JSON.stringify([
        { app_id: "tester", key: "s3cret-key" },
        { app_id: "boss", key: "b0ss-key", admin: true },
      ]),
    });
  });
  after(async () => server?.stop());

  test("no key: ScipixAuthError with id http_unauthorized, not retried", async () => {
    let calls = 0;
    const counting = (...a) => (calls++, fetch(...a));
    const client = new ScipixClient({ baseUrl: server.baseUrl, fetch: counting });
    await assert.rejects(client.ocrImage(img.dataUrl), (err) => {
      assert.ok(err instanceof ScipixAuthError);
      assert.equal(err.id, "http_unauthorized");
      assert.equal(err.status, 401);
      return true;
    });
    assert.equal(calls, 1);
  });

  test("wrong key is refused, right key works", async () => {
    const wrong = new ScipixClient({ baseUrl: server.baseUrl, appId: "tester", appKey: "nope" });
    await assert.rejects(wrong.ocrStrokes({ x: [[1, 2]], y: [[1, 2]] }), ScipixAuthError);
    const right = new ScipixClient({ baseUrl: server.baseUrl, appId: "tester", appKey: "s3cret-key" });
    const res = await right.ocrImage(img.dataUrl, { formats: ["latex_styled"] });
    assert.equal(res.latex_styled, QUADRATIC);
  });

  test("cache routes: admin keys only", async () => {
    const user = new ScipixClient({ baseUrl: server.baseUrl, appId: "tester", appKey: "s3cret-key" });
    await assert.rejects(user.cacheClear(), (err) => {
      assert.ok(err instanceof ScipixAuthError);
      assert.equal(err.id, "http_unauthorized");
      return true;
    });
    await assert.rejects(user.cacheStats(), ScipixAuthError);
    const admin = new ScipixClient({ baseUrl: server.baseUrl, appId: "boss", appKey: "b0ss-key" });
    assert.equal(typeof (await admin.cacheStats()).entries, "number");
    assert.equal(typeof (await admin.cacheClear()).cleared, "number");
  });
});

describe("server with a tiny rate limit", () => {
  let server;
  before(async () => {
    server = await startServer({
      SCIPIX_SERVER__RATE_LIMIT__PER_IP_REQUESTS_PER_MINUTE: "2",
      SCIPIX_SERVER__RATE_LIMIT__WINDOW_SECS: "2",
    });
  });
  after(async () => server?.stop());

  test("429 is retried after Retry-After and then succeeds", async () => {
    const statuses = [];
    const retryAfters = [];
    const recording = async (...a) => {
      const r = await fetch(...a);
      statuses.push(r.status);
      if (r.status === 429) retryAfters.push(r.headers.get("retry-after"));
      return r;
    };
    const client = new ScipixClient({
      baseUrl: server.baseUrl,
      fetch: recording,
      retry: { retries: 5, baseDelayMs: 100 },
    });
    const strokes = { x: [[1, 5, 9]], y: [[1, 9, 1]] };
    const started = Date.now();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await client.ocrStrokes(strokes));
    assert.equal(results.length, 4);
    results.forEach(assertTextResponse);
    assert.ok(statuses.includes(429), `no 429 seen: ${statuses}`);
    assert.ok(retryAfters.every((v) => Number(v) >= 1), `Retry-After: ${retryAfters}`);
    // Retry-After (>= 1 s) was honoured rather than the 100 ms backoff
    assert.ok(Date.now() - started >= 900, `${Date.now() - started} ms`);
  });

  test("retries give up with a typed rate-limit error", async () => {
    const client = new ScipixClient({ baseUrl: server.baseUrl, retry: { retries: 0 } });
    const strokes = { x: [[1, 5]], y: [[1, 9]] };
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 4; i++) await client.ocrStrokes(strokes);
      })(),
      (err) => {
        assert.equal(err.name, "ScipixRateLimitError");
        assert.equal(err.id, "http_max_requests");
        assert.equal(err.status, 429);
        assert.ok(err.retryAfter >= 1);
        return true;
      },
    );
  });
});

test("unreachable server: ScipixNetworkError after retries", async () => {
  const port = await freePort();
  const client = new ScipixClient({ baseUrl: `http://127.0.0.1:${port}`, retry: { retries: 1, baseDelayMs: 10 } });
  await assert.rejects(client.health(), ScipixNetworkError);
});

test("parseRetryAfter", () => {
  assert.equal(parseRetryAfter("3"), 3);
  assert.equal(parseRetryAfter(null), undefined);
  const inTwo = new Date(Date.now() + 2000).toUTCString();
  assert.ok(parseRetryAfter(inTwo) <= 2.01);
});
