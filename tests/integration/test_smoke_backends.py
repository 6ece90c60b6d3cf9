"""Each backend stores and reloads a case."""

from __future__ import annotations

from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.status import Channel
from tests.support.world import REPORTER, VILLAGE


def test_a_registered_case_is_read_back_by_a_second_application(
    app: FengqiaoApplication, env: dict[str, str], backend: str
) -> None:
    recorded = app.register(
        REPORTER, "dispute", Registration("邻里纠纷", "排水沟争执", VILLAGE, Channel.GRID_PATROL)
    )
    if backend == "memory":
        assert app.get_case(recorded.case.id).summary == "排水沟争执"
        return
    other = FengqiaoApplication(env=env)
    try:
        assert other.get_case(recorded.case.id).summary == "排水沟争执"
        assert other.get_case(recorded.case.id).owner == VILLAGE
    finally:
        other.close()
