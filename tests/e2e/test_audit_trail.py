"""The audit trail (docs/design.md, docs/audit-format.md): `fengqiao export` writes a hash-
chained file that `fengqiao verify` proves complete and unaltered, and names the first line
that is not.

Exports come from `fengqiao demo` stores on SQLite and PostgreSQL, through the command line as
an operator runs it. Each tampering below is one an auditor could meet: a changed byte, a
deleted, swapped or duplicated line, a cut file, something appended, a forged manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from api.cli.main import main
from api.demo.load import demo_case_id
from api.http.app import create_app
from api.http.routes.audit import _stream
from api.http.runtime import build_runtime
from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from api.wiring.views import build_views
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Case, Registration
from domain.case.commands import ResolveCase
from domain.status import AgreementForm, Channel
from projections.audit_export import ExportFilter, export_log
from projections.audit_trail import GENESIS, ChainWriter
from scheduler.signing import SigningKey, public_pem
from tests.support import backends
from tests.support.api import API, SECRET, auth
from tests.support.builders import drive
from tests.support.staff import enrol, member
from tests.support.world import MEDIATOR

DEMO_CASES = 20
DEMO_SEED = 2026  # the demo's default seed: `fengqiao demo --cases 20` as an operator runs it

Tamper = Callable[[list[bytes]], list[bytes]]


@dataclass
class DemoStore:
    """A `fengqiao demo` store and the environment the command line reaches it with."""

    environ: dict[str, str]
    workdir: Path

    def export(self, name: str, *args: str) -> Path:
        out = self.workdir / name
        assert main(["export", *args, "--out", str(out)], environ=self.environ) == 0
        return out

    def open(self) -> FengqiaoApplication:
        return FengqiaoApplication(env=Settings.from_env(self.environ).event_store_env())

    def cases(self) -> list[Case]:
        app = self.open()
        try:
            return [app.get_case(demo_case_id(DEMO_SEED, i)) for i in range(DEMO_CASES)]
        finally:
            app.close()

    def head(self) -> int:
        app = self.open()
        try:
            return app.recorder.max_notification_id() or 0
        finally:
            app.close()


def _demo(environ: Mapping[str, str]) -> None:
    assert main(["demo", "--cases", str(DEMO_CASES)], environ=environ) == 0


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    workdir = tmp_path_factory.mktemp("audit-sqlite")
    environ = {"FENGQIAO_DATA_DIR": str(workdir / "data")}
    _demo(environ)
    return DemoStore(environ, workdir)


@pytest.fixture(scope="module")
def postgres_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStore]:
    with backends.postgres_schema() as schema:
        environ = {
            "FENGQIAO_DATABASE_URL": f"{backends.test_database_url()}?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
        }
        _demo(environ)
        yield DemoStore(environ, tmp_path_factory.mktemp("audit-postgres"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo_store(request: pytest.FixtureRequest) -> DemoStore:
    store: DemoStore = request.getfixturevalue(f"{request.param}_store")
    return store


@pytest.fixture(scope="module")
def exported(sqlite_store: DemoStore) -> Path:
    """One whole-log JSON Lines export, for the tampering tests to copy and damage."""
    return sqlite_store.export("pristine.jsonl")


@pytest.fixture(scope="module")
def exported_csv(sqlite_store: DemoStore) -> Path:
    return sqlite_store.export("pristine.csv", "--format", "csv")


def verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`fengqiao verify FILE`: its exit status and its one line of output."""
    capsys.readouterr()
    status = main(["verify", str(path)], environ={})
    return status, capsys.readouterr().out.strip()


def records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines export (the manifest left out)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:-1]]


def manifest(path: Path) -> dict[str, Any]:
    last = path.read_text(encoding="utf-8").splitlines()[-1]
    found: dict[str, Any] = json.loads(last)["manifest"]
    return found


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return [row for row in csv.DictReader(file) if row["seq"] != "manifest"]


# --- intact files verify ------------------------------------------------------------------


@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_a_fresh_export_of_the_whole_log_verifies(
    demo_store: DemoStore, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = demo_store.export(f"whole.{form}", "--format", form)
    # the export's own access record is its last event; after it the log holds the head
    # signed for it and its seal
    head = demo_store.head() - 2
    status, message = verify(out, capsys)
    assert status == 0, message
    assert message.startswith(f"verified {head} records, each in the tree of "), message
    assert message.endswith("the head's signature was not checked (no --key)")
    if form == "jsonl":
        positions = [r["position"] for r in records(out)]
        assert manifest(out)["count"] == head
        assert manifest(out)["last_position"] == head
    else:
        positions = [int(r["position"]) for r in csv_records(out)]
    assert positions == list(range(1, head + 1)), "every event, in log order"


def test_every_record_carries_actor_time_version_and_masked_payload(exported: Path) -> None:
    registered = [r for r in records(exported) if r["event_type"].endswith(".Registered")]
    assert len(registered) >= DEMO_CASES
    for record in registered:
        assert record["actor"]
        assert record["role"]
        assert record["unit"]
        assert record["case_version"] == 1
        moment = datetime.fromisoformat(record["at_utc"])
        assert datetime.fromisoformat(record["at_local"]) == moment
        assert record["at_local"].endswith("+08:00")
        for person in record["payload"]["parties"]:
            for field in ("id_number", "phone"):
                if person.get(field):
                    assert re.fullmatch(r"\w{3}\*+\w{4}", person[field]), person[field]


# --- tampering ----------------------------------------------------------------------------

LINE = 10  # the line the tampering below works on (record 10 in a JSON Lines file)


def _flip(line: bytes, member: str) -> bytes:
    """One byte changed a little way into a JSON member's value."""
    start = line.index(b'"' + member.encode() + b'":') + len(member) + 3
    at = next(i for i in range(start + 3, len(line)) if chr(line[i]).isalnum())
    changed = b"0" if line[at : at + 1] != b"0" else b"1"
    return line[:at] + changed + line[at + 1 :]


def _changed(member: str) -> Tamper:
    def tamper(lines: list[bytes]) -> list[bytes]:
        lines[LINE - 1] = _flip(lines[LINE - 1], member)
        return lines

    return tamper


def _deleted(lines: list[bytes]) -> list[bytes]:
    del lines[LINE - 1]
    return lines


def _swapped(lines: list[bytes]) -> list[bytes]:
    lines[LINE - 1], lines[LINE] = lines[LINE], lines[LINE - 1]
    return lines


def _duplicated(lines: list[bytes]) -> list[bytes]:
    lines.insert(LINE, lines[LINE - 1])
    return lines


def _cut_mid_line(lines: list[bytes]) -> list[bytes]:
    return [*lines[: LINE - 1], lines[LINE - 1][:40]]


def _cut_at_line_end(lines: list[bytes]) -> list[bytes]:
    return lines[:LINE]


def _appended(lines: list[bytes]) -> list[bytes]:
    return [*lines, lines[LINE - 1]]


def _count_altered(lines: list[bytes]) -> list[bytes]:
    lines[-1] = re.sub(rb'"count":(\d+)', rb'"count":1\1', lines[-1])
    return lines


def _rehash(line: bytes) -> bytes:
    """A line with its hash recomputed: a forger who read docs/audit-format.md."""
    body = re.sub(rb',"hash":"[0-9a-f]{64}"\}$', b"}", line)
    digest = hashlib.sha256(body).hexdigest().encode()
    return body[:-1] + b',"hash":"' + digest + b'"}'


def _count_forged(lines: list[bytes]) -> list[bytes]:
    lines[-1] = _rehash(re.sub(rb'"count":(\d+)', rb'"count":1\1', lines[-1]))
    return lines


def _record_forged(lines: list[bytes]) -> list[bytes]:
    lines[LINE - 1] = _rehash(_flip(lines[LINE - 1], "at_utc"))
    return lines


def _not_utf8(lines: list[bytes]) -> list[bytes]:
    line = lines[LINE - 1]
    at = line.index(b'"event_type":"') + 15
    lines[LINE - 1] = line[:at] + b"\xff" + line[at + 1 :]
    return lines


def _last_record_deleted(lines: list[bytes]) -> list[bytes]:
    del lines[-2]
    return lines


def _tampered(source: Path, target: Path, tamper: Tamper) -> Path:
    lines = source.read_bytes().split(b"\n")
    assert lines[-1] == b"", "an export ends with a line end"
    changed = tamper(lines[:-1])
    ends_whole = tamper not in (_cut_mid_line,)
    target.write_bytes(b"\n".join(changed) + (b"\n" if ends_whole else b""))
    return target


TAMPERINGS: dict[str, tuple[Tamper, str]] = {
    # name: (what is done, what verify must say)
    "a byte of a payload": (_changed("payload"), rf"^line {LINE} \(record {LINE}\) was changed"),
    "a byte of a hash": (_changed("hash"), rf"^line {LINE} \(record {LINE}\) was changed"),
    "a byte of a prev": (_changed("prev"), rf"^line {LINE} \(record {LINE}\) was changed"),
    "a byte that is not UTF-8": (_not_utf8, rf"^line {LINE} \(record {LINE}\) was changed"),
    "a deleted line": (
        _deleted,
        rf"^line {LINE} holds record {LINE + 1} where record {LINE} belongs",
    ),
    "two swapped lines": (
        _swapped,
        rf"^line {LINE} holds record {LINE + 1} where record {LINE} belongs",
    ),
    "a duplicated line": (_duplicated, rf"^line {LINE + 1} holds record {LINE} again"),
    "a record rehashed by a forger": (
        _record_forged,
        rf"^line {LINE + 1}: the chain breaks before record {LINE + 1}",
    ),
    "the last record deleted": (
        _last_record_deleted,
        r"^line (\d+) \(the manifest\) does not follow record (\d+)",
    ),
    "a cut mid-line": (_cut_mid_line, rf"^line {LINE} \(record {LINE}\) is cut short"),
    "a cut at a line end": (
        _cut_at_line_end,
        rf"^the file ends after line {LINE} \(record {LINE}\) with no manifest",
    ),
    "data after the manifest": (_appended, r"^line (\d+): data after the manifest"),
    "the manifest's count": (_count_altered, r"^line (\d+) \(the manifest\) was changed"),
    "the manifest's count, rehashed": (
        _count_forged,
        r"^line (\d+): the manifest counts 1(\d+) records, the file holds (\d+)",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_verify_names_the_first_line_that_is_not_intact(
    name: str, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, expected = TAMPERINGS[name]
    total = len(exported.read_bytes().split(b"\n")) - 1  # lines, the manifest included
    damaged = _tampered(exported, tmp_path / "damaged.jsonl", tamper)
    status, message = verify(damaged, capsys)
    assert status == 1, message
    found = re.search(expected, message)
    assert found is not None, f"{name}: {message!r} does not match {expected!r}"
    if name == "data after the manifest":
        assert found.group(1) == str(total + 1)
    if name == "the last record deleted":
        assert found.groups() == (str(total - 1), str(total - 2))
    if name.startswith("the manifest's count"):
        assert found.group(1) == str(total)


def test_verify_names_the_line_of_a_changed_csv_row(
    exported_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In CSV the header is line 1, so record n is on line n + 1."""
    rows = exported_csv.read_bytes().split(b"\n")
    changed = list(rows)
    payload = changed[LINE].index(b'"{')
    changed[LINE] = changed[LINE][: payload + 5] + b"X" + changed[LINE][payload + 6 :]
    (tmp_path / "changed.csv").write_bytes(b"\n".join(changed))
    status, message = verify(tmp_path / "changed.csv", capsys)
    assert status == 1
    assert message.startswith(f"line {LINE + 1} (record {LINE}) was changed"), message

    deleted = rows[:LINE] + rows[LINE + 1 :]
    (tmp_path / "deleted.csv").write_bytes(b"\n".join(deleted))
    status, message = verify(tmp_path / "deleted.csv", capsys)
    assert status == 1
    assert message.startswith(f"line {LINE + 1} holds record {LINE + 1} where record {LINE}")

    # a number written another way is a changed byte too, though it reads the same
    padded = list(rows)
    padded[LINE] = b"0" + padded[LINE]
    (tmp_path / "padded.csv").write_bytes(b"\n".join(padded))
    status, message = verify(tmp_path / "padded.csv", capsys)
    assert (status, message.split(" was")[0]) == (1, f"line {LINE + 1} (record {LINE})")

    # so is a payload re-spaced: the same JSON, not the same text
    spaced = list(rows)
    spaced[LINE] = spaced[LINE].replace(b'"":', b'"": ', 1)
    assert spaced[LINE] != rows[LINE]
    (tmp_path / "spaced.csv").write_bytes(b"\n".join(spaced))
    status, message = verify(tmp_path / "spaced.csv", capsys)
    assert (status, message.split(" was")[0]) == (1, f"line {LINE + 1} (record {LINE})")

    cut = exported_csv.read_bytes()[: exported_csv.read_bytes().index(rows[LINE]) + 120]
    (tmp_path / "cut.csv").write_bytes(cut)
    status, message = verify(tmp_path / "cut.csv", capsys)
    assert status == 1
    assert message.startswith(f"line {LINE + 1} (record {LINE}) is cut short"), message


def test_an_auditor_can_check_a_line_with_sed_and_sha256sum(exported: Path) -> None:
    """The recipe in docs/audit-format.md, run as written, on a plain record, on one holding
    Chinese text and on the manifest."""
    for tool in ("sed", "sha256sum", "tr", "grep"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    lines = exported.read_text(encoding="utf-8").splitlines()
    chinese = next(n for n, line in enumerate(lines, 1) if "邻里" in line or "纠纷" in line)
    for number in (3, chinese, len(lines)):
        recipe = (
            f"sed -n {number}p {exported.name} "
            "| sed -E 's/,\"hash\":\"[0-9a-f]{64}\"\\}$/}/' | tr -d '\\n' | sha256sum"
        )
        digest = _shell(recipe, exported.parent).split()[0]
        stated = _shell(
            f'sed -n {number}p {exported.name} | grep -o \'"hash":"[0-9a-f]*"\'',
            exported.parent,
        )
        assert stated.strip() == f'"hash":"{digest}"', number
        if number < len(lines):
            following = _shell(
                f'sed -n {number + 1}p {exported.name} | grep -o \'"prev":"[0-9a-f]*"\'',
                exported.parent,
            )
            assert following.strip() == f'"prev":"{digest}"'


def _shell(command: str, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    return done.stdout


# --- exports are audited ------------------------------------------------------------------


def _access_records(path: Path) -> list[dict[str, Any]]:
    return [r for r in records(path) if r["event_type"] == "AccessRecord.Recorded"]


def test_each_export_and_each_unmasking_shows_in_a_later_export(
    sqlite_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    case = sqlite_store.cases()[0]
    township = case.unit[:9]
    sqlite_store.export(
        "by-auditor.jsonl", "--unit", township, "--user", "auditor-7", "--reason", "年度检查"
    )
    # an unmasking over the HTTP API, on the same store (the production runtime), by a
    # supervisor of the owning unit enrolled for it
    app = sqlite_store.open()
    try:
        enrol(app, [member("supervisor-3", case.owner, Role.SUPERVISOR)])
    finally:
        app.close()
    settings = Settings.from_env(sqlite_store.environ)
    runtime = build_runtime(settings, SECRET, scheduler=False)
    with TestClient(app=create_app(runtime), raise_server_exceptions=False) as http:
        supervisor = auth("supervisor", case.owner, user="supervisor-3")
        answer = http.get(
            f"{API}/cases/{case.id}",
            params={"unmask": "true", "reason": "核实当事人身份"},
            headers=supervisor,
        )
        assert answer.status_code == 200, answer.text
        api_export = http.get(f"{API}/audit/export", headers=auth("auditor", case.unit[:6]))
        assert api_export.status_code == 200, api_export.text
    later = sqlite_store.export("later.jsonl")
    assert verify(later, capsys)[0] == 0

    access = _access_records(later)
    exports = [r for r in access if r["payload"]["kind"] == "export"]
    by_auditor = [r for r in exports if r["actor"] == "auditor-7"]
    assert len(by_auditor) == 1
    assert by_auditor[0]["payload"]["filter"] == {
        "unit": township,
        "from": None,
        "to": None,
        "case": None,
    }
    assert by_auditor[0]["payload"]["reason"] == "年度检查"
    assert by_auditor[0]["role"] == "admin"
    assert any(r["actor"] == f"auditor-{case.unit[:6]}" and r["role"] == "auditor" for r in exports)
    unmasked = [r for r in access if r["payload"]["kind"] == "unmask"]
    assert len(unmasked) == 1
    assert unmasked[0]["actor"] == "supervisor-3"
    assert unmasked[0]["role"] == "supervisor"
    assert unmasked[0]["payload"]["case_id"] == str(case.id)
    assert unmasked[0]["payload"]["reason"] == "核实当事人身份"
    assert unmasked[0]["payload"]["filter"] == {"fields": ["id_number", "phone", "address"]}
    # the auditor's HTTP export held the unmasking and the export before it, and itself
    streamed = [json.loads(line) for line in api_export.text.splitlines()[:-1]]
    positions = {r["position"] for r in streamed}
    assert {by_auditor[0]["position"], unmasked[0]["position"]} <= positions
    assert streamed[-1]["event_type"] == "AccessRecord.Recorded"
    assert streamed[-1]["actor"] == f"auditor-{case.unit[:6]}"
    # and every export includes its own record, last
    assert records(later)[-1]["payload"]["kind"] == "export"
    assert records(later)[-1]["actor"] == "fengqiao-operator"


# --- filters ------------------------------------------------------------------------------


def test_a_unit_export_holds_the_cases_located_in_its_subtree_and_no_other(
    sqlite_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = sqlite_store.cases()
    township = cases[0].unit[:9]
    inside = {str(c.id) for c in cases if c.unit.startswith(township)}
    outside = {str(c.id) for c in cases} - inside
    assert inside
    assert outside, "the demo should spread cases over several townships"
    out = sqlite_store.export("township.jsonl", "--unit", township)
    assert verify(out, capsys)[0] == 0
    app = sqlite_store.open()
    try:
        units = app.units()
        versions = {str(c.id): c.version for c in cases}
        case_records = [r for r in records(out) if r["case_id"] in versions]
        for record in case_records:
            assert units.is_within(record["unit"], township), record
        assert {r["case_id"] for r in case_records} == inside
        for case_id in inside:  # all of each case's events
            seen = [r["case_version"] for r in case_records if r["case_id"] == case_id]
            assert seen == list(range(1, versions[case_id] + 1))
        # access records filed under units outside are left out too
        for record in _access_records(out):
            assert units.is_within(record["unit"], township), record
    finally:
        app.close()
    assert manifest(out)["filter"]["unit"] == township


def test_a_period_export_holds_the_events_of_those_shanghai_days(
    sqlite_store: DemoStore, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    days = sorted(
        {r["at_local"][:10] for r in records(exported) if r["at_local"][:10] < today.isoformat()}
    )
    first, last = days[len(days) // 2], days[len(days) // 2 + 1]
    expected = {r["position"] for r in records(exported) if first <= r["at_local"][:10] <= last}
    out = sqlite_store.export("period.jsonl", "--from", first, "--to", last)
    assert verify(out, capsys)[0] == 0
    found = records(out)
    assert {r["position"] for r in found} == expected
    assert expected
    for record in found:
        day = date.fromisoformat(record["at_local"][:10])
        assert date.fromisoformat(first) <= day <= date.fromisoformat(last)
    midnight = datetime.combine(date.fromisoformat(first), time(0), tzinfo=SHANGHAI)
    assert datetime.fromisoformat(manifest(out)["filter"]["from"]) == midnight
    # a date-time bound is taken as given: from the earliest event's own time
    moment = min((r["at_utc"] for r in found), key=datetime.fromisoformat)
    later = sqlite_store.export("from-moment.jsonl", "--from", moment, "--to", last)
    assert [r["position"] for r in records(later)] == sorted(expected)


def test_a_case_export_holds_that_case_only(
    sqlite_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    case = sqlite_store.cases()[3]
    out = sqlite_store.export("case.jsonl", "--case", str(case.id))
    assert verify(out, capsys)[0] == 0
    found = records(out)
    own = [r for r in found if r["case_id"] == str(case.id)]
    assert [r["case_version"] for r in own] == list(range(1, case.version + 1))
    for record in found:
        if record["case_id"] != str(case.id):  # only access to this case
            assert record["event_type"] == "AccessRecord.Recorded"
            assert record["payload"]["case_id"] == str(case.id)
    assert any(r["event_type"] == "AccessRecord.Recorded" for r in found), "itself"
    assert manifest(out)["filter"]["case"] == str(case.id)


def test_bad_filters_are_refused_before_anything_is_written(
    sqlite_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sqlite_store.head()
    out = sqlite_store.workdir / "refused.jsonl"
    argv = ["export", "--out", str(out)]
    assert main([*argv, "--from", "yesterday"], environ=sqlite_store.environ) == 2
    assert "from" in capsys.readouterr().err
    assert main([*argv, "--unit", "999999"], environ=sqlite_store.environ) == 2
    assert "999999" in capsys.readouterr().err
    assert not out.exists()
    assert sqlite_store.head() == before, "a refused export records nothing"


def test_an_export_is_the_log_as_of_its_own_access_record(
    sqlite_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """Events recorded while an export runs are not in it (their cases may not be in the
    scoping view yet): the file ends, complete, at the export's own record."""
    settings = Settings.from_env(sqlite_store.environ)
    app = sqlite_store.open()
    views = build_views(settings, app)
    try:
        actor = Actor("auditor-2", Role.AUDITOR, "511100")
        position = app.record_access(actor, "export", None, ExportFilter().describe())
        assert position is not None
        later = Registration(
            "邻里纠纷", "导出期间登记", sqlite_store.cases()[0].unit, Channel.HOTLINE
        )
        app.register(Actor("hotline-1", Role.REPORTER, "511100"), "dispute", later)
        views.catch_up()
        out = sqlite_store.workdir / "as-of.jsonl"
        with out.open("w", encoding="utf-8", newline="") as file:
            writer = ChainWriter(file, tree=False)
            export_log(app, views.cases, app.units(), writer, ExportFilter(), until=position)
            writer.finish({"filter": ExportFilter().describe()})
    finally:
        views.close()
        app.close()
    status, message = verify(out, capsys)
    assert status == 0, message
    assert message.endswith("the tree was not checked: the file has no tree fields")
    found = records(out)
    assert [r["position"] for r in found] == list(range(1, position + 1))
    assert found[-1]["actor"] == "auditor-2"
    assert manifest(out)["last_position"] == position


def test_verify_of_a_file_that_cannot_be_read_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "missing.jsonl")], environ={}) == 2
    assert "cannot read" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert verify(empty, capsys) == (
        1,
        "the file ends before any record with no manifest: it was truncated",
    )


# --- records in the signed tree -----------------------------------------------------------

AGREEMENT = "李四赔偿张三、王五各1750元，三日内付清"


def _agreed_case(store: DemoStore) -> str:
    """A case of the store resolved with an agreement of 各1750元 (made once per store)."""
    if not hasattr(store, "agreed"):
        app = store.open()
        try:
            case = drive(app, "in_mediation")
            app.execute(case.id, ResolveCase(AGREEMENT, AgreementForm.WRITTEN), MEDIATOR)
        finally:
            app.close()
        store.agreed = str(case.id)  # type: ignore[attr-defined]
    return str(store.agreed)  # type: ignore[attr-defined]


def _rechained(lines: list[str]) -> list[str]:
    """The forger's 15 lines: every hash, prev and the final hash recomputed after an edit."""
    prev, out = GENESIS, []
    for line in lines:
        record = json.loads(line)
        del record["hash"]
        record["prev"] = prev
        if "manifest" in record:
            record["manifest"]["final_hash"] = prev
        body = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        prev = hashlib.sha256(body.encode("utf-8")).hexdigest()
        out.append(body[:-1] + f',"hash":"{prev}"}}')
    return out


def _documented_script(path: Path, key: Path) -> subprocess.CompletedProcess[str]:
    """docs/audit-format.md's verify_export.py, run as written."""
    text = (Path(__file__).parents[2] / "docs" / "audit-format.md").read_text(encoding="utf-8")
    section = text[text.index("## Records in the signed tree") :]
    script = path.parent / "verify_export.py"
    script.write_text(section.split("```python\n")[1].split("```")[0], encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), str(path), str(key)],
        capture_output=True,
        text=True,
        check=False,
    )


def _public_key(store: DemoStore, path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The deployment's public key as `fengqiao audit key` prints it, saved for the auditor."""
    capsys.readouterr()
    assert main(["audit", "key"], environ=store.environ) == 0
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def verify_with(path: Path, key: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["verify", str(path), "--key", str(key)], environ={})
    return status, capsys.readouterr().out.strip()


def test_a_rechained_forgery_of_an_agreement_is_not_in_the_signed_tree(
    demo_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = _agreed_case(demo_store)
    key = _public_key(demo_store, demo_store.workdir / "key.json", capsys)
    genuine = demo_store.export(f"agreed-{case_id}.jsonl", "--case", case_id)
    status, message = verify_with(genuine, key, capsys)
    assert status == 0, message
    assert "the head's signature verifies with key" in message
    head = manifest(genuine)["head"]
    assert manifest(genuine)["public_key_id"] == head["key_id"]
    assert head["size"] > manifest(genuine)["last_position"] - 1

    lines = genuine.read_text(encoding="utf-8").splitlines()
    (number,) = [i for i, line in enumerate(lines) if "各1750元" in line]
    lines[number] = lines[number].replace("各1750元", "各17500元")
    forged = demo_store.workdir / "forged.jsonl"
    forged.write_text("\n".join(_rechained(lines)) + "\n", encoding="utf-8")
    assert main(["verify", str(forged)], environ={}) == 1, "the proofs fail even without a key"
    status, message = verify_with(forged, key, capsys)
    position = records(forged)[number]["position"]
    assert (status, message) == (
        1,
        f"record {number + 1} (position {position}) is not in the signed tree: "
        "its payload or fields differ from the log's",
    )
    # the auditor's own script, as docs/audit-format.md gives it, says the same
    pem = demo_store.workdir / "key.pem"
    pem.write_text(json.loads(key.read_text(encoding="utf-8"))["pem"], encoding="utf-8")
    assert _documented_script(genuine, pem).returncode == 0
    failed = _documented_script(forged, pem)
    assert failed.returncode == 1
    assert f"record {number + 1} is not in the signed tree" in failed.stderr
    # the forger cannot re-sign the head: another key's head fails on its signature
    stranger = demo_store.workdir / "stranger.pem"
    stranger.write_text(public_pem(SigningKey.from_text(new_signing_key()).public))
    status, message = verify_with(genuine, stranger, capsys)
    assert status == 1
    assert message.startswith("the manifest's signed head is not genuine: the head names key")


@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_an_export_is_sealed_with_its_final_hash_once_written(
    demo_store: DemoStore, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = _agreed_case(demo_store)
    key = _public_key(demo_store, demo_store.workdir / "key.json", capsys)
    out = demo_store.export(f"sealed.{form}", "--case", case_id, "--format", form)
    assert verify_with(out, key, capsys)[0] == 0
    last = out.read_text(encoding="utf-8").splitlines()[-1]
    summary = (json.loads(last) if form == "jsonl" else json.loads(next(csv.reader([last]))[1]))[
        "manifest"
    ]
    later = demo_store.export(f"after-sealed-{form}.jsonl", "--case", case_id)
    seals = [r for r in _access_records(later) if r["payload"]["kind"] == "export_sealed"]
    mine = [r for r in seals if r["payload"]["filter"]["final_hash"] == summary["final_hash"]]
    assert len(mine) == 1, seals
    assert mine[0]["payload"]["filter"] == {
        "export_position": summary["last_position"],
        "final_hash": summary["final_hash"],
        "count": summary["count"],
        "head_size": summary["head"]["size"],
    }
    assert mine[0]["payload"]["case_id"] == case_id


def test_an_http_export_carries_its_proofs_and_is_sealed_only_when_downloaded_whole(
    sqlite_store: DemoStore, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = _agreed_case(sqlite_store)
    key = _public_key(sqlite_store, sqlite_store.workdir / "key.json", capsys)
    settings = Settings.from_env(sqlite_store.environ)
    runtime = build_runtime(settings, SECRET, scheduler=False)
    auditor = auth("auditor", "511100")
    with TestClient(app=create_app(runtime), raise_server_exceptions=False) as http:
        answer = http.get(f"{API}/cases/{case_id}/audit", headers=auditor)
        assert answer.status_code == 200, answer.text
        out = sqlite_store.workdir / "http.jsonl"
        out.write_bytes(answer.content)
        status, message = verify_with(out, key, capsys)
        assert status == 0, message
        # a download broken off: the stream is closed after its first chunk
        actor = Actor("auditor-9", Role.AUDITOR, "511100")
        scope = ExportFilter(case_id=UUID(case_id))
        position = runtime.app.record_access(actor, "export", scope.case_id, scope.describe())
        assert position is not None
        assert runtime.head_signer is not None
        signed, _ = runtime.head_signer.sign_now()
        broken = _stream(runtime, actor, scope, "jsonl", position, signed)
        assert next(broken)
        broken.close()
    final = manifest(out)["final_hash"]
    later = sqlite_store.export("after-http.jsonl", "--case", case_id)
    access = _access_records(later)
    seals = [r["payload"]["filter"] for r in access if r["payload"]["kind"] == "export_sealed"]
    assert final in [seal["final_hash"] for seal in seals]
    sealed = {seal["export_position"] for seal in seals}
    assert position not in sealed, "the broken-off download was not sealed"
    assert manifest(out)["last_position"] in sealed
