/** The Scipix client: a thin, typed layer over fetch, for Node >= 20 and browsers. */

import { apiError, isErrorBody, ScipixApiError, ScipixNetworkError, ScipixTimeoutError } from "./errors.js";
import type {
  BatchRequest,
  BatchResultsResponse,
  BatchSubmitResponse,
  CacheClearResponse,
  CacheSearchResponse,
  CacheStats,
  HealthResponse,
  LatexOptions,
  LatexResponse,
  Strokes,
  StrokesOptions,
  TextOptions,
  TextResponse,
} from "./types.js";

/** An image: bytes (Blob/File, Uint8Array, ArrayBuffer) or a `data:` / http(s) URL string. */
export type ImageInput = Blob | Uint8Array | ArrayBuffer | string;

export interface RetryOptions {
  /** Retries after the first try on 429/503 and network errors (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 500). */
  baseDelayMs?: number;
  /** Upper bound for one wait in ms, Retry-After included (default 30000). */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080` (default: "" = same origin in a browser). */
  baseUrl?: string;
  appId?: string;
  appKey?: string;
  retry?: RetryOptions;
  /** Per-request timeout in ms (default 60000). */
  timeoutMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface PollOptions {
  /** Delay between polls in ms (default 500). */
  intervalMs?: number;
  /** Give up after this many ms (default 300000). */
  timeoutMs?: number;
  /** Called after each poll with the fraction done (0..1) and the latest answer. */
  onProgress?: (progress: number, results: BatchResultsResponse) => void;
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

const RETRY_STATUS = new Set([429, 503]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, (date - Date.now()) / 1000);
  return undefined;
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

export class ScipixClient {
  readonly baseUrl: string;
  private readonly appId: string | undefined;
  private appKey: string | undefined;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.appId = options.appId;
    this.appKey = options.appKey;
    this.retries = options.retry?.retries ?? 3;
    this.baseDelayMs = options.retry?.baseDelayMs ?? 500;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new Error("no fetch: pass options.fetch");
    this.fetchImpl = f.bind(globalThis);
  }

  /** Change the credentials (e.g. after the user typed a key). */
  setKey(appKey: string | undefined): void {
    this.appKey = appKey;
  }

  private headers(extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.appId) h["app_id"] = this.appId;
    if (this.appKey) h["app_key"] = this.appKey;
    return h;
  }

  /**
   * Send a request, retrying on 429/503 (honouring Retry-After) and network errors with
   * exponential backoff; answer the parsed JSON or throw a typed error.
   */
  async request<T>(
    method: string,
    path: string,
    body?: BodyInit | null,
    contentType?: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const url = this.baseUrl + path;
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: this.headers(contentType ? { "content-type": contentType } : undefined),
          body: body ?? null,
          signal,
        });
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (attempt < this.retries) {
          await sleep(this.backoff(attempt), options.signal);
          continue;
        }
        throw new ScipixNetworkError(`cannot reach ${url}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      if (RETRY_STATUS.has(response.status) && attempt < this.retries) {
        await response.body?.cancel().catch(() => undefined);
        const wait = retryAfter !== undefined ? retryAfter * 1000 : this.backoff(attempt);
        await sleep(Math.min(wait, this.maxDelayMs), options.signal);
        continue;
      }
      let data: unknown;
      const text = await response.text();
      try {
        data = text ? JSON.parse(text) : {};
      } catch {
        throw new ScipixNetworkError(
          `${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`,
        );
      }
      if (isErrorBody(data)) throw apiError(response.status, data, retryAfter);
      if (!response.ok) {
        const detail = (data as { detail?: unknown }).detail;
        throw new ScipixApiError(response.status, {
          error: `${method} ${path}: HTTP ${response.status}${isString(detail) ? `: ${detail}` : ""}`,
          error_info: {
            id: response.status === 404 ? "http_not_found" : `http_${response.status}`,
            message: `${method} ${path}: HTTP ${response.status}${isString(detail) ? `: ${detail}` : ""}`,
          },
        });
      }
      return data as T;
    }
  }

  private backoff(attempt: number): number {
    const delay = this.baseDelayMs * 2 ** attempt;
    return Math.min(delay * (0.75 + Math.random() * 0.5), this.maxDelayMs);
  }

  private async imageRequest<T>(
    path: string,
    image: ImageInput,
    options: object,
    req?: RequestOptions,
  ): Promise<T> {
    if (typeof image === "string") {
      return this.request<T>("POST", path, JSON.stringify({ ...options, src: image }), "application/json", req);
    }
    const blob =
      image instanceof Blob ? image : new Blob([image instanceof Uint8Array ? new Uint8Array(image) : image]);
    const make = () => {
      const form = new FormData();
      const name = typeof File !== "undefined" && image instanceof File ? image.name : "image";
      form.append("file", blob, name);
      form.append("options_json", JSON.stringify(options));
      return form;
    };
    // FormData bodies are rebuilt by fetch on each send, so retries resend the same image.
    return this.request<T>("POST", path, make(), undefined, req);
  }

  /** `POST /v3/text`: recognise an image (bytes, Blob/File, or data/http URL). */
  ocrImage(image: ImageInput, options: TextOptions = {}, req?: RequestOptions): Promise<TextResponse> {
    return this.imageRequest<TextResponse>("/v3/text", image, options, req);
  }

  /** `POST /v3/latex` (legacy): recognise an equation image. */
  ocrLatex(image: ImageInput, options: LatexOptions = {}, req?: RequestOptions): Promise<LatexResponse> {
    return this.imageRequest<LatexResponse>("/v3/latex", image, options, req);
  }

  /** `POST /v3/strokes`: recognise digital ink. */
  ocrStrokes(strokes: Strokes, options: StrokesOptions = {}, req?: RequestOptions): Promise<TextResponse> {
    const body = JSON.stringify({ ...options, strokes: { strokes } });
    return this.request<TextResponse>("POST", "/v3/strokes", body, "application/json", req);
  }

  /** `POST /v3/batch`: submit; answers the batch id. */
  submitBatch(request: BatchRequest, req?: RequestOptions): Promise<BatchSubmitResponse> {
    return this.request<BatchSubmitResponse>("POST", "/v3/batch", JSON.stringify(request), "application/json", req);
  }

  /** `GET /v3/batch/{id}`: the results so far. */
  batchResults(batchId: string, req?: RequestOptions): Promise<BatchResultsResponse> {
    return this.request<BatchResultsResponse>("GET", `/v3/batch/${encodeURIComponent(batchId)}`, null, undefined, req);
  }

  /** Submit a batch and poll until every item has a result (or an error object). */
  async batch(request: BatchRequest, poll: PollOptions = {}): Promise<BatchResultsResponse & { batch_id: string }> {
    const { batch_id } = await this.submitBatch(request, { signal: poll.signal });
    const interval = poll.intervalMs ?? 500;
    const deadline = Date.now() + (poll.timeoutMs ?? 300_000);
    for (;;) {
      const res = await this.batchResults(batch_id, { signal: poll.signal });
      const done = res.keys.filter((k) => k in res.results).length;
      const total = res.keys.length || Object.keys(request.urls).length;
      poll.onProgress?.(total ? done / total : 1, res);
      if (total > 0 && done >= total) return { ...res, batch_id };
      if (Date.now() > deadline) {
        throw new ScipixTimeoutError(`batch ${batch_id}: ${done}/${total} done when the wait ran out`);
      }
      await sleep(interval, poll.signal);
    }
  }

  /**
   * `GET /cache/stats` (Scipix extension): entries, sizes, hits and misses of the similarity cache.
   * Needs an admin key when the server has keys; a server without the cache answers
   * `cache_disabled` (HTTP 404).
   */
  cacheStats(req?: RequestOptions): Promise<CacheStats> {
    return this.request<CacheStats>("GET", "/cache/stats", null, undefined, req);
  }

  /** `POST /cache/search` (Scipix extension): cached formulas whose LaTeX is most like `latex` (k: 1..100). */
  cacheSearch(latex: string, k = 10, req?: RequestOptions): Promise<CacheSearchResponse> {
    return this.request<CacheSearchResponse>("POST", "/cache/search", JSON.stringify({ latex, k }), "application/json", req);
  }

  /** `POST /cache/clear` (Scipix extension): forget every cached entry; answers how many went. */
  cacheClear(req?: RequestOptions): Promise<CacheClearResponse> {
    return this.request<CacheClearResponse>("POST", "/cache/clear", null, undefined, req);
  }

  /** `GET /health`. */
  health(req?: RequestOptions): Promise<HealthResponse> {
    return this.request<HealthResponse>("GET", "/health", null, undefined, req);
  }
}
