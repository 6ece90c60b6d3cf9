"""Running the real ``fengqiao`` command in tests: a free loopback port, the installed
script, and an environment that carries none of the caller's FENGQIAO_ settings."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path


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
    return [found] if found else [sys.executable, "-m", "api.cli"]


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env["FENGQIAO_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env
