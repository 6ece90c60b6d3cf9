"""The demo's featured township (``api.demo.grassroots``), read through the API as its
supervisor would: which villages screened, the family's third quarrel linked to the first two,
the key person whose visit is overdue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from api.cli.main import main
from api.demo.grassroots import FINDS, SILENT, TOWNSHIP, ZERO
from api.http.app import create_app
from api.http.runtime import build_runtime
from api.wiring.settings import Settings
from tests.support.api import API, SECRET, auth

SUPERVISOR = f"supervisor-{TOWNSHIP}"


def _get(http: TestClient[Any], path: str, **params: Any) -> Any:
    answer = http.get(
        f"{API}{path}", params=params, headers=auth("supervisor", TOWNSHIP, SUPERVISOR)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_demo_township_shows_its_screening_its_repeat_family_and_its_key_person(
    tmp_path: Path,
) -> None:
    environ = {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}
    assert main(["demo", "--cases", "5"], environ=environ) == 0
    assert main(["demo", "--cases", "5"], environ=environ) == 0  # a second run adds nothing
    runtime = build_runtime(Settings.from_env(environ), SECRET, scheduler=False)
    with TestClient(app=create_app(runtime), raise_server_exceptions=False) as http:
        grid = _get(http, "/screening/completion", unit=TOWNSHIP, periods=3)
        past = [i for i, due in enumerate(grid["due"]) if due < grid["now"]]
        assert past, "at least one period of the demo's 90 days has fallen due"
        states = {row["village"]: [row["cells"][i]["state"] for i in past] for row in grid["rows"]}
        assert set(states[FINDS]) == {"filed"}
        assert set(states[ZERO]) == {"zero"}
        assert states[SILENT][-1] == "missed"

        cases = _get(http, "/cases", unit=TOWNSHIP, limit=500)
        items = cases["items"] if isinstance(cases, dict) else cases
        quarrels = sorted(
            (c for c in items if "李国华与赵春梅" in c["summary"]), key=lambda c: c["number"]
        )
        assert len(quarrels) == 3
        third = _get(http, f"/cases/{quarrels[-1]['id']}")
        assert [e["id"] for e in third["repeat_of"]] == [c["id"] for c in quarrels[:2]]
        assert third["risk_triggers"] == ["repeat"]
        assert third["suggested_level"] == "orange"
        first = _get(http, f"/cases/{quarrels[0]['id']}")
        assert [e["id"] for e in first["repeated_by"]] == [c["id"] for c in quarrels[1:]]

        people = _get(http, "/key-persons", unit=TOWNSHIP, state="visit_overdue")
        listed = people["items"] if isinstance(people, dict) else people
        assert len(listed) == 1
        assert "建国" not in str(listed[0]), "the list shows the name masked"
        raised = [c for c in items if c.get("key_person")]
        assert len(raised) == 1
        assert raised[0]["level"] == "orange"
