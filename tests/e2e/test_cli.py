"""The ``fengqiao`` command line: help, the demo generator on SQLite and PostgreSQL, and
``policy show``."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from uuid import UUID

import pytest

from api.cli.main import main, to_toml
from api.demo.data import id_number
from api.demo.load import demo_case_id
from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from domain.actors import Role
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from domain.samples import sample_staff, sample_units
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
    out = " ".join(capsys.readouterr().out.split())  # however argparse wraps the columns
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


def test_demo_with_no_cases_loads_only_the_sample_jurisdiction_and_staff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--cases", "0"], environ=_sqlite(tmp_path)) == 0
    app = _open(_sqlite(tmp_path))
    try:
        assert len(app.units().units) == 100
        staff = sample_staff(sample_units())
        assert sorted(app.directory().members) == sorted(member.user for member in staff)
        notifications = app.recorder.select_notifications(1, 1000)
    finally:
        app.close()
    topics = {n.topic.split(":")[0] for n in notifications}
    assert topics == {"domain.jurisdiction", "domain.policy_book", "domain.directory"}
    assert re.search(rf"sample staff enrolled\W+{len(staff)}\b", capsys.readouterr().out)


def test_every_demo_assignment_is_to_a_sample_mediator_of_the_owning_unit(
    tmp_path: Path,
) -> None:
    assert _demo(_sqlite(tmp_path)) == 0
    app = _open(_sqlite(tmp_path))
    try:
        staff = app.directory()
        assigned = 0
        for index in range(CASES):
            for event in app.repository.event_store.get(demo_case_id(SEED, index)):
                if type(event).__name__ == "Assigned":
                    assigned += 1
                    member = staff.member(event.assignee)
                    assert member.acts_as(Role.MEDIATOR)
                    owner = app.get_case(event.originator_id, event.originator_version).owner
                    assert member.unit == owner
    finally:
        app.close()
    assert assigned >= CASES // 2


@pytest.mark.postgres
def test_the_demo_runs_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    with backends.postgres_schema() as schema:
        environ = {
            "FENGQIAO_DATABASE_URL": backends.test_database_url() + f"?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
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


# --- reading the views: units by name, times in Beijing time, refusals ---------------------

CITY = "511100"  # 乐山市: the whole sample jurisdiction, so the demo's open cases are all in it
CASE_NUMBER = re.compile(r"（\d{4}）\S+?[调事]字第\d{4}号")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WIDE = "250"  # columns for rich: ids and names are not cut in the captured output


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    environ = _sqlite(tmp_path_factory.mktemp("cli-reads"))
    assert _demo(environ) == 0
    return environ


@pytest.fixture(scope="module")
def units_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    environ = _sqlite(tmp_path_factory.mktemp("cli-units"))
    assert main(["demo", "--cases", "0"], environ=environ) == 0
    return environ


def test_queue_shows_each_case_by_number_and_id_and_its_owner_by_name(
    demo_store: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", WIDE)
    capsys.readouterr()
    assert main(["queue", CITY], environ=demo_store) == 0
    out = capsys.readouterr().out
    assert "escalation queue 511100 乐山市" in out
    assert "due (北京时间)" in out
    numbers, ids = CASE_NUMBER.findall(out), UUID_TEXT.findall(out)
    assert numbers, out
    assert len(numbers) == len(ids)
    app = _open(demo_store)
    try:  # each row's number is its case's (the demo's stories and its township's alike)
        assert [app.get_case(UUID(case_id)).number for case_id in ids] == numbers
    finally:
        app.close()
    names = {unit.code: unit.name for unit in sample_units()}
    owners = re.findall(r"│ (5111\d{2,10}) (\S+)", out)
    assert owners, out
    assert all(names[code] == name for code, name in owners), owners


def test_queue_judges_deadlines_at_a_time_given_in_any_offset_and_prints_it_in_beijing_time(
    demo_store: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", WIDE)
    for at in ("2026-12-02T09:00:00+08:00", "2026-12-02T01:00:00Z"):
        capsys.readouterr()
        assert main(["queue", CITY, "--at", at, "--limit", "3"], environ=demo_store) == 0
        assert "at 2026-12-02 09:00 (北京时间)" in capsys.readouterr().out, at


def test_stats_names_the_unit_each_child_and_the_period_in_beijing_time(
    demo_store: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", WIDE)
    capsys.readouterr()
    argv = ["stats", CITY, "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main(argv, environ=demo_store) == 0
    out = capsys.readouterr().out
    assert "statistics of 511100 乐山市, 2026-11-01 to 2026-11-30 (北京时间, whole days)" in out
    for unit in sample_units():
        if unit.parent == CITY:
            assert f"{unit.code} {unit.name}" in out, unit


def test_sweep_prints_its_times_in_beijing_time(
    units_only: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", WIDE)
    capsys.readouterr()
    assert main(["sweep", "--once"], environ=units_only) == 0
    out = capsys.readouterr().out
    assert re.search(r"sweep at \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(北京时间\)", out), out
    assert "UTC" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["queue", "511199"],
        ["stats", "511199"],
        ["export", "--unit", "511199", "--out", "{out}"],
    ],
    ids=["queue", "stats", "export"],
)
def test_an_unknown_unit_exits_2_naming_it(
    units_only: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
) -> None:
    capsys.readouterr()
    argv = [arg.format(out=tmp_path / "audit.jsonl") for arg in argv]
    assert main(argv, environ=units_only) == 2
    captured = capsys.readouterr()
    assert "no unit has code '511199'" in captured.err
    assert captured.err.count("\n") == 1
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["stats", CITY, "--from", "2026-11-30", "--to", "2026-11-01"],
            "the period is reversed: --from 2026-11-30 is after --to 2026-11-01",
        ),
        (
            ["export", "--from", "2026-11-30", "--to", "2026-11-01", "--out", "{out}"],
            "the period is empty or reversed: --from 2026-11-30 is not before --to 2026-11-01",
        ),
    ],
    ids=["stats", "export"],
)
def test_a_reversed_period_exits_2_saying_so(
    units_only: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    capsys.readouterr()
    out = tmp_path / "audit.jsonl"
    assert main([arg.format(out=out) for arg in argv], environ=units_only) == 2
    captured = capsys.readouterr()
    assert captured.err == f"fengqiao: {message}\n"
    assert not out.exists()


def test_stats_refuses_a_period_the_api_would_refuse(
    units_only: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["stats", CITY, "--from", "1990-01-01"], environ=units_only) == 2
    assert capsys.readouterr().err.startswith("fengqiao: --from: must lie between 2000-01-01")
