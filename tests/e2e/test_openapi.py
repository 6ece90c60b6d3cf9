"""The OpenAPI document describes what is sent: a command answers the case (not "a string"),
and every error is a problem document (``application/problem+json``) with the fields the error
map fills in, documented under each status the endpoint can return."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from api.http.errors import PROBLEM
from api.http.runtime import Runtime
from api.http.schemas import ProblemOut, StatisticsOut
from tests.support.api import API, CITY, COUNTY, Client, auth, register, send


def schema(http: Client) -> dict[str, Any]:
    document: dict[str, Any] = http.get("/schema/openapi.json").json()
    return document


def ref(content: dict[str, Any], media: str) -> str:
    return str(content[media]["schema"]["$ref"]).rsplit("/", 1)[-1]


def test_every_command_documents_the_case_and_its_problems(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    document = schema(http)
    commands = [
        operation["post"]
        for path, operation in document["paths"].items()
        if path.startswith("/api/v1/cases/{case_id}/") and "post" in operation
    ]
    assert len(commands) >= 20
    for operation in commands:
        responses = operation["responses"]
        assert ref(responses["200"]["content"], "application/json") == "CaseOut"
        assert responses["200"]["headers"]["ETag"]["required"]
        for status in ("400", "401", "403", "404", "409", "413", "422", "503"):
            assert ref(responses[status]["content"], PROBLEM) == "ProblemOut", status
        # only a command that takes a body refuses one that is not JSON
        assert ("415" in responses) == ("requestBody" in operation), operation["operationId"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"If-Match", "Idempotency-Key"}


def test_registration_and_a_case_read_document_their_answers(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    paths = schema(http)["paths"]
    created = paths["/api/v1/cases"]["post"]["responses"]
    assert ref(created["201"]["content"], "application/json") == "CaseOut"
    assert ref(created["422"]["content"], PROBLEM) == "ProblemOut"
    read = paths["/api/v1/cases/{case_id}"]["get"]["responses"]
    assert ref(read["200"]["content"], "application/json") == "CaseOut"
    assert ref(read["404"]["content"], PROBLEM) == "ProblemOut"


def test_the_documented_problem_decodes_the_problems_sent(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case = register(http)
    refused = send(http, case["id"], "close")  # 409, with command and case_status
    invalid = send(http, case["id"], "notes", {"text": ""})  # 422, with field and reason
    for answer in (refused, invalid):
        assert answer.headers["content-type"].startswith(PROBLEM)
        problem = msgspec.json.decode(answer.content, type=ProblemOut)
        assert problem.status == answer.status_code


# Every read and its success type: the schema a client decodes the answer with.
READS = {
    ("get", "/api/v1/cases"): "CaseListOut",
    ("get", "/api/v1/queues/{unit}"): "QueueOut",
    ("get", "/api/v1/stats/{unit}"): "StatisticsOut",
    ("get", "/api/v1/units/{code}"): "UnitOut",
    ("get", "/api/v1/mode"): "ModeOut",
    ("post", "/api/v1/mode"): "ModeOut",
    ("get", "/api/v1/units/{code}/mode"): "UnitModeOut",
    ("post", "/api/v1/units/{code}/mode"): "UnitModeOut",
    ("get", "/health"): "HealthOut",
    ("get", "/ready"): "ReadyOut",
}
LISTS = {
    ("get", "/api/v1/units"): "UnitOut",
    ("get", "/api/v1/cases/{case_id}/history"): "HistoryEntryOut",
}
EXPORTS = ["/api/v1/audit/export", "/api/v1/cases/{case_id}/audit"]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def test_every_read_documents_its_answer_type(client: tuple[Client, Runtime]) -> None:
    paths = schema(client[0])["paths"]
    for (method, path), name in READS.items():
        assert ref(paths[path][method]["responses"]["200"]["content"], "application/json") == name
    for (method, path), name in LISTS.items():
        answer = paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["type"] == "array"
        assert answer["items"]["$ref"].rsplit("/", 1)[-1] == name


def test_every_error_is_a_problem_document_with_its_headers(
    client: tuple[Client, Runtime],
) -> None:
    """No Litestar default error shape is left anywhere, and every /api/v1 operation says a
    missing token is 401; a 401 says which scheme works, a 503 when to try again."""
    document = schema(client[0])
    for method, path, operation in operations(document):
        responses = operation["responses"]
        errors = {status: answer for status, answer in responses.items() if int(status) >= 400}
        assert errors or path == "/health", (method, path)
        for status, answer in errors.items():
            assert ref(answer["content"], PROBLEM) == "ProblemOut", (method, path, status)
        if path.startswith(API):
            assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
            assert "Retry-After" in responses["503"]["headers"], (method, path)


def test_public_endpoints_need_no_token_and_ready_documents_both_answers(
    client: tuple[Client, Runtime],
) -> None:
    document = schema(client[0])
    assert document["security"] == [{"BearerToken": []}]
    paths = document["paths"]
    assert paths["/health"]["get"]["security"] == []
    ready = paths["/ready"]["get"]
    assert ready["security"] == []
    unready = ready["responses"]["503"]["content"]
    assert ref(unready, "application/json") == "ReadyOut"
    assert ref(unready, PROBLEM) == "ProblemOut"  # the store unreachable or too slow


def test_exports_and_streams_document_their_media_types(client: tuple[Client, Runtime]) -> None:
    paths = schema(client[0])["paths"]
    for path in EXPORTS:
        answer = paths[path]["get"]["responses"]["200"]
        assert set(answer["content"]) == {"application/x-ndjson", "text/csv"}, path
        assert answer["headers"]["Content-Disposition"]["required"]
    stream = paths["/api/v1/stream/queues/{unit}"]["get"]["responses"]
    events = stream["200"]["content"]["text/event-stream"]["schema"]["oneOf"]
    assert [e["properties"]["event"]["const"] for e in events] == ["ready", "queue"]
    for event in events:
        assert event["properties"]["data"]["contentMediaType"] == "application/json"
    assert set(stream) == {"200", "401", "403", "404", "503"}


def test_request_bodies_refuse_unknown_members(client: tuple[Client, Runtime]) -> None:
    document = schema(client[0])
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for _, _, operation in operations(document)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(bodies) >= 18
    components = document["components"]["schemas"]
    for body in bodies:
        name = body.rsplit("/", 1)[-1]
        assert components[name]["additionalProperties"] is False, name
    assert components["PartyIn"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("form", "media_type"), [("jsonl", "application/x-ndjson"), ("csv", "text/csv; charset=utf-8")]
)
def test_an_export_is_sent_with_one_media_type_as_documented(
    client: tuple[Client, Runtime], form: str, media_type: str
) -> None:
    """Litestar appends the charset to a text/* type itself: once, not twice."""
    http, _ = client
    answer = http.get(
        f"{API}/audit/export", params={"format": form}, headers=auth("auditor", COUNTY)
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == media_type


def test_statistics_are_answered_as_documented(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    register(http)
    # statistics are not read-your-writes: wait for their view to reach the registration
    head = runtime.app.recorder.max_notification_id()
    assert runtime.views.wait(head, 10.0, names=["statistics"])
    answer = http.get(f"{API}/stats/{CITY}", headers=auth("supervisor", CITY))
    assert answer.status_code == 200, answer.text
    statistics = msgspec.json.decode(answer.content, type=StatisticsOut)
    assert statistics.unit == CITY
    assert statistics.children, "the city's counties"
    assert set(answer.json()) >= {"from", "to", "children", "series", "registered"}


def test_options_lists_every_method_a_path_serves(client: tuple[Client, Runtime]) -> None:
    """Litestar 2 (litestar#4169) kept only the first handler's method in a path's automatic
    OPTIONS answer; paths served by two handlers list both."""
    http, _ = client
    expected = {
        f"{API}/cases": "GET, OPTIONS, POST",
        f"{API}/mode": "GET, OPTIONS, POST",
        f"{API}/units/{COUNTY}/mode": "GET, OPTIONS, POST",
        f"{API}/cases/00000000-0000-4000-8000-000000000000": "GET, OPTIONS",
    }
    for path, allow in expected.items():
        answer = http.options(path)
        assert (answer.status_code, answer.headers.get("allow")) == (204, allow), path
