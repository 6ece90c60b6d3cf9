"""Receipts of requests sent with an idempotency key, on every backend: saved in the same
transaction as the command's events, found by a resend whenever it comes (another process,
after a lost acknowledgement, after a refusal), never decided twice, and left out of the
views and the audit trail.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from domain.application import FengqiaoApplication
from domain.case.commands import AddNote, ResolveCase, SignCase
from domain.errors import CommandNotAllowedError
from domain.receipt import CommandReceipt, Outcome, RequestKey
from domain.recorded import Recorded
from projections.audit_export import ExportFilter, export_log
from projections.audit_trail import ChainWriter
from projections.viewset import ViewSet
from tests.integration.test_ambiguous_commits import lose_the_next_acknowledgement
from tests.support.builders import event_names, register, registration
from tests.support.world import MEDIATOR, REPORTER, Clock


def key(name: str, fingerprint: str = "f1", caller: str = "mediator-1") -> RequestKey:
    return RequestKey(caller, name, fingerprint)


def recorded(outcome: Recorded | CommandReceipt) -> Recorded:
    assert isinstance(outcome, Recorded), outcome
    return outcome


def receipt_of(outcome: Recorded | CommandReceipt) -> CommandReceipt:
    assert isinstance(outcome, CommandReceipt), outcome
    return outcome


def test_a_command_and_its_receipt_are_one_commit_and_a_resend_finds_it(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = register(app)
    before = app.recorder.max_notification_id() or 0
    first = recorded(app.execute_once(key("note-1"), case.id, AddNote("回访"), MEDIATOR, clock()))
    assert first.events == ("NoteAdded",)
    assert app.recorder.max_notification_id() == before + 2  # the note and its receipt
    stored = app.receipt(key("note-1"))
    assert stored is not None
    assert (stored.outcome, stored.case_id, stored.case_version) == (Outcome.RECORDED, case.id, 2)

    clock.advance(minutes=3)
    again = receipt_of(app.execute_once(key("note-1"), case.id, AddNote("回访"), MEDIATOR, clock()))
    assert again.id == stored.id
    assert again.answered_at == first.case.updated_at
    assert event_names(app, case.id) == ["Registered", "NoteAdded"]
    assert app.get_case(case.id, 2).version == 2


def test_a_resend_of_a_committed_command_is_answered_despite_a_stale_expected_version(
    app: FengqiaoApplication, clock: Clock
) -> None:
    """The first attempt moved the case from version 1 to 2; the resend still says 1."""
    case = register(app)
    recorded(app.execute_once(key("sign-1"), case.id, SignCase(), MEDIATOR, clock(), 1))
    again = app.execute_once(key("sign-1"), case.id, SignCase(), MEDIATOR, clock(), 1)
    assert receipt_of(again).case_version == 2
    assert event_names(app, case.id) == ["Registered", "Signed"]


def test_keys_belong_to_their_caller(app: FengqiaoApplication, clock: Clock) -> None:
    case = register(app)
    mine = key("same", caller="mediator-1")
    theirs = key("same", caller="mediator-2")
    assert mine.receipt_id != theirs.receipt_id
    recorded(app.execute_once(mine, case.id, AddNote("甲"), MEDIATOR, clock()))
    recorded(app.execute_once(theirs, case.id, AddNote("乙"), MEDIATOR, clock()))
    assert event_names(app, case.id) == ["Registered", "NoteAdded", "NoteAdded"]


def test_a_lost_acknowledgement_is_answered_once_and_the_resend_finds_the_receipt(
    app: FengqiaoApplication, clock: Clock
) -> None:
    lose_the_next_acknowledgement(app)
    details = registration()
    first = recorded(app.register_once(key("reg-1"), REPORTER, "dispute", details, clock()))
    assert event_names(app, first.case.id) == ["Registered"]
    again = receipt_of(app.register_once(key("reg-1"), REPORTER, "dispute", details, clock()))
    assert (again.outcome, again.case_id, again.case_version) == (
        Outcome.REGISTERED,
        first.case.id,
        1,
    )

    lose_the_next_acknowledgement(app)
    noted = app.execute_once(key("note-2"), first.case.id, AddNote("记录"), MEDIATOR, clock())
    assert recorded(noted).case.version == 2
    assert event_names(app, first.case.id) == ["Registered", "NoteAdded"]


def test_a_resend_from_another_process_after_a_crash_finds_the_receipt(
    app: FengqiaoApplication, env: dict[str, str], backend: str, clock: Clock
) -> None:
    """The process that ran the command died before answering: a new one over the same
    store answers the resend from the receipt, deciding nothing."""
    if backend == "memory":
        pytest.skip("another process cannot open a store that lives in this one's memory")
    case = register(app)
    recorded(app.execute_once(key("sign-2"), case.id, SignCase(), MEDIATOR, clock()))
    app.close()
    restarted = FengqiaoApplication(env=env, clock=clock)
    try:
        again = receipt_of(
            restarted.execute_once(key("sign-2"), case.id, SignCase(), MEDIATOR, clock())
        )
        assert again.case_version == 2
        assert event_names(restarted, case.id) == ["Registered", "Signed"]
    finally:
        restarted.close()


def test_a_refusal_is_kept_and_a_concurrent_success_wins_over_it(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = register(app)
    resolve = ResolveCase("双方和解", "oral")
    with pytest.raises(CommandNotAllowedError):
        app.execute_once(key("resolve-1"), case.id, resolve, MEDIATOR, clock())
    assert app.receipt(key("resolve-1")) is None  # the application decides; the caller keeps
    told = {"status": 409, "title": "Command not allowed"}
    kept = app.remember_refusal(key("resolve-1"), clock(), case.id, told)
    assert (kept.outcome, kept.refusal) == (Outcome.REFUSED, told)
    assert app.remember_refusal(key("resolve-1"), clock(), case.id, {"status": 422}).id == kept.id
    stored = app.receipt(key("resolve-1"))
    assert stored is not None
    assert stored.refusal == told
    # a copy whose command succeeded got there first: a late refusal finds its receipt
    recorded(app.execute_once(key("note-3"), case.id, AddNote("先到"), MEDIATOR, clock()))
    late = app.remember_refusal(key("note-3"), clock(), case.id, told)
    assert late.outcome is Outcome.RECORDED
    assert event_names(app, case.id) == ["Registered", "NoteAdded"]


def test_copies_racing_each_other_record_once(
    app: FengqiaoApplication, clock: Clock, backend: str
) -> None:
    case = register(app)
    copies = 6
    start = threading.Barrier(copies)
    outcomes: list[Any] = []

    def send() -> None:
        start.wait()
        try:
            outcomes.append(
                app.execute_once(key("race"), case.id, AddNote("同一条"), MEDIATOR, clock())
            )
        except Exception as error:  # the test reports every failure
            outcomes.append(error)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Every copy is answered with the version the one recorded note made: the copy that
    # saved it, copies that found its receipt, and copies whose identical events (same clock
    # reading) the store already held, which are theirs as much as the first's.
    versions = [
        o.case.version if isinstance(o, Recorded) else o.case_version
        for o in outcomes
        if isinstance(o, Recorded | CommandReceipt)
    ]
    assert versions == [2] * copies, outcomes
    assert event_names(app, case.id) == ["Registered", "NoteAdded"]


def test_receipts_stay_out_of_the_views_and_the_audit_trail(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, tmp_path: Path
) -> None:
    first = recorded(app.register_once(key("reg-2"), REPORTER, "dispute", registration(), clock()))
    recorded(app.execute_once(key("sign-3"), first.case.id, SignCase(), MEDIATOR, clock()))
    views.catch_up()
    assert views.failures() == {}
    history = views.history.get_history(first.case.id)
    assert [entry.event_type for entry in history] == ["Registered", "Signed"]

    path = tmp_path / "audit.ndjson"
    with path.open("w", encoding="utf-8") as out:
        writer = ChainWriter(out, tree=False)
        export_log(app, views.cases, app.units(), writer, ExportFilter())
    text = path.read_text(encoding="utf-8")
    assert "CommandReceipt" not in text
    assert text.count('.Registered"') == 1
    assert text.count('.Signed"') == 1
