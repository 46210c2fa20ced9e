/** Errors thrown by the client. */

import type { ErrorBody } from "./types.js";

/** Any error the client throws. */
export class ScipixError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScipixError";
  }
}

/**
 * The server answered with a Mathpix error object. `id` is the Mathpix error id
 * (`http_unauthorized`, `image_decode_error`, `http_max_requests`, ...).
 */
export class ScipixApiError extends ScipixError {
  readonly id: string;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly info: ErrorBody["error_info"];
  /** Seconds the server asked to wait (from Retry-After), when it said. */
  readonly retryAfter: number | undefined;

  constructor(status: number, body: ErrorBody, retryAfter?: number) {
    super(body.error_info?.message || body.error || `HTTP ${status}`);
    this.name = "ScipixApiError";
    this.id = body.error_info?.id ?? "unknown_error";
    this.status = status;
    this.requestId = body.request_id ?? undefined;
    this.info = body.error_info ?? { id: this.id, message: this.message };
    this.retryAfter = retryAfter;
  }
}

/** 401 `http_unauthorized`: missing or wrong app_id/app_key. */
export class ScipixAuthError extends ScipixApiError {
  constructor(status: number, body: ErrorBody, retryAfter?: number) {
    super(status, body, retryAfter);
    this.name = "ScipixAuthError";
  }
}

/** 429 `http_max_requests` after the retries ran out. */
export class ScipixRateLimitError extends ScipixApiError {
  constructor(status: number, body: ErrorBody, retryAfter?: number) {
    super(status, body, retryAfter);
    this.name = "ScipixRateLimitError";
  }
}

/** The server could not be reached, or answered something that is not the API. */
export class ScipixNetworkError extends ScipixError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScipixNetworkError";
  }
}

/** A polled job did not finish in time. */
export class ScipixTimeoutError extends ScipixError {
  constructor(message: string) {
    super(message);
    this.name = "ScipixTimeoutError";
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const info = (value as { error_info?: unknown }).error_info;
  return (
    typeof (value as { error?: unknown }).error === "string" &&
    typeof info === "object" &&
    info !== null &&
    typeof (info as { id?: unknown }).id === "string"
  );
}

export function apiError(status: number, body: ErrorBody, retryAfter?: number): ScipixApiError {
  if (status === 401 || body.error_info.id === "http_unauthorized") {
    return new ScipixAuthError(status, body, retryAfter);
  }
  if (status === 429 || body.error_info.id === "http_max_requests") {
    return new ScipixRateLimitError(status, body, retryAfter);
  }
  return new ScipixApiError(status, body, retryAfter);
}
