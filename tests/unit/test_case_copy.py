"""The copy of a case a command runs on (``domain.copying``): equal to the case, sharing
nothing a command can change, so a command refused half way leaves the cached case as it was.
"""

from __future__ import annotations

import copy
import pickle
from datetime import timedelta
from typing import Any

import pytest

from domain.case import Case
from domain.case.commands import AddNote, PauseCase, RecordMediationSession
from tests.support.decider import REACHABLE, drive, later, run
from tests.support.world import MEDIATOR, SUPERVISOR

MUTABLE = (list, dict, set)


def shared_containers(original: Any, clone: Any, path: str = "") -> list[str]:
    """Where ``clone`` holds the very list, dict or set that ``original`` holds."""
    if isinstance(original, MUTABLE) and original is clone:
        return [path or "."]
    if isinstance(original, dict):
        return [
            found
            for key in original
            for found in shared_containers(original[key], clone[key], f"{path}[{key!r}]")
        ]
    if isinstance(original, list | tuple):
        return [
            found
            for index, (a, b) in enumerate(zip(original, clone, strict=True))
            for found in shared_containers(a, b, f"{path}[{index}]")
        ]
    return []


@pytest.mark.parametrize("status", sorted(REACHABLE))
def test_a_copy_equals_the_case_and_shares_no_container(status: str) -> None:
    case = drive(status)
    clone = copy.deepcopy(case)
    assert type(clone) is type(case)
    assert vars(clone) == vars(case)
    assert shared_containers(vars(case), vars(clone)) == []


@pytest.mark.parametrize("status", ["signed", "in_mediation"])
def test_commands_on_the_copy_leave_the_case_as_it_was(status: str) -> None:
    case = drive(status)
    as_it_was = pickle.loads(pickle.dumps(case))  # an independent copy (pickle ignores ours)
    clone = copy.deepcopy(case)
    at = later(clone)
    run(clone, AddNote("电话联系双方"), MEDIATOR, at)
    run(clone, RecordMediationSession(at, "第二次调解", ("张三",)), MEDIATOR, at)
    run(clone, PauseCase("等待鉴定结果", at + timedelta(days=10)), SUPERVISOR, at)
    assert vars(clone) != vars(as_it_was)
    assert vars(case) == vars(as_it_was)


def test_a_case_is_copied_by_its_own_rule_not_the_standard_one() -> None:
    case: Case = drive("signed")
    clone = copy.deepcopy(case)
    deadline = next(iter(case.deadlines.values()))
    assert next(iter(clone.deadlines.values())) is deadline, "value objects are shared"
