"""The OpenAPI document holds against the running API: schemathesis loads it from the app and
sends what it describes, and what it does not (every phase: examples, coverage, fuzzing,
stateful), with every one of its checks enabled, and no failure or error is allowed.

Bounded: ``MAX_EXAMPLES`` generated requests per operation and phase, about half a minute per
backend on two cores. The caller is a city supervisor, who may do everything the API offers in
the sample jurisdiction, and path parameters name a real case and unit, so that answers are the
resources themselves and not only 404s. The run's figures are printed at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from api.http.runtime import Runtime
from tests.support.api import CITY, COUNTY, Client, register, token

MAX_EXAMPLES = 10
STREAM_EVENTS = 1  # a queue stream never ends: read its first event, then hang up
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

Message = dict[str, Any]
ASGIApp = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]


@dataclass
class Run:
    """What the run did: its figures, and what failed."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0  # test cases schemathesis generated and sent (its checks' probes included)
    requests: int = 0  # requests the app answered, the schema's own included
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self) -> str:
        return (
            f"schemathesis: {len(self.operations)} operations, {self.cases} test cases, "
            f"{self.requests} requests, {len(self.failures)} failures, {len(self.errors)} "
            f"errors in {self.seconds:.1f} s; statuses {dict(sorted(self.statuses.items()))}"
        )


def counting(app: ASGIApp, run: Run) -> ASGIApp:
    """The app as schemathesis reaches it: each request passes through and is counted. The
    lifespan belongs to the ``client`` fixture (the runtime is started already), so the
    client's lifespan messages are answered here instead of starting it a second time."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                stage = (await receive())["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{stage}.complete"})
                if stage == "shutdown":
                    return
        run.requests += 1

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                run.statuses[status] = run.statuses.get(status, 0) + 1
            await send(message)

        await app(scope, receive, counted)

    return asgi


def config(case_id: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "checks": {
                "enabled": True,
                # Input the schema admits can still break a rule no schema can state (an unknown
                # unit code, a period outside the data, a deadline already past, the mode already
                # set, an Idempotency-Key used for another request): this API answers 422 then.
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]},
            },
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "max-stream-events": STREAM_EVENTS,
            "request-timeout": 10,
            "auth": {"openapi": {"BearerToken": {"bearer": token("supervisor", CITY)}}},
            "parameters": {"path.case_id": case_id, "path.unit": COUNTY, "path.code": COUNTY},
        }
    )


def record(run: Run, event: events.EngineEvent) -> None:
    """Adds one engine event to the run: a scenario's cases and failed checks, an error, the
    running time."""
    if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
        if event.label and event.status is not Status.SKIP:
            run.operations.add(event.label)
        run.cases += len(event.recorder.cases)
        for checks in event.recorder.checks.values():
            run.failures.extend(
                f"{event.label} [{check.name}] {check.failure_info.failure.title}: "
                f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
                for check in checks
                if check.status is Status.FAILURE and check.failure_info is not None
            )
    elif isinstance(event, events.NonFatalError):
        run.errors.append(event.info.format())
    elif isinstance(event, events.FatalError):
        run.errors.append(repr(event.exception))
    elif isinstance(event, events.EngineFinished):
        run.seconds = event.running_time


def test_the_api_answers_as_its_openapi_document_says(
    client: tuple[Client, Runtime], capsys: pytest.CaptureFixture[str]
) -> None:
    http, _ = client
    case = register(http)
    run = Run()
    app = counting(http.app, run)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config(case["id"]))
    for event in from_schema(schema).execute():
        record(run, event)
    with capsys.disabled():
        print(f"\n{run.figures()}")
    assert not run.errors, "\n\n".join(run.errors)
    assert not run.failures, f"{run.figures()}\n\n" + "\n\n".join(run.failures)
    # every operation of the document: a run that tests fewer has lost some (a schema error)
    paths = http.get("/schema/openapi.json").json()["paths"]
    documented = {
        f"{m.upper()} {path}" for path, item in paths.items() for m in item if m in METHODS
    }
    assert len(documented) >= 46  # the API's operations when the case file was added
    assert run.operations == documented, run.figures()
