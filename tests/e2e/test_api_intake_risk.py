"""Registration over HTTP: the caller the hotline records (masked like a party, or anonymous)
besides the operator, and the risk triggers that set a case's level and say why."""

from __future__ import annotations

from api.http.runtime import Runtime
from domain.parties import mask_digits
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    registration,
    send,
)

CALLER_PHONE = "13987650999"


def test_the_hotline_records_the_caller_masked_like_a_party(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    caller = {"name": "王五", "phone": CALLER_PHONE}
    case = register(http, channel="hotline", caller=caller, role="reporter", actor_unit=CITY)

    assert case["caller"] == {
        "name": "王五",
        "phone": mask_digits(CALLER_PHONE),
        "anonymous": False,
    }
    file = ok(http.get(f"{API}/cases/{case['id']}/file", headers=auth("auditor", COUNTY)))
    registered = next(e for e in file["entries"] if e["type"] == "Registered")
    assert CALLER_PHONE not in str(registered["fields"])
    assert registered["fields"]["recorded_by"] != "王五"  # the operator, not the caller
    ok(send(http, str(case["id"]), "sign"))
    ok(send(http, str(case["id"]), "assign", {"assignee": "mediator-9"}, role="supervisor"))
    params = {"unmask": "true", "reason": "回电核实情况"}
    plain = ok(
        http.get(
            f"{API}/cases/{case['id']}",
            params=params,
            headers=auth("mediator", VILLAGE, "mediator-9"),
        )
    )
    assert plain["caller"]["phone"] == CALLER_PHONE


def test_an_anonymous_caller_has_no_name_or_phone(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    anonymous = register(http, channel="hotline", caller={"anonymous": True})
    assert anonymous["caller"] == {"name": None, "phone": None, "anonymous": True}
    before = events_recorded(runtime)

    both = http.post(
        f"{API}/cases",
        json=registration(channel="hotline", caller={"anonymous": True, "phone": CALLER_PHONE}),
        headers=auth("reporter", VILLAGE),
    )
    bad_phone = http.post(
        f"{API}/cases",
        json=registration(channel="hotline", caller={"name": "王五", "phone": "12345"}),
        headers=auth("reporter", VILLAGE),
    )

    assert assert_problem(both, 422)["field"] == "caller"
    assert assert_problem(bad_phone, 422)["field"] == "caller.phone"
    assert events_recorded(runtime) == before


def test_forty_people_register_red_at_the_county_and_say_why(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case = register(http, people_involved=40)  # the registrant said yellow (the default)

    assert (case["level"], case["owner"], case["level_cause"]) == ("red", COUNTY, "triggers")
    assert (case["suggested_level"], case["risk_triggers"]) == ("red", ["people_involved>=30"])
    queue = ok(http.get(f"{API}/queues/{COUNTY}", headers=auth("supervisor", COUNTY)))
    card = next(item for item in queue["items"] if item["id"] == case["id"])
    assert card["level_cause"] == "triggers"
    history = ok(http.get(f"{API}/cases/{case['id']}/history", headers=auth("auditor", COUNTY)))
    assert history[0]["text"].endswith("；因触发预警指标（涉及30人以上）定为红色预警")


def test_an_assessment_below_the_suggestion_needs_a_reason_of_its_own(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case_id = str(register(http, people_involved=4, police_callouts=1)["id"])
    before = events_recorded(runtime)
    facts = {"level": "yellow", "reason": "复核", "police_callouts": 3}

    refused = send(http, case_id, "assess", facts)

    problem = assert_problem(refused, 422)
    assert problem["field"] == "below_suggestion_reason"
    assert events_recorded(runtime) == before
    kept = ok(send(http, case_id, "assess", facts | {"below_suggestion_reason": "出警均为误报"}))
    assert (kept["level"], kept["level_cause"], kept["police_callouts"]) == (
        "yellow",
        "assessed",
        3,
    )
    assert kept["suggested_level"] == "orange"
    history = ok(http.get(f"{API}/cases/{case_id}/history", headers=auth("auditor", COUNTY)))
    assessed = next(e for e in history if e["event_type"] == "Assessed")
    assert "低于预警指标建议的橙色预警，理由：出警均为误报" in assessed["text"]


def test_the_below_suggestion_refusal_reads_in_chinese(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case_id = str(register(http, people_involved=12)["id"])  # orange by its trigger

    body = {"level": "orange", "reason": "复核", "people_involved": 31}
    refused = send(http, case_id, "assess", body, unit=TOWNSHIP)  # the township owns it

    problem = assert_problem(refused, 422)
    assert problem["reason"] == "预警指标建议红色预警（涉及30人以上），定级低于建议须说明理由"
