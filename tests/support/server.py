"""Running the real ``fengqiao`` command in tests: a free loopback port, the installed
script, an environment that carries none of the caller's FENGQIAO_ settings, and one way to
serve it (``serving``) for every test that needs a real server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

START_TIMEOUT = 90.0  # seconds for a demo load and the server to come up
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fengqiao() -> list[str]:
    """The installed ``fengqiao`` script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("fengqiao")
    if script.exists():
        return [str(script)]
    found = shutil.which("fengqiao")
    return [found] if found else [sys.executable, "-m", "api.cli.main"]


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env["FENGQIAO_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def load_jurisdiction(env: dict[str, str]) -> None:
    """``fengqiao demo --cases 0`` on the store ``env`` names: the sample jurisdiction, no
    cases; fails the test with the command's output if it fails."""
    done = subprocess.run(
        [*fengqiao(), "demo", "--cases", "0"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


@dataclass
class Served:
    """A running ``fengqiao serve`` subprocess, its log and its base URL."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str
    data_dir: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_healthy(self, timeout: float) -> None:
        """Until ``/health`` answers; fails with the server's output if it dies or is slow."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"serve was not healthy within {timeout} s:\n{self.output()}")

    def stop(self, graceful: bool, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM and a wait (then a kill) when ``graceful``; else killed at once."""
        if self.process.poll() is not None:
            return
        if graceful:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                pass
        self.process.kill()
        self.process.wait(timeout)


S = TypeVar("S", bound=Served)


@contextmanager
def serving(
    env: dict[str, str],
    log: Path,
    *args: str,
    kind: type[S] = Served,  # type: ignore[assignment]  # (a TypeVar default)
    start_timeout: float = START_TIMEOUT,
    graceful: bool = False,
) -> Iterator[S]:
    """``fengqiao serve ARGS`` on a free loopback port with ``env`` (its FENGQIAO_DATA_DIR is
    the server's data), output to ``log``; healthy before the block, stopped after it."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*fengqiao(), "serve", *args, "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = kind(process, log, f"http://127.0.0.1:{port}", Path(env["FENGQIAO_DATA_DIR"]))
    try:
        served.wait_until_healthy(start_timeout)
        yield served
    finally:
        served.stop(graceful)
