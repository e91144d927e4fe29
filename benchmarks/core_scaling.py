"""Like-for-like core scaling: the same code and graph served with 1 and with 2 workers.

Starts ``inclusive-routing serve`` (this checkout, or other checkouts given with
``--checkout``) once per configuration on a free loopback port, waits for ``/health``,
warms it up, runs :mod:`loadtest` against it, stops it, and moves to the next. The
configurations are interleaved (1, 2, 1, 2, ...) so that a change in the machine's load
hits both alike; the 1-minute load average is recorded around every run.

    python benchmarks/core_scaling.py                                   # workers 1 vs 2
    python benchmarks/core_scaling.py --concurrency 4 8 --repeats 3
    python benchmarks/core_scaling.py --rate 200 --duration 60 --workers 2 \\
        --checkout /tmp/before                                          # before vs after
    python benchmarks/core_scaling.py --workers 2 \\
        --command 'c93796e=cd /tmp/c93796e && python -m server.cli serve --port {port}'

Prints one JSON line per run, then a summary: per configuration the median and min of the
served routes per second (goodput), and the median goodput's ratio to the first
configuration's. Everything stays on this machine; every run is bounded by ``loadtest``'s
own limits.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass(frozen=True)
class Config:
    """One server to measure: a label and how to start it on a port."""

    label: str
    argv: list[str] | None = None  # run in ``cwd`` with ``env`` (a checkout's serve)
    shell: str | None = None  # a shell command with ``{port}`` (any other server)
    cwd: Path | None = None

    def start(self, port: int, log: Path) -> subprocess.Popen:
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               # Every checkout reads this checkout's data (and its cache folder).
               "INCLUSIVE_ROUTING_DATA": os.environ.get("INCLUSIVE_ROUTING_DATA",
                                                        str(REPO / "data"))}  # fmt: skip
        out = log.open("w")
        if self.shell is not None:
            command = ["bash", "-c", self.shell.format(port=port)]
        else:
            assert self.argv is not None
            command = [*self.argv, "--port", str(port)]
            env["PYTHONPATH"] = str(self.cwd)
        # A session of its own, so that stopping it stops its workers too.
        return subprocess.Popen(command, cwd=self.cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def serve_config(checkout: Path, workers: int, threads: int | None) -> Config:
    argv = [sys.executable, "-m", "server.cli", "serve", "--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    name = "" if checkout == REPO else f"{checkout.name}, "
    return Config(label=f"{name}{workers} worker(s)", argv=argv, cwd=checkout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc: subprocess.Popen, port: int, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; its log:\n"
                             f"{log.read_text()[-3000:]}")  # fmt: skip
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                stop(proc)
                raise SystemExit(f"no /health answer in {timeout_s:g} s; log: {log}") from None
            time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def load(port: int, mode: list[str], duration: float) -> dict:
    command = [sys.executable, str(HERE / "loadtest.py"), "--url", f"http://127.0.0.1:{port}",
               *mode, "--duration", str(duration)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=None,
                        help="--threads for serve (default: serve's)")  # fmt: skip
    parser.add_argument("--checkout", type=Path, action="append", default=[],
                        help="also serve from this checkout of the project (repeatable)")
    parser.add_argument("--no-self", action="store_true",
                        help="do not serve this checkout (only --checkout/--command)")
    parser.add_argument("--command", action="append", default=[], metavar="LABEL=COMMAND",
                        help="also measure a server started by this shell command, which "
                             "must listen on {port} (repeatable)")  # fmt: skip
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--concurrency", type=int, nargs="+", default=None,
                      help="closed loop: connections (default 8)")  # fmt: skip
    mode.add_argument("--rate", type=float, help="open loop: requests per second")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not counted")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--start-timeout", type=float, default=600.0)
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp"))
    args = parser.parse_args(argv)
    # Stopped (SIGTERM): unwind, so that the server being measured is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    configs: list[Config] = []
    for checkout in ([] if args.no_self else [REPO]) + [c.resolve() for c in args.checkout]:
        configs += [serve_config(checkout, n, args.threads) for n in args.workers]
    for item in args.command:
        label, _, shell = item.partition("=")
        configs.append(Config(label=label, shell=shell))
    modes = ([["--rate", f"{args.rate:g}"]] if args.rate else
             [["--concurrency", str(c)] for c in args.concurrency or [8]])  # fmt: skip

    args.log_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    for repeat in range(args.repeats):
        for config in configs:
            port = free_port()
            log = args.log_dir / f"core-scaling-{port}.log"
            proc = config.start(port, log)
            try:
                wait_ready(proc, port, log, args.start_timeout)
                for mode in modes:
                    if args.warmup:
                        load(port, mode, args.warmup)
                    before = os.getloadavg()[0]
                    result = load(port, mode, args.duration)
                    run = {"config": config.label, "mode": " ".join(mode), "repeat": repeat,
                           "load_before": round(before, 2),
                           "load_after": round(os.getloadavg()[0], 2),
                           "goodput_rps": result["goodput_rps"],
                           "by_status": result["by_status"], "failures": result["failures"],
                           "ok_ms": result["ok_ms"], "shed_503_ms": result["shed_503_ms"]}
                    runs.append(run)
                    print(json.dumps(run), flush=True)
            finally:
                stop(proc)

    print("\nsummary (served routes per second):")
    for mode in modes:
        name = " ".join(mode)
        base = None
        for config in configs:
            values = [r["goodput_rps"] for r in runs
                      if r["config"] == config.label and r["mode"] == name]  # fmt: skip
            median = statistics.median(values)
            base = median if base is None else base
            ratio = median / base if base else float("nan")
            print(f"  {name:>16} {config.label:>28}: median {median:7.1f}, min "
                  f"{min(values):7.1f} ({len(values)} runs), x{ratio:.2f} of "
                  f"{configs[0].label}")  # fmt: skip
    loads = [r["load_before"] for r in runs] + [r["load_after"] for r in runs]
    print(f"  load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores; command: {shlex.join(sys.argv)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
