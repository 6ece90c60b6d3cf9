"""退回 over HTTP: the owning unit's supervisor sends a case handed up by hand back to its sender,
before signing for it; everyone else is refused, and a refused return stores nothing."""

from __future__ import annotations

from api.http.runtime import Runtime
from tests.support.api import (
    COUNTY,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    send,
)

REASON = "属村内邻里纠纷，请村调委会先行调解"


def handed_up(http: Client) -> str:
    """A yellow village case its village's supervisor (调委会主任) handed up to the township."""
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "escalate", {"reason": "村级无法调处"}, role="supervisor", unit=VILLAGE))
    return case_id


def test_the_owning_supervisor_returns_a_case_handed_up_by_hand(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case_id = handed_up(http)

    case = ok(send(http, case_id, "return", {"reason": REASON}, role="supervisor", unit=TOWNSHIP))

    assert (case["owner"], case["tier"], case["awaiting_signature"]) == (VILLAGE, "village", True)
    history = ok(http.get(f"/api/v1/cases/{case_id}/history", headers=auth("supervisor", COUNTY)))
    returned = [e for e in history if e["event_type"] == "Returned"]
    assert len(returned) == 1
    assert returned[0]["fields"]["reason"] == REASON
    # once back, it cannot bounce: the village does not own it by hand
    again = send(http, case_id, "return", {"reason": "退回镇里"}, role="supervisor", unit=VILLAGE)
    assert assert_problem(again, 409)["case_status"] == "registered"


def test_only_the_owning_supervisor_may_return_and_a_refusal_stores_nothing(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case_id = handed_up(http)
    before = events_recorded(runtime)

    by_mediator = send(http, case_id, "return", {"reason": REASON}, role="mediator", unit=TOWNSHIP)
    by_sender = send(http, case_id, "return", {"reason": REASON}, role="supervisor", unit=VILLAGE)
    no_reason = send(http, case_id, "return", {"reason": " "}, role="supervisor", unit=TOWNSHIP)

    assert_problem(by_mediator, 403)
    assert_problem(by_sender, 403)  # the village no longer owns the case
    assert assert_problem(no_reason, 422)["field"] == "reason"
    assert events_recorded(runtime) == before


def test_a_signed_case_is_not_returned(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case_id = handed_up(http)
    ok(send(http, case_id, "sign", role="mediator", unit=TOWNSHIP))

    refused = send(http, case_id, "return", {"reason": REASON}, role="supervisor", unit=TOWNSHIP)

    problem = assert_problem(refused, 409)
    assert "签收前" in problem["detail"]
