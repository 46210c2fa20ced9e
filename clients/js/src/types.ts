/** Request and response bodies of the Scipix / Mathpix v3 API. */

export type TextFormat = "text" | "data" | "html" | "latex_styled";
export type LatexFormat =
  | "text"
  | "latex_normal"
  | "latex_styled"
  | "latex_simplified"
  | "latex_list"
  | "mathml"
  | "asciimath";

export interface Region {
  top_left_x?: number;
  top_left_y?: number;
  width: number;
  height: number;
}

export interface DataOptions {
  include_latex?: boolean;
  include_mathml?: boolean;
  include_asciimath?: boolean;
  include_svg?: boolean;
  include_table_html?: boolean;
  include_tsv?: boolean;
  include_mathml_word?: boolean;
  include_table_markdown?: boolean;
}

export interface Callback {
  post: string;
  reply?: Record<string, unknown>;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Options every image endpoint takes (`src` is set by the client methods). */
export interface CommonOptions {
  metadata?: Record<string, unknown>;
  tags?: string[];
  region?: Region;
  confidence_threshold?: number;
  callback?: Callback;
  async?: boolean;
  skip_recrop?: boolean;
  alphabets_allowed?: Record<string, boolean>;
  enable_blue_hsv_filter?: boolean;
  auto_rotate_confidence_threshold?: number;
  include_detected_alphabets?: boolean;
  improve_mathpix?: boolean;
  /** Scipix extension: the engine for this request (e.g. "local", "remote"); default: the server's. */
  engine?: string;
  /** Scipix extension: `false` skips the similarity cache (no lookup, no store). */
  use_cache?: boolean;
}

/** `POST /v3/text` options. */
export interface TextOptions extends CommonOptions {
  formats?: TextFormat[];
  data_options?: DataOptions;
  math_inline_delimiters?: [string, string];
  math_display_delimiters?: [string, string];
  rm_spaces?: boolean;
  confidence_rate_threshold?: number;
  include_line_data?: boolean;
  [option: string]: unknown;
}

/** `POST /v3/latex` (legacy) options. */
export interface LatexOptions extends CommonOptions {
  formats?: LatexFormat[];
  ocr?: Array<"math" | "text">;
  format_options?: Record<string, unknown>;
  beam_size?: number;
  n_best?: number;
  include_bbox?: boolean;
  [option: string]: unknown;
}

/** Digital ink: one array of x and one of y coordinates per stroke. */
export interface Strokes {
  x: number[][];
  y: number[][];
}

export interface StrokesOptions extends TextOptions {
  strokes_session_id?: string;
}

export interface DataItem {
  type: string;
  value: string;
}

export interface LineData {
  type: string;
  subtype: string;
  cnt: number[][];
  included: boolean;
  is_printed: boolean;
  is_handwritten: boolean;
  text: string;
  confidence: number;
  confidence_rate: number;
  conversion_output: boolean;
}

/** The answer of `/v3/text` and `/v3/strokes`. */
export interface TextResponse {
  request_id: string;
  version: string;
  image_width: number;
  image_height: number;
  is_printed: boolean;
  is_handwritten: boolean;
  auto_rotate_confidence: number;
  auto_rotate_degrees: number;
  confidence: number;
  confidence_rate: number;
  text?: string;
  latex_styled?: string;
  html?: string;
  data?: DataItem[];
  line_data?: LineData[];
  /** Set by servers that report cache hits. */
  cached?: boolean;
}

export interface Position {
  top_left_x: number;
  top_left_y: number;
  width: number;
  height: number;
}

/** The answer of the legacy `/v3/latex`. */
export interface LatexResponse {
  request_id: string;
  version: string;
  latex_confidence: number;
  latex_confidence_rate: number;
  position: Position;
  auto_rotate_confidence: number;
  auto_rotate_degrees: number;
  is_printed: boolean;
  is_handwritten: boolean;
  latex?: string;
  text?: string;
  latex_normal?: string;
  latex_styled?: string;
  latex_simplified?: string;
  latex_list?: string[];
  mathml?: string;
  asciimath?: string;
  cached?: boolean;
}

/** One batch entry: a URL, or a URL with per-image options. */
export type BatchUrl = string | ({ url: string } & Record<string, unknown>);

export interface BatchRequest {
  urls: Record<string, BatchUrl>;
  ocr_behavior?: "latex" | "text";
  callback?: Callback;
  metadata?: Record<string, unknown>;
  /** Any other key is a v3/latex (or v3/text) option applied to every url. */
  [option: string]: unknown;
}

export interface BatchSubmitResponse {
  batch_id: string;
}

/** Mathpix error object, as it appears in a body (also per batch item). */
export interface ErrorBody {
  request_id?: string | null;
  error: string;
  error_info: { id: string; message: string; [detail: string]: unknown };
}

export interface BatchResultsResponse {
  keys: string[];
  results: Record<string, LatexResponse | TextResponse | ErrorBody>;
}

export interface HealthResponse {
  status: string;
  model_loaded: boolean;
  engine: string;
  version: string;
  uptime_secs: number;
  workers: number;
  in_flight: number;
  auth: boolean;
}

/** `GET /cache/stats` (Scipix extension; admin keys only when the server has keys). */
export interface CacheStats {
  entries: number;
  memory_mb: number;
  disk_mb: number;
  size_limit_mb: number;
  hits: number;
  misses: number;
  hit_rate: number;
  exact_hits?: number;
  vector_hits?: number;
  rejected?: number;
  evictions?: number;
  backend?: string;
  dtype?: string;
  encrypted?: boolean;
  [field: string]: unknown;
}

/** One answer of `POST /cache/search`. */
export interface CacheSearchHit {
  entry_id: number;
  latex: string;
  /** LaTeX similarity to the query, 0..1. */
  score: number;
  /** The same as `score`. */
  similarity: number;
  /** The engine's confidence when the entry was stored. */
  confidence: number;
  /** How often the entry answered a request. */
  hits: number;
  /** When the entry was stored (Unix seconds). */
  created: number;
  [field: string]: unknown;
}

export interface CacheSearchResponse {
  results: CacheSearchHit[];
  [field: string]: unknown;
}

/** `POST /cache/clear`. */
export interface CacheClearResponse {
  /** Entries removed. */
  cleared: number;
  [field: string]: unknown;
}
