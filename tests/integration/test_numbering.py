"""一案一码 on every backend: numbers unique and without gaps per county, kind and year, under
concurrent registrations too; a refused registration issues none; cases an earlier release
registered get theirs later, in registration order.
"""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from api.wiring.numbering import number_old_cases
from domain.application import FengqiaoApplication
from domain.errors import InvalidInputError, PolicyError
from domain.numbering import CaseNumbers, counter_id, short_name
from domain.policy_document import policy_from_document, policy_to_document
from projections.queue import CaseFilter, QueueItem, list_cases
from projections.viewset import ViewSet
from tests.support.builders import registration
from tests.support.world import ADMIN, REPORTER, T0, Clock

QINGXI = "511123002001"  # a village of 犍为县 (511123)
EMEI = "511181001001"  # a village of 峨眉山市 (511181)
FIXTURES = Path(__file__).parent.parent / "fixtures"


def numbers(app: FengqiaoApplication, unit: str, count: int, kind: str = "dispute") -> list[str]:
    return [app.register(REPORTER, kind, registration(unit=unit)).case.number for _ in range(count)]


def test_numbers_run_per_county_kind_and_year(app: FengqiaoApplication, clock: Clock) -> None:
    year = T0.year
    assert numbers(app, QINGXI, 3) == [f"（{year}）犍调字第{n:04d}号" for n in (1, 2, 3)]
    assert numbers(app, QINGXI, 1, "incident") == [f"（{year}）犍事字第0001号"]
    assert numbers(app, EMEI, 1) == [f"（{year}）峨眉调字第0001号"]
    assert numbers(app, QINGXI, 1) == [f"（{year}）犍调字第0004号"]


def test_the_year_is_chinas(app: FengqiaoApplication, clock: Clock) -> None:
    """16:30 UTC on 31 December is already the new year in China."""
    late = datetime(2026, 12, 31, 16, 30, tzinfo=T0.tzinfo)
    case = app.register(REPORTER, "dispute", registration(unit=QINGXI), at=late).case
    assert case.number == "（2027）犍调字第0001号"
    earlier = late - timedelta(hours=1)
    case = app.register(REPORTER, "dispute", registration(unit=QINGXI), at=earlier).case
    assert case.number == "（2026）犍调字第0001号"


def test_a_refused_registration_issues_no_number(app: FengqiaoApplication) -> None:
    assert numbers(app, QINGXI, 1)[0].endswith("第0001号")
    with pytest.raises(InvalidInputError):
        app.register(REPORTER, "dispute", registration(unit=QINGXI, summary=""))
    assert numbers(app, QINGXI, 1)[0].endswith("第0002号")


def test_concurrent_registrations_in_one_county_get_every_number_once(
    app: FengqiaoApplication, backend: str, env: dict[str, str], clock: Clock
) -> None:
    """Eight writers in two processes' worth of applications: within one, registrations in a
    county take turns; between the two, they race at the store."""
    if backend == "memory":
        pytest.skip("the in-memory store has no second process")
    other = FengqiaoApplication(env=env, clock=clock)
    per_thread, threads = 4, 8
    start = threading.Barrier(threads)
    got: list[str] = []
    failures: list[BaseException] = []

    def work(writer: FengqiaoApplication) -> None:
        start.wait()
        try:
            got.extend(numbers(writer, QINGXI, per_thread))
        except BaseException as error:  # the test reports every failure
            failures.append(error)

    workers = [threading.Thread(target=work, args=((app, other)[n % 2],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert failures == []
    sequences = sorted(int(number[-5:-1]) for number in got)
    assert sequences == list(range(1, per_thread * threads + 1))
    counter: CaseNumbers = app.repository.get(counter_id("511123", "dispute", T0.year))
    assert counter.last == per_thread * threads
    other.close()


def test_a_counter_loads_from_a_snapshot(app: FengqiaoApplication, backend: str) -> None:
    numbers(app, QINGXI, 101)
    assert app.snapshots is not None
    taken = list(app.snapshots.get(counter_id("511123", "dispute", T0.year)))
    assert [snapshot.originator_version for snapshot in taken] == [100]
    assert numbers(app, QINGXI, 1)[0].endswith("第0102号")


@pytest.fixture
def old_store(tmp_path: Path) -> FengqiaoApplication:
    copy = tmp_path / "events.sqlite3"
    shutil.copy(FIXTURES / "store-v1.sqlite3", copy)
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(copy)}
    return FengqiaoApplication(env=env)


def test_cases_of_an_earlier_release_are_numbered_in_registration_order(
    old_store: FengqiaoApplication, tmp_path: Path
) -> None:
    views = ViewSet.sqlite(old_store, tmp_path / "views")
    try:
        before = sorted(
            (old_store.get_case(case_id) for case_id in _case_ids(old_store)),
            key=lambda case: (case.registered_at, str(case.id)),
        )
        assert before
        assert all(case.number == "" for case in before)
        assert number_old_cases(old_store, views) == len(before)
        after = [old_store.get_case(case.id) for case in before]
        by_counter: dict[str, list[int]] = {}
        for case in after:
            assert case.number
            assert case.version == before[after.index(case)].version + 1  # one Numbered event
            by_counter.setdefault(case.number[:-7], []).append(int(case.number[-5:-1]))
        for sequence in by_counter.values():
            assert sequence == list(range(1, len(sequence) + 1))  # in order, without gaps
        assert number_old_cases(old_store, views) == 0  # once
        views.catch_up()
        listed = {row.number for row in _rows(views)}
        assert listed == {case.number for case in after}
    finally:
        views.close()
        old_store.close()


def _case_ids(app: FengqiaoApplication) -> list[UUID]:
    events = app.recorder.select_notifications(1, app.recorder.max_notification_id() or 0)
    return [
        n.originator_id  # type: ignore[misc]
        for n in events
        if n.topic.endswith(".Registered")
    ]


def _rows(views: ViewSet) -> list[QueueItem]:
    return list_cases(views.cases, CaseFilter(unit="511100", limit=500), T0)


def test_short_names_tell_counties_of_one_city_apart(app: FengqiaoApplication) -> None:
    units = app.units()
    assert {
        code: short_name(units, units.get(code)) for code in ("511123", "511181", "511132")
    } == {
        "511123": "犍",
        "511181": "峨眉",
        "511132": "峨边",
    }


def test_the_policy_sets_the_format_and_a_countys_short_name(app: FengqiaoApplication) -> None:
    document = {
        "version": "numbering-1",
        "numbering": {
            "dispute": "{county}调〔{year}〕{sequence:03d}号",
            "short_names": {"511123": "犍为"},
        },
    }
    policy = policy_from_document(document)
    assert policy_from_document(policy_to_document(policy)) == policy
    app.adopt_policy(ADMIN, policy)
    assert numbers(app, QINGXI, 1) == [f"犍为调〔{T0.year}〕001号"]
    assert numbers(app, QINGXI, 1, "incident") == [f"（{T0.year}）犍为事字第0001号"]


@pytest.mark.parametrize(
    "numbering",
    [{"dispute": "第{sequence}号"}, {"dispute": "{year}{nonsense}{sequence}"}, {"other": "x"}],
)
def test_a_number_format_that_cannot_number_is_refused(numbering: dict[str, str]) -> None:
    with pytest.raises(PolicyError) as refused:
        policy_from_document({"version": "bad", "numbering": numbering})
    assert refused.value.key.startswith("numbering")
