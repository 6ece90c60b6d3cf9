"""The import contracts in pyproject.toml hold, and each one would catch a breach.

The contracts are the architecture's documentation: imports point inward (api → scheduler →
projections → domain); the domain knows no web framework, wire format, SQL driver or job
scheduler; the case aggregate's parts are private to ``domain.case``; read models know no web
framework; and ``api`` is split by who runs it (``cli`` over ``http`` and ``demo``, all over
``wiring``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "api", "projections", "scheduler")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(command), "--no-cache"], cwd=root, capture_output=True, text=True, check=False
    )


def contracts() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def test_imports_point_inward() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


# A probe module that breaks one contract each: (where it goes, what it imports, which contract).
PROBES = [
    ("projections/probe.py", "import scheduler.lock", "Layers point inward"),
    ("domain/probe.py", "import litestar", "The domain knows no web framework"),
    ("projections/probe.py", "from domain.case._state import text", "parts are private"),
    ("scheduler/probe.py", "import msgspec", "Read models and the scheduler know no web"),
    ("api/wiring/probe.py", "import api.http.app", "api is split by who runs it"),
    ("api/demo/probe.py", "import api.http.schemas", "api is split by who runs it"),
]


@pytest.mark.parametrize(("where", "statement", "contract"), PROBES)
def test_a_probe_import_breaks_its_contract(
    tmp_path: Path, where: str, statement: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / where).write_text(f"{statement}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = [name for name in contracts() if f"{name} BROKEN" in result.stdout]
    assert len(broken) == 1, result.stdout
    assert contract in broken[0]
