"""Retries and races: Idempotency-Key, If-Match, and two clients on one case at once."""

from __future__ import annotations

import threading
from typing import Any

from api.http.runtime import Runtime
from tests.support.api import (
    API,
    COUNTY,
    VILLAGE,
    Client,
    Store,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    registration,
    send,
    serving,
)
from tests.support.world import Clock


def post_case(http: Client, key: str, body: dict[str, Any] | None = None, **who: str) -> Any:
    role, unit = who.get("role", "reporter"), who.get("unit", VILLAGE)
    headers = auth(role, unit, who.get("user"), Idempotency_Key=key)
    return http.post(f"{API}/cases", json=body or registration(), headers=headers)


def count_cases(http: Client) -> int:
    listed = http.get(f"{API}/cases?limit=500", headers=auth("auditor", COUNTY))
    return len(listed.json()["items"])


def test_a_resent_registration_gets_the_first_answer_and_records_nothing(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    first = post_case(http, "register-1")
    assert first.status_code == 201
    recorded = events_recorded(runtime)
    clock.advance(minutes=5)  # a retry later still gets the answer of the time it ran
    for _ in range(3):
        again = post_case(http, "register-1")
        assert again.status_code == 201
        assert again.content == first.content
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["etag"] == first.headers["etag"]
    assert events_recorded(runtime) == recorded
    assert count_cases(http) == 1


def test_a_resent_command_gets_the_first_answer_and_records_nothing(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http)
    note = {"text": "第一次回访电话"}
    first = send(http, case["id"], "notes", note, Idempotency_Key="note-1")
    assert ok(first)["version"] == 2
    recorded = events_recorded(runtime)
    again = send(http, case["id"], "notes", note, Idempotency_Key="note-1")
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["etag"] == '"2"'
    assert events_recorded(runtime) == recorded
    history = http.get(f"{API}/cases/{case['id']}/history", headers=auth("auditor", COUNTY))
    assert [entry["event_type"] for entry in history.json()] == ["Registered", "NoteAdded"]
    # A resend answers as it first did even once the case has moved on.
    ok(send(http, case["id"], "sign"))
    late = send(http, case["id"], "notes", note, Idempotency_Key="note-1")
    assert late.content == first.content
    # Without a key the same request is a new command.
    assert ok(send(http, case["id"], "notes", note))["version"] == 4


def test_a_key_reused_with_another_request_is_refused(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    case = register(http)
    mine = post_case(http, "shared-key")
    assert mine.status_code == 201
    recorded = events_recorded(runtime)
    other_body = post_case(http, "shared-key", registration(summary="另一件事"))
    problem = assert_problem(other_body, 422)
    assert problem["field"] == "Idempotency-Key"
    other_path = send(http, case["id"], "notes", {"text": "x"}, "reporter", VILLAGE,
                      Idempotency_Key="shared-key")  # fmt: skip
    assert_problem(other_path, 422)
    assert events_recorded(runtime) == recorded
    # Keys belong to their caller: another user's identical key is their own request.
    theirs = post_case(http, "shared-key", user="grid-worker-2")
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert count_cases(http) == 3


def test_a_refusal_is_kept_for_its_key_and_a_new_key_runs_afresh(
    client: tuple[Client, Runtime],
) -> None:
    """The case refused the command: the same request under the same key is told the same,
    even once the case has moved on so that it would now succeed; a new key runs it."""
    http, runtime = client
    case = register(http)
    body = {"agreement": "双方和解", "form": "oral"}
    refused = send(http, case["id"], "resolve", body, Idempotency_Key="resolve-1")
    assert assert_problem(refused, 409)["command"] == "resolve"
    ok(send(http, case["id"], "sign"))
    held = {"held_at": "2026-09-28T01:00:00Z", "notes": "调解"}
    ok(send(http, case["id"], "mediation-sessions", held))
    recorded = events_recorded(runtime)
    again = send(http, case["id"], "resolve", body, Idempotency_Key="resolve-1")
    assert (again.status_code, again.content) == (409, refused.content)
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["content-language"] == refused.headers["content-language"] == "zh-CN"
    assert events_recorded(runtime) == recorded
    resolved = send(http, case["id"], "resolve", body, Idempotency_Key="resolve-2")
    assert ok(resolved)["status"] == "resolved"
    recorded = events_recorded(runtime)
    assert send(http, case["id"], "resolve", body, Idempotency_Key="resolve-2").content == (
        resolved.content
    )
    assert events_recorded(runtime) == recorded


def test_copies_of_one_request_racing_each_other_run_it_once(
    client: tuple[Client, Runtime],
) -> None:
    """Eight copies of one registration, and then of one note, sent at the same moment under
    one key: one case, one note, every copy answered the same, none left waiting."""
    http, _ = client
    copies = 8
    start = threading.Barrier(copies)
    answers: list[Any] = []

    def post(url: str, body: dict[str, Any], key: str, role: str) -> None:
        start.wait()
        headers = auth(role, VILLAGE, Idempotency_Key=key)
        answers.append(http.post(url, json=body, headers=headers))

    def race(url: str, body: dict[str, Any], key: str, role: str) -> list[Any]:
        answers.clear()
        threads = [
            threading.Thread(target=post, args=(url, body, key, role)) for _ in range(copies)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return list(answers)

    registered = race(f"{API}/cases", registration(), "same-registration", "reporter")
    assert {a.status_code for a in registered} == {201}, [a.text for a in registered]
    assert len({a.content for a in registered}) == 1
    assert count_cases(http) == 1
    case_id = registered[0].json()["id"]
    noted = race(f"{API}/cases/{case_id}/notes", {"text": "同一条备注"}, "same-note", "mediator")
    assert {a.status_code for a in noted} == {200}, [a.text for a in noted]
    assert len({a.content for a in noted}) == 1
    history = http.get(f"{API}/cases/{case_id}/history", headers=auth("auditor", COUNTY))
    assert [entry["event_type"] for entry in history.json()] == ["Registered", "NoteAdded"]


def test_keys_survive_a_restart(store: Store, clock: Clock) -> None:
    with serving(store, clock) as (http, runtime):
        first = post_case(http, "before-restart")
        assert first.status_code == 201
        case_id = first.json()["id"]
        noted = send(http, case_id, "notes", {"text": "重启前"}, Idempotency_Key="note-before")
        assert noted.status_code == 200
        recorded = events_recorded(runtime)
    with serving(store, clock) as (http, runtime):
        assert events_recorded(runtime) == recorded
        again = post_case(http, "before-restart")
        assert (again.status_code, again.content) == (201, first.content)
        renoted = send(http, case_id, "notes", {"text": "重启前"}, Idempotency_Key="note-before")
        assert (renoted.status_code, renoted.content) == (200, noted.content)
        assert_problem(post_case(http, "before-restart", registration(summary="别的")), 422)
        assert events_recorded(runtime) == recorded
        assert count_cases(http) == 1


def test_a_stale_if_match_is_refused_with_the_current_version(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http)
    signed = send(http, case["id"], "sign", If_Match='"1"')
    assert ok(signed)["version"] == 2
    assert signed.headers["etag"] == '"2"'
    recorded = events_recorded(runtime)
    for stale in ('"1"', "1", 'W/"1"', '"9"'):
        refused = send(http, case["id"], "notes", {"text": "迟到的备注"}, If_Match=stale)
        problem = assert_problem(refused, 409)
        assert problem["current_version"] == 2
    assert events_recorded(runtime) == recorded
    current = http.get(f"{API}/cases/{case['id']}", headers=auth("auditor", COUNTY))
    assert current.json()["version"] == 2
    assert current.headers["etag"] == '"2"'
    fresh = send(http, case["id"], "notes", {"text": "备注"}, If_Match=current.headers["etag"])
    assert ok(fresh)["version"] == 3
    bad = send(http, case["id"], "notes", {"text": "备注"}, If_Match="latest")
    assert assert_problem(bad, 400)["field"] == "If-Match"
    assert events_recorded(runtime) == recorded + 1


def test_two_clients_on_one_case_lose_no_update(client: tuple[Client, Runtime]) -> None:
    """Two mediators add notes at once without If-Match: every note is kept, in some order,
    and each answer is the case as that note left it."""
    http, runtime = client
    case = register(http)
    per_client = 6
    answers: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    failures: list[str] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        for n in range(per_client):
            note = {"text": f"{name}-{n}"}
            answer = send(http, case["id"], "notes", note, user=f"mediator-{name}")
            if answer.status_code != 200:
                failures.append(answer.text)
            else:
                answers[name].append(answer.json())

    threads = [threading.Thread(target=work, args=(name,)) for name in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    versions = sorted(a["version"] for name in answers for a in answers[name])
    assert versions == list(range(2, 2 + 2 * per_client))  # each answer a distinct version
    for seen in answers.values():  # each client saw its own notes land in order
        mine = [a["version"] for a in seen]
        assert mine == sorted(mine)
    history = http.get(f"{API}/cases/{case['id']}/history", headers=auth("auditor", COUNTY))
    notes = [entry for entry in history.json() if entry["event_type"] == "NoteAdded"]
    assert len(notes) == 2 * per_client
    assert {entry["actor"] for entry in notes} == {"mediator-a", "mediator-b"}
    final = http.get(f"{API}/cases/{case['id']}", headers=auth("auditor", COUNTY)).json()
    assert final["version"] == 1 + 2 * per_client
    queued = http.get(f"{API}/queues/{VILLAGE}", headers=auth("auditor", COUNTY)).json()
    assert queued["items"][0]["version"] == final["version"]
    assert events_recorded(runtime) >= final["version"]


# enrolled mediators of the village (``tests.support.staff``), one assigned in each round
VILLAGE_MEDIATORS = ("mediator-9", "mediator-a", "mediator-b")


def test_two_clients_with_the_same_if_match_one_wins_one_is_told(
    client: tuple[Client, Runtime],
) -> None:
    """Both read version 1 and send a command with If-Match 1 at once: exactly one is
    recorded; the other gets 409 with the version the winner made."""
    http, runtime = client
    for round_ in range(3):
        case = register(http)
        recorded = events_recorded(runtime)
        jobs = {
            "sign": ("sign", {}, "mediator"),
            "assign": ("assign", {"assignee": VILLAGE_MEDIATORS[round_]}, "supervisor"),
        }
        results = race(http, case["id"], jobs)
        statuses = sorted(answer.status_code for answer in results.values())
        assert statuses == [200, 409], {k: v.text for k, v in results.items()}
        winner = next(a for a in results.values() if a.status_code == 200).json()
        loser = next(a for a in results.values() if a.status_code == 409).json()
        assert winner["version"] == 2
        assert loser["current_version"] == 2
        assert events_recorded(runtime) == recorded + 1
        final = http.get(f"{API}/cases/{case['id']}", headers=auth("auditor", COUNTY)).json()
        assert final == winner


def race(
    http: Client, case_id: str, jobs: dict[str, tuple[str, dict[str, Any], str]]
) -> dict[str, Any]:
    """Sends each job's command with If-Match 1, all released at the same moment."""
    results: dict[str, Any] = {}
    start = threading.Barrier(len(jobs))

    def work(name: str) -> None:
        command, body, role = jobs[name]
        start.wait()
        results[name] = send(http, case_id, command, body, role=role, If_Match='"1"')

    threads = [threading.Thread(target=work, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
