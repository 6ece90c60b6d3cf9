"""销号 after a follow-up visit over HTTP: closed as before when the visit found all well (the
body may still be left out); after a troubled visit (dissatisfied, or the agreement not
honoured) only a supervisor closes, with a reason the case file keeps, or reopens for rework."""

from __future__ import annotations

from typing import Any

import pytest

from api.http.runtime import Runtime
from tests.support.api import (
    API,
    COUNTY,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    send,
)

REASON = "经三次调解和回访，当事人仍不满意，已告知诉讼途径，审核销号"


def followed_up(http: Client, **visit: Any) -> str:
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "sign"))
    ok(send(http, case_id, "terminate", {"reason": "一方拒绝继续调解"}))
    ok(send(http, case_id, "follow-ups", visit))
    return case_id


def test_a_case_whose_visit_found_all_well_closes_without_a_body(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case_id = followed_up(http, satisfied=True)

    answer = http.post(f"{API}/cases/{case_id}/close", headers=auth("mediator", "511123001001"))

    assert ok(answer)["status"] == "closed"


@pytest.mark.parametrize(
    "visit",
    [{"satisfied": False}, {"satisfied": True, "agreement_honoured": False}],
    ids=["dissatisfied", "not-honoured"],
)
def test_after_a_troubled_visit_only_a_supervisor_closes_and_says_why(
    client: tuple[Client, Runtime], visit: dict[str, Any]
) -> None:
    http, runtime = client
    case_id = followed_up(http, **visit)
    before = events_recorded(runtime)

    by_mediator = send(http, case_id, "close")
    without_reason = send(http, case_id, "close", role="supervisor", unit=VILLAGE)

    problem = assert_problem(by_mediator, 409)
    assert "回访当事人不满意或协议未履行" in problem["detail"]
    assert assert_problem(without_reason, 422)["field"] == "reason"
    assert events_recorded(runtime) == before

    closed = ok(send(http, case_id, "close", {"reason": REASON}, role="supervisor", unit=VILLAGE))

    assert closed["status"] == "closed"
    file = ok(http.get(f"{API}/cases/{case_id}/file", headers=auth("supervisor", COUNTY)))
    # closed unrated: the parties are invited to rate once more (好差评)
    assert [entry["type"] for entry in file["entries"][-2:]] == ["Closed", "RatingInvited"]
    assert file["entries"][-2]["fields"]["reason"] == REASON


def test_a_satisfied_visit_after_a_troubled_one_lets_the_mediator_close(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case_id = followed_up(http, satisfied=False)
    ok(send(http, case_id, "follow-ups", {"satisfied": True, "note": "再次回访，双方已和解"}))

    assert ok(send(http, case_id, "close"))["status"] == "closed"
