"""The OpenAPI document describes what is sent: a command answers the case (not "a string"),
and every error is a problem document (``application/problem+json``) with the fields the error
map fills in, documented under each status the endpoint can return."""

from __future__ import annotations

from typing import Any

import msgspec

from api.http.errors import PROBLEM
from api.http.runtime import Runtime
from api.http.schemas import ProblemOut
from tests.support.api import Client, register, send


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
        for status in ("400", "401", "403", "404", "409", "415", "422", "503"):
            assert ref(responses[status]["content"], PROBLEM) == "ProblemOut", status


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
