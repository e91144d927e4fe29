"""A real ``inclusive-routing serve`` process for tests (gunicorn workers, free port)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # a hang guard, not a timing
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def serve_command() -> list[str]:
    """The command line tool (the console script, or ``python -m server.cli``)."""
    script = Path(sys.executable).with_name("inclusive-routing")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "server.cli"]


@contextmanager
def serving(args: list[str], log_path: Path) -> Iterator[tuple[str, Path]]:
    """Run ``inclusive-routing serve *args`` on a free port until /health answers.

    Yields the base URL and the server log's path; stops the server (by its pid) afterwards.
    """
    port = free_port()
    command = [*serve_command(), "serve", *args, "--host", "127.0.0.1", "--port", str(port),
               "--threads", "8", "--max-waiting", "1", "--workers", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = log_path.open("w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                get_json(base + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"serve did not answer /health in 60 s:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield base, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
