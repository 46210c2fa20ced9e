export * from "./types.js";
export * from "./errors.js";
export { ScipixClient, parseRetryAfter } from "./client.js";
export type { ClientOptions, ImageInput, PollOptions, RequestOptions, RetryOptions } from "./client.js";
