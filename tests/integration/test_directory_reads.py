"""Every request checks its caller against the staff directory (``api.http.auth``), so a read
of it is reused for up to a second, and past that the store is asked only whether it changed.

What a user relies on: a member disabled by another host (or process) on the same store is
let in no longer than that second; a change refused half way is seen by nobody; and while
nothing changes, the directory (thousands of members in a county) is not copied again.
"""

from __future__ import annotations

import time

import pytest

from domain.actors import Role
from domain.application import FengqiaoApplication
from domain.directory import Directory
from domain.errors import InvalidInputError
from tests.support.staff import member
from tests.support.world import ADMIN, VILLAGE

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
MEDIATOR = f"mediator-{VILLAGE}"


def test_a_member_disabled_on_another_host_is_let_in_no_longer_than_the_age(
    app: FengqiaoApplication, env: dict[str, str]
) -> None:
    assert app.directory(max_age=60).member(MEDIATOR).active
    other = FengqiaoApplication(env=env)  # another host on the same store
    try:
        other.change_directory(ADMIN, lambda d: d.disable(ADMIN, MEDIATOR, "调离", app.clock()))
    finally:
        other.close()
    assert app.directory(max_age=60).member(MEDIATOR).active, "a read is reused for its age"
    assert not app.directory(max_age=0).member(MEDIATOR).active, "past it, the change is read"
    assert not app.directory(max_age=60).member(MEDIATOR).active


def test_while_nothing_changes_the_directory_read_is_not_copied_again(
    app: FengqiaoApplication,
) -> None:
    first = app.directory(max_age=0)
    assert app.directory(max_age=0) is first
    app.change_directory(
        ADMIN, lambda d: d.enrol(ADMIN, [member("new-1", VILLAGE, Role.MEDIATOR)], app.clock())
    )
    changed = app.directory(max_age=0)
    assert changed is not first
    assert changed.get("new-1") is not None
    assert first.get("new-1") is None


def test_a_change_refused_half_way_is_seen_by_nobody(app: FengqiaoApplication) -> None:
    before = app.directory(max_age=60)

    def half_way(directory: Directory) -> None:
        directory.disable(ADMIN, MEDIATOR, "调离", app.clock())
        raise InvalidInputError("user", "refused after the first step", "refused")

    with pytest.raises(InvalidInputError):
        app.change_directory(ADMIN, half_way)
    assert app.directory(max_age=60).member(MEDIATOR).active
    assert app.directory(max_age=0).member(MEDIATOR).active
    assert before.member(MEDIATOR).active


def test_reads_more_often_than_the_age_still_see_a_change_within_it(
    app: FengqiaoApplication, env: dict[str, str]
) -> None:
    """A busy process reads the directory many times a second: reusing a read must not make
    it younger, or the store is never asked again."""
    age = 0.3
    assert app.directory(max_age=age).member(MEDIATOR).active
    other = FengqiaoApplication(env=env)
    try:
        other.change_directory(ADMIN, lambda d: d.disable(ADMIN, MEDIATOR, "调离", app.clock()))
    finally:
        other.close()
    changed_at = time.monotonic()
    while app.directory(max_age=age).member(MEDIATOR).active:
        assert time.monotonic() - changed_at <= age + 0.2, "the change was never read"
        time.sleep(0.02)
