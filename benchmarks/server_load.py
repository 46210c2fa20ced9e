"""Load test of the HTTP server: concurrent clients on loopback for a bounded time.

By default it starts ``scipix serve`` (the configured engine, rate limits off, the cache off so
every request is recognised, a fresh data dir) on a free loopback port, then for each client
count (1, 4, 16) runs that many clients, each posting ``/v3/text`` requests with small rendered
formula images back to back for ``--seconds``. It prints a markdown table: requests, requests/s
and /min, p50 and p99 latency, errors. ``--url`` measures a server that is already running.

    python benchmarks/server_load.py                   # start a server, 1/4/16 clients, 20 s each
    python benchmarks/server_load.py --seconds 10 --clients 1 4
    python benchmarks/server_load.py --url http://127.0.0.1:8080 --app-key KEY
    python benchmarks/server_load.py --set engines.local.model_dir=training/.cache/run2/onnx
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

FORMULAS = (
    r"x^2+y^2=z^2",
    r"\frac{a+b}{c}",
    r"\sqrt{x+1}",
    r"\sum_{i=1}^{n} i",
    r"e^{i\pi}+1=0",
    r"\int_0^1 x\,dx",
    r"\alpha\beta\gamma",
    r"f(x)=\sin x",
)


def render_formula(tex: str, dpi: int = 200) -> bytes:
    """A PNG of ``tex`` rendered with matplotlib mathtext in Computer Modern."""
    import matplotlib
    from matplotlib import mathtext

    buf = io.BytesIO()
    with matplotlib.rc_context({"mathtext.fontset": "cm"}):
        mathtext.math_to_image(f"${tex}$", buf, dpi=dpi, format="png")
    return buf.getvalue()


def images() -> list[str]:
    return [
        "data:image/png;base64," + base64.b64encode(render_formula(t)).decode() for t in FORMULAS
    ]


@dataclass
class Run:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_ids: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


async def client_loop(
    client: httpx.AsyncClient, srcs: list[str], offset: int, deadline: float, run: Run
) -> None:
    i = offset
    while time.perf_counter() < deadline:
        src = srcs[i % len(srcs)]
        i += 1
        start = time.perf_counter()
        try:
            r = await client.post("/v3/text", json={"src": src, "formats": ["text"]})
            body = r.json()
            error = body.get("error_info", {}).get("id") if r.status_code == 200 else None
            if r.status_code != 200:
                error = f"http_{r.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        elapsed = time.perf_counter() - start
        if error:
            run.errors += 1
            run.error_ids[error] = run.error_ids.get(error, 0) + 1
        else:
            run.latencies.append(elapsed)


async def measure(url: str, headers: dict[str, str], clients: int, seconds: float) -> Run:
    srcs = images()
    run = Run(clients, seconds)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=limits, trust_env=False
    ) as client:
        # warm up: one request per client (model caches, connections)
        await asyncio.gather(*(client.post("/v3/text", json={"src": s}) for s in srcs[:clients]))
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(client_loop(client, srcs, k, deadline, run) for k in range(clients)))
    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "scipix",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--set",
        f"data_dir={data_dir}",
        "--set",
        "server.rate_limit.enabled=false",
        "--set",
        f"cache.enabled={'true' if args.with_cache else 'false'}",
    ]
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    for pair in args.set or ():
        cmd += ["--set", pair]
    if args.engine:
        cmd += ["--engine", args.engine]
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited:\n" + (data_dir / "server.log").read_text())
        try:
            if httpx.get(url + "/health", timeout=1, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start in time")


def table(runs: list[Run]) -> str:
    lines = [
        "| clients | requests | req/s | req/min | p50 (ms) | p99 (ms) | errors |",
        "|--------:|---------:|------:|--------:|---------:|---------:|-------:|",
    ]
    for r in runs:
        rps = len(r.latencies) / r.seconds
        errors = str(r.errors)
        if r.error_ids:
            errors += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(r.error_ids.items())) + ")"
        lines.append(
            f"| {r.clients} | {r.requests} | {rps:.1f} | {rps * 60:.0f} | "
            f"{r.percentile(50) * 1000:.0f} | {r.percentile(99) * 1000:.0f} | {errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure this running server instead of starting one")
    parser.add_argument("--app-id", default=os.environ.get("SCIPIX_BENCH_APP_ID", ""))
    parser.add_argument("--app-key", default=os.environ.get("SCIPIX_BENCH_APP_KEY", ""))
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0, help="per client count")
    parser.add_argument("--engine", help="engine for the started server (default: config)")
    parser.add_argument("--workers", type=int, help="worker threads of the started server")
    parser.add_argument("--with-cache", action="store_true", help="leave the cache on")
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="setting for the started server"
    )
    parser.add_argument("--startup-timeout", type=float, default=120.0)
    args = parser.parse_args()

    headers = {}
    if args.app_key:
        headers = {"app_id": args.app_id, "app_key": args.app_key}
    proc = None
    with tempfile.TemporaryDirectory(prefix="scipix-bench-") as tmp:
        try:
            if args.url:
                url = args.url.rstrip("/")
            else:
                proc, url = start_server(args, Path(tmp))
            health = httpx.get(url + "/health", timeout=5, trust_env=False).json()
            runs = [asyncio.run(measure(url, headers, n, args.seconds)) for n in args.clients]
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    print(
        f"Server load on loopback: engine `{health.get('engine')}`, "
        f"{health.get('workers')} worker thread(s), {os.cpu_count()} CPU(s) "
        f"({platform.processor() or platform.machine()}), {args.seconds:g} s per row, "
        f"{len(FORMULAS)} small rendered formulas posted to /v3/text as data URLs, "
        f"cache {'on' if args.with_cache else 'off'}, clients on the same machine.\n"
    )
    print(table(runs))


if __name__ == "__main__":
    main()
