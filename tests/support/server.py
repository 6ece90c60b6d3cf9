"""Running the real ``fengqiao`` command in tests: a free loopback port, the installed
script, and an environment that carries none of the caller's FENGQIAO_ settings."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


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


@dataclass
class Served:
    """A running ``fengqiao serve`` subprocess, its log and its base URL."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str

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
