"""一案一码 over HTTP: the number is in the registration's answer, the case, the queue and the
list, and ``q=`` finds a case by it."""

from __future__ import annotations

from api.http.runtime import Runtime
from tests.support.api import API, COUNTY, VILLAGE, Client, auth, register


def test_a_case_is_answered_listed_and_found_by_its_number(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    first = register(http)
    second = register(http, summary="另一户反映邻居占用通道")
    assert first["number"].endswith("犍调字第0001号")
    assert second["number"].endswith("犍调字第0002号")
    read = http.get(f"{API}/cases/{second['id']}", headers=auth("auditor", COUNTY)).json()
    assert read["number"] == second["number"]

    queue = http.get(f"{API}/queues/{VILLAGE}", headers=auth("auditor", COUNTY)).json()
    assert {item["number"] for item in queue["items"]} == {first["number"], second["number"]}

    for query in (second["number"], "第0002号", "0002"):
        found = http.get(f"{API}/cases", params={"q": query}, headers=auth("auditor", COUNTY))
        assert [item["id"] for item in found.json()["items"]] == [second["id"]], query
