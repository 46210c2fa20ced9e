// The Scipix browser app: image or drawing in, LaTeX / preview / MathML / AsciiMath out.
import katex from "katex";

import { ScipixApiError, ScipixAuthError, ScipixClient, ScipixNetworkError } from "../src/index.js";
import type { Strokes, TextOptions, TextResponse } from "../src/index.js";

const LOW_CONFIDENCE = 0.6;
const HISTORY_SIZE = 30;
const OPTIONS: TextOptions = {
  formats: ["text", "data", "latex_styled"],
  data_options: { include_mathml: true, include_asciimath: true, include_latex: true },
};

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

// --- the client, with the key kept in this browser -------------------------------------

const KEY_STORE = "scipix.key";
function makeClient(): ScipixClient {
  const saved = JSON.parse(localStorage.getItem(KEY_STORE) ?? "null") as { appId: string; appKey: string } | null;
  return new ScipixClient({ baseUrl: "", appId: saved?.appId || undefined, appKey: saved?.appKey || undefined, retry: { retries: 2 } });
}
let client = makeClient();

// --- local history (IndexedDB) ------------------------------------------------------------

interface HistoryEntry {
  key: string;
  time: number;
  thumb: string;
  result: TextResponse;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("scipix", 1);
    req.onupgradeneeded = () => {
      const store = req.result.createObjectStore("history", { keyPath: "key" });
      store.createIndex("time", "time");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
const dbPromise = openDb();

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await dbPromise;
  return new Promise((resolve, reject) => {
    const t = db.transaction("history", mode);
    const req = fn(t.objectStore("history"));
    t.oncomplete = () => resolve(req ? req.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

const historyGet = (key: string) => tx<HistoryEntry>("readonly", (s) => s.get(key));
const historyAll = async () =>
  ((await tx<HistoryEntry[]>("readonly", (s) => s.getAll())) ?? []).sort((a, b) => b.time - a.time);

async function historyPut(entry: HistoryEntry): Promise<void> {
  await tx("readwrite", (s) => s.put(entry));
  const all = await historyAll();
  for (const old of all.slice(HISTORY_SIZE)) await tx("readwrite", (s) => s.delete(old.key));
  await renderHistory();
}

async function renderHistory(): Promise<void> {
  const list = $("history");
  list.replaceChildren();
  for (const entry of await historyAll()) {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = entry.thumb;
    img.alt = "";
    const code = document.createElement("code");
    code.textContent = latexOf(entry.result) || "(nothing recognised)";
    li.append(img, code);
    li.title = new Date(entry.time).toLocaleString();
    li.addEventListener("click", () => show(entry.result, "from local history"));
    list.append(li);
  }
}

// --- hashing (crypto.subtle needs a secure context; fall back to FNV-1a) -----------------

async function hashBytes(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  if (globalThis.crypto?.subtle) {
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ bytes[i]!, 0x5bd1e995) >>> 0;
  }
  return `fnv-${bytes.length}-${h1.toString(16)}${h2.toString(16)}`;
}

// --- status, errors in words --------------------------------------------------------------

const MESSAGES: Record<string, string> = {
  http_unauthorized: "This server needs an API key. Enter your app_id and app_key below.",
  http_max_requests: "Too many requests right now. Wait a moment and try again.",
  sys_busy: "The server is busy. Try again in a few seconds.",
  sys_request_too_large: "The image is too large for this server.",
  image_decode_error: "That file could not be read as an image.",
  image_not_supported: "That image format is not supported. Use PNG, JPEG, GIF, BMP, TIFF or WebP.",
  image_max_size: "The image is too large (too many pixels).",
  image_no_content: "The image looks blank: there is nothing to read.",
  image_missing: "No image was sent.",
  strokes_missing: "Draw something first.",
  strokes_syntax_error: "The drawing could not be sent (bad stroke data).",
};

function status(text: string): void {
  $("status").textContent = text;
}

function showError(err: unknown): void {
  const box = $("error");
  let text: string;
  if (err instanceof ScipixApiError) {
    const known = MESSAGES[err.id];
    text = known ?? `The server could not read this: ${err.message}`;
  } else if (err instanceof ScipixNetworkError) {
    text = "Cannot reach the Scipix server. Is it still running?";
  } else {
    text = `Something went wrong: ${(err as Error)?.message ?? String(err)}`;
  }
  box.textContent = text;
  box.hidden = false;
  status("");
}

function clearError(): void {
  $("error").hidden = true;
}

// --- showing a result -------------------------------------------------------------------

function latexOf(res: TextResponse): string {
  return res.latex_styled ?? res.data?.find((d) => d.type === "latex")?.value ?? stripDelimiters(res.text ?? "");
}

function stripDelimiters(text: string): string {
  const m = /^\s*\\[([]\s*([\s\S]*?)\s*\\[)\]]\s*$/.exec(text);
  return m ? m[1]! : text.trim();
}

function renderPreview(): void {
  const latex = $<HTMLTextAreaElement>("latex").value;
  const err = $("preview-error");
  try {
    katex.render(latex, $("preview"), { displayMode: true, throwOnError: true });
    err.hidden = true;
  } catch (e) {
    katex.render(latex, $("preview"), { displayMode: true, throwOnError: false });
    err.textContent = `The LaTeX does not render: ${(e as Error).message}`;
    err.hidden = false;
  }
}

function setField(id: string, value: string | undefined): void {
  $(`${id}-field`).hidden = !value;
  $<HTMLTextAreaElement>(id).value = value ?? "";
}

function show(res: TextResponse, source?: string): void {
  clearError();
  $("result").hidden = false;
  const latex = latexOf(res);
  $<HTMLTextAreaElement>("latex").value = latex;
  renderPreview();
  setField("mathml", res.data?.find((d) => d.type === "mathml")?.value);
  setField("asciimath", res.data?.find((d) => d.type === "asciimath")?.value);
  const pct = Math.round(res.confidence * 100);
  $("confidence").textContent = `Confidence: ${pct}%`;
  const low = $("low-confidence");
  if (!latex) {
    low.textContent = "Nothing was recognised. Try a sharper or larger image.";
    low.hidden = false;
  } else if (res.confidence < LOW_CONFIDENCE) {
    low.textContent = `Low confidence (${pct}%): check the LaTeX before using it.`;
    low.hidden = false;
  } else {
    low.hidden = true;
  }
  const badge = $("source");
  const label = source ?? (res.cached ? "from the server cache" : "");
  badge.textContent = label;
  badge.hidden = !label;
  status(source ? "" : "Done.");
}

// --- requests -------------------------------------------------------------------------------

let pending: (() => Promise<void>) | null = null;

async function run(key: string, thumb: string, send: () => Promise<TextResponse>): Promise<void> {
  clearError();
  const known = await historyGet(key).catch(() => undefined);
  if (known) {
    show(known.result, "from local history");
    await historyPut({ ...known, time: Date.now() });
    return;
  }
  status("Recognising…");
  try {
    const res = await send();
    show(res);
    await historyPut({ key, time: Date.now(), thumb, result: res });
  } catch (err) {
    if (err instanceof ScipixAuthError) {
      pending = () => run(key, thumb, send);
      $("key-form").hidden = false;
      $("app-key").focus();
    }
    showError(err);
  }
}

function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

async function thumbnail(blob: Blob): Promise<string> {
  try {
    const bmp = await createImageBitmap(blob);
    const scale = Math.min(1, 240 / bmp.width, 100 / bmp.height);
    const c = document.createElement("canvas");
    c.width = Math.max(1, Math.round(bmp.width * scale));
    c.height = Math.max(1, Math.round(bmp.height * scale));
    c.getContext("2d")!.drawImage(bmp, 0, 0, c.width, c.height);
    return c.toDataURL("image/png");
  } catch {
    return readAsDataUrl(blob); // not decodable here: the server will say why
  }
}

async function handleImage(blob: Blob): Promise<void> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const key = `image:${await hashBytes(bytes)}`;
  await run(key, await thumbnail(blob), () => client.ocrImage(blob, OPTIONS));
}

// --- inputs: file, drop, paste --------------------------------------------------------------

$<HTMLInputElement>("file").addEventListener("change", (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  if (file) void handleImage(file);
  input.value = "";
});

const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const file = Array.from(e.dataTransfer?.files ?? []).find((f) => f.type.startsWith("image/")) ?? e.dataTransfer?.files[0];
  if (file) void handleImage(file);
  else showError(new Error("drop an image file"));
});

document.addEventListener("paste", (e) => {
  const target = e.target as HTMLElement | null;
  const items = Array.from(e.clipboardData?.items ?? []);
  const item = items.find((i) => i.kind === "file" && i.type.startsWith("image/"));
  const file = item?.getAsFile() ?? Array.from(e.clipboardData?.files ?? []).find((f) => f.type.startsWith("image/"));
  if (file) {
    e.preventDefault();
    void handleImage(file);
  } else if (!(target instanceof HTMLTextAreaElement || target instanceof HTMLInputElement)) {
    showError(new Error("the clipboard holds no image"));
  }
});

// --- drawing -------------------------------------------------------------------------------

const canvas = $<HTMLCanvasElement>("canvas");
const ctx = canvas.getContext("2d")!;
let strokes: Strokes = { x: [], y: [] };
let drawing = false;

function resetCanvas(): void {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  strokes = { x: [], y: [] };
}
resetCanvas();

function point(e: PointerEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return [
    Math.round(((e.clientX - r.left) * canvas.width) / r.width),
    Math.round(((e.clientY - r.top) * canvas.height) / r.height),
  ];
}

canvas.addEventListener("pointerdown", (e) => {
  drawing = true;
  canvas.setPointerCapture(e.pointerId);
  const [x, y] = point(e);
  strokes.x.push([x]);
  strokes.y.push([y]);
  ctx.beginPath();
  ctx.moveTo(x, y);
});
canvas.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const [x, y] = point(e);
  strokes.x.at(-1)!.push(x);
  strokes.y.at(-1)!.push(y);
  ctx.lineTo(x, y);
  ctx.stroke();
});
const endStroke = () => {
  drawing = false;
};
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

$("clear-drawing").addEventListener("click", resetCanvas);
$("recognize-drawing").addEventListener("click", async () => {
  if (!strokes.x.length) {
    showError(new ScipixApiError(200, { error: "no strokes", error_info: { id: "strokes_missing", message: "no strokes" } }));
    return;
  }
  const sent: Strokes = { x: strokes.x.map((s) => [...s]), y: strokes.y.map((s) => [...s]) };
  const json = JSON.stringify(sent);
  const key = `strokes:${await hashBytes(new TextEncoder().encode(json))}`;
  await run(key, canvas.toDataURL("image/png"), () => client.ocrStrokes(sent, OPTIONS));
});

// --- result editing and copying -----------------------------------------------------------

$("latex").addEventListener("input", renderPreview);

async function copy(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const t = document.createElement("textarea");
    t.value = text;
    document.body.append(t);
    t.select();
    document.execCommand("copy");
    t.remove();
  }
  const old = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = old), 1200);
}

for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
  b.addEventListener("click", () => void copy($<HTMLTextAreaElement>(b.dataset.copy!).value, b));
}

// --- API key ----------------------------------------------------------------------------------

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const appId = $<HTMLInputElement>("app-id").value.trim();
  const appKey = $<HTMLInputElement>("app-key").value.trim();
  localStorage.setItem(KEY_STORE, JSON.stringify({ appId, appKey }));
  client = makeClient();
  $("key-form").hidden = true;
  const retry = pending;
  pending = null;
  if (retry) void retry();
  else clearError();
});

$("clear-history").addEventListener("click", async () => {
  await tx("readwrite", (s) => s.clear());
  await renderHistory();
});

void renderHistory();
document.documentElement.dataset.ready = "1";
