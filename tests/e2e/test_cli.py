"""The ``fengqiao`` command line: help, the demo generator on SQLite and PostgreSQL, and
``policy show``."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from random import Random

import pytest

from api.cli.main import main, to_toml
from api.demo.data import id_number
from api.demo.load import demo_case_id
from api.wiring.settings import Settings, new_cipher_key
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from domain.status import Status
from tests.support import backends

SEED = 7
CASES = 30


def _sqlite(tmp_path: Path) -> dict[str, str]:
    return {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}


def _demo(environ: Mapping[str, str], cases: int = CASES) -> int:
    return main(["demo", "--cases", str(cases), "--seed", str(SEED)], environ=environ)


def _open(environ: Mapping[str, str]) -> FengqiaoApplication:
    """A second application on the store the command wrote, to read it back."""
    return FengqiaoApplication(env=Settings.from_env(environ).event_store_env())


def _demo_cases(app: FengqiaoApplication, cases: int = CASES) -> list[Case]:
    return [app.get_case(demo_case_id(SEED, index)) for index in range(cases)]


def test_help_lists_every_command_with_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: fengqiao" in out
    assert "demo" in out
    assert "generate a realistic case load" in out
    assert "policy" in out
    assert "show the effective policy" in out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"], environ={}) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_the_demo_leaves_cases_in_many_states_some_escalated_for_being_overdue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _demo(_sqlite(tmp_path)) == 0
    out = capsys.readouterr().out
    for heading in ("cases by status", "cases by level", "cases by owning tier", "events/s"):
        assert heading in out
    app = _open(_sqlite(tmp_path))
    try:
        cases = _demo_cases(app)
    finally:
        app.close()
    statuses = {case.status for case in cases}
    assert len(statuses) >= 4
    assert Status.CLOSED in statuses
    assert any(case.overdue_floor is not None for case in cases), "no case escalated as overdue"
    assert {case.kind for case in cases} == {"dispute", "incident"}


def test_every_demo_case_was_told_in_time_order_and_none_in_the_future(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _demo(_sqlite(tmp_path)) == 0
    finished = datetime.now(UTC)
    app = _open(_sqlite(tmp_path))
    try:
        for index in range(CASES):
            stored = app.recorder.select_events(demo_case_id(SEED, index))
            times = [app.mapper.to_domain_event(event).timestamp for event in stored]
            assert times == sorted(times)
            assert times[-1] <= finished
    finally:
        app.close()


def test_running_the_demo_twice_with_one_seed_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _demo(_sqlite(tmp_path), cases=10) == 0
    app = _open(_sqlite(tmp_path))
    try:
        before = app.recorder.max_notification_id()
        assert _demo(_sqlite(tmp_path), cases=10) == 0
        assert app.recorder.max_notification_id() == before
    finally:
        app.close()
    assert re.search(r"cases created\W+0\b", capsys.readouterr().out)


def test_demo_with_no_cases_loads_only_the_sample_jurisdiction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--cases", "0"], environ=_sqlite(tmp_path)) == 0
    app = _open(_sqlite(tmp_path))
    try:
        assert len(app.units().units) == 100
        notifications = app.recorder.select_notifications(1, 1000)
    finally:
        app.close()
    topics = {n.topic.split(":")[0] for n in notifications}
    assert topics == {"domain.jurisdiction", "domain.policy_book"}


@pytest.mark.postgres
def test_the_demo_runs_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    with backends.postgres_schema() as schema:
        environ = {
            "FENGQIAO_DATABASE_URL": backends.test_database_url() + f"?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
        }
        assert _demo(environ, cases=12) == 0
        assert "postgres" in capsys.readouterr().out
        app = _open(environ)
        try:
            cases = _demo_cases(app, 12)
        finally:
            app.close()
    assert len({case.status for case in cases}) >= 2


def test_a_bad_setting_is_one_line_on_stderr_and_exit_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _demo({"FENGQIAO_DATABASE_URL": "mysql://root@localhost/fengqiao"}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "FENGQIAO_DATABASE_URL" in err


def test_policy_show_prints_the_default_policy_as_toml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["policy", "show"], environ=_sqlite(tmp_path)) == 0
    assert tomllib.loads(capsys.readouterr().out) == policy_to_document(Policy())


def test_policy_show_prints_an_operators_policy_file_over_the_defaults(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        'version = "leshan-2027"\nholidays = ["2027-02-18"]\n'
        '[clocks.yellow.village]\nresolve = "5wd"\n',
        encoding="utf-8",
    )
    environ = {**_sqlite(tmp_path), "FENGQIAO_POLICY": str(path)}
    assert main(["policy", "show"], environ=environ) == 0
    shown = tomllib.loads(capsys.readouterr().out)
    assert shown["clocks"]["yellow"]["village"]["resolve"] == "5wd"
    assert policy_from_document(shown) == Settings.from_env(environ).load_policy()


def test_a_policy_file_that_breaks_the_rules_is_refused_with_exit_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('version = "x"\n[rework]\ndue_after = "soon"\n', encoding="utf-8")
    environ = {**_sqlite(tmp_path), "FENGQIAO_POLICY": str(path)}
    assert main(["policy", "show"], environ=environ) == 2
    assert "rework.due_after" in capsys.readouterr().err


def test_toml_quotes_what_needs_quoting() -> None:
    document = {"a b": 'say "hi"\n', "flag": True, "n": 3, "t": {"empty": {}, "list": [1, 2]}}
    assert tomllib.loads(to_toml(document)) == document


def test_demo_id_numbers_carry_a_valid_check_digit() -> None:
    rng = Random(1)
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for _ in range(50):
        number = id_number(rng, "511123001001")
        total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
        assert len(number) == 18
        assert number.startswith("511123")
        assert number[17] == "10X98765432"[total % 11]
