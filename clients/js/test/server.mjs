// Start a real `scipix serve` on a free loopback port for the tests.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest parent holding pyproject.toml. */
export function repoRoot() {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pyproject.toml"))) {
    const up = resolve(dir, "..");
    if (up === dir) throw new Error("cannot find the repository root (pyproject.toml)");
    dir = up;
  }
  return dir;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function scipixCommand(root) {
  const venv = join(root, ".venv", "bin", "scipix");
  if (existsSync(venv)) return [venv, []];
  const py = process.env.PYTHON ?? "python3";
  return [py, ["-m", "scipix"]];
}

/** The bytes of the bundled example image, and as a data URL. */
export function exampleImage() {
  const bytes = readFileSync(join(repoRoot(), "examples", "quadratic.png"));
  return { bytes: new Uint8Array(bytes), dataUrl: `data:image/png;base64,${bytes.toString("base64")}` };
}

/**
 * Start `scipix serve` with `env` (SCIPIX_* settings) on a free port; resolves to
 * { baseUrl, stop() } once /health answers.
 */
export async function startServer(env = {}) {
  const root = repoRoot();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "scipix-js-test-"));
  const [cmd, args] = scipixCommand(root);
  const child = spawn(cmd, [...args, "serve", "--host", "127.0.0.1", "--port", String(port), "--workers", "1"], {
    cwd: dataDir,
    env: { ...process.env, SCIPIX_DATA_DIR: dataDir, SCIPIX_CONFIG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`scipix serve exited (${child.exitCode}):\n${log}`);
    }
    try {
      const r = await fetch(`${baseUrl}/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`scipix serve did not answer /health in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { baseUrl, stop, log: () => log };
}
