"""好差评 by the public, end to end on SQLite and PostgreSQL: the page a party opens from the
SMS (``/rate/<token>``, no login), the rating it records through their invitation (once, within
the rating window), what a forged link, an expired one and a flood of requests get, staff
ratings and who may not record one, 差评核实 and its clock, and the statistics.

A case is registered with two parties who have phones, worked to resolved by HTTP; resolving
it invites each party (``RatingInvited``), and the test signs each invitation's link as the
notifications would (``api.rating_links.sign_link``, the suite's secret).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import httpx
import pytest
from litestar.testing import TestClient

from api.http.app import create_app
from api.http.runtime import Runtime
from api.rating_links import RatingLink, sign_link
from tests.support.api import (
    ADDRESS,
    API,
    COUNTY,
    ID_NUMBER,
    PHONE,
    SECRET,
    TOWNSHIP,
    VILLAGE,
    Client,
    Store,
    assert_problem,
    auth,
    build_test_runtime,
    events_recorded,
    ok,
    party,
    register,
    send,
    token,
)
from tests.support.backends import store_env
from tests.support.browser import launch, playwright_session
from tests.support.live import LiveServer
from tests.support.sweeps import due, timeline
from tests.support.world import Clock

OTHER_PHONE = "13800000002"
MEDIATOR = f"mediator-{VILLAGE}"  # assigned: works the case, so may not rate it
GRADE_WORDS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Invited:
    """A resolved case and the links its parties were sent (the applicant's first)."""

    case_id: str
    number: str
    tokens: tuple[str, ...]
    expires_at: datetime


def resolved(http: httpx.Client, runtime: Runtime, clock: Clock, category: str = "邻里") -> Invited:
    """A dispute registered with two parties who have phones, assigned, signed, mediated and
    resolved by HTTP, a minute a step; the links of the invitations resolving it sent."""
    respondent = party(name="李四", role="respondent", id_number=None, phone=OTHER_PHONE)
    case = register(http, category=category, parties=[party(), respondent])
    case_id = case["id"]
    supervisor = {"role": "supervisor", "unit": VILLAGE}
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("assign", {"assignee": MEDIATOR}, supervisor),
        ("sign", {}, {}),
        (
            "mediation-sessions",
            {"held_at": "2026-09-28T09:30:00+08:00", "notes": "双方同意疏通", "attendees": []},
            {},
        ),
        ("resolve", {"agreement": "疏通水沟，费用均摊", "form": "written"}, {}),
    ]
    for command, body, who in steps:
        clock.advance(minutes=1)
        ok(send(http, case_id, command, body, **who))
    kase = runtime.app.get_case(UUID(case_id))
    invitations = sorted(kase.invitations.items(), key=lambda item: item[1][0])
    assert [party_index for _, (party_index, _) in invitations] == [0, 1]
    expires_at = invitations[0][1][1]
    assert expires_at == clock.now + timedelta(days=30)  # the policy's rating window
    tokens = tuple(
        sign_link(SECRET, RatingLink(UUID(case_id), UUID(key), expires_at))
        for key, _ in invitations
    )
    return Invited(case_id, kase.number, tokens, expires_at)


def page(http: Client, token: str) -> Any:
    return http.get(f"/rate/{token}")


def submit(http: Client, token: str, **form: str) -> Any:
    return http.post(f"/rate/{token}", content=_form(form), headers=FORM)


def _form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode("utf-8")


def ratings(http: Client, case_id: str) -> list[dict[str, Any]]:
    return [entry for entry in timeline(http, case_id) if entry["event_type"] == "Rated"]


def is_page(answer: Any, status: int) -> str:
    """A Chinese HTML page of ``status`` that loads nothing from anywhere."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-language"] == "zh-CN"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    text: str = answer.text
    assert '<html lang="zh-CN">' in text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in text
    for loaded in ("<script", "src=", "://"):  # nothing from anywhere else
        assert loaded not in text
    return text


def heading(text: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", text)
    assert found is not None, text
    return found.group(1)


# --- the page and the rating ------------------------------------------------------------------


def test_the_page_shows_the_case_and_a_party_rates_it_once(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    invited = resolved(http, runtime, clock)
    applicant = invited.tokens[0]

    shown = is_page(page(http, applicant), 200)
    assert invited.number
    for said in (invited.number, "邻里", "矛盾纠纷"):
        assert said in shown
    for words in GRADE_WORDS:
        assert f"<span>{words}</span>" in shown
    assert 'name="comment" maxlength="500"' in shown
    assert f'action="/rate/{applicant}"' in shown
    # nothing about the parties: not their names, numbers, phones or addresses, even masked
    for personal in ("张三", "李四", ID_NUMBER, PHONE, OTHER_PHONE, ADDRESS, PHONE[:3] + "****"):
        assert personal not in shown
    assert "有效期至北京时间 2026年10月28日 10:0" in shown  # 30 days from the resolution

    clock.advance(minutes=5)
    before = events_recorded(runtime)
    thanks = is_page(submit(http, applicant, grade="satisfied", comment="调解员很耐心 <b>"), 200)
    assert heading(thanks) == "感谢您的评价"
    assert f"您对案件{invited.number}的评价已提交：满意。" in thanks
    rated = ratings(http, invited.case_id)
    assert len(rated) == 1
    assert rated[0]["fields"] == {
        "grade": "satisfied",
        "channel": "citizen_link",
        "comment": "调解员很耐心 <b>",
    }
    assert rated[0]["role"] == "citizen"
    assert rated[0]["text"] == "评价：满意（当事人手机评价）；意见：调解员很耐心 <b>"
    assert events_recorded(runtime) == before + 1  # a good rating opens no review

    # once: the page and a second submit both say it was used, and nothing more is stored
    for answer in (page(http, applicant), submit(http, applicant, grade="very_dissatisfied")):
        used = is_page(answer, 409)
        assert heading(used) == "您已评价过，感谢"
    assert events_recorded(runtime) == before + 1
    # the other party's invitation is their own
    is_page(page(http, invited.tokens[1]), 200)


def test_a_json_client_rates_and_is_refused_in_problem_documents(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    invited = resolved(http, runtime, clock)
    token = invited.tokens[1]
    path = f"/rate/{token}"
    before = events_recorded(runtime)

    for body, status, field in (
        ({"grade": "excellent"}, 422, "grade"),
        ({"comment": "好"}, 422, "grade"),
        ({"grade": "satisfied", "comment": "长" * 501}, 422, "comment"),
        ({"grade": "satisfied", "stars": 5}, 422, "stars"),
        ({"grade": 1}, 422, "grade"),
    ):
        refused = assert_problem(http.post(path, json=body), status)
        assert refused["field"] == field, refused
    duplicate = b'{"grade": "satisfied", "grade": "very_satisfied"}'
    refused = assert_problem(
        http.post(path, content=duplicate, headers={"content-type": "application/json"}), 400
    )
    assert refused["field"] == "grade"
    assert_problem(http.post(path, content=b"{", headers={"content-type": "application/json"}), 400)
    assert events_recorded(runtime) == before

    clock.advance(minutes=1)
    answer = http.post(path, json={"grade": "very_satisfied", "comment": "谢谢"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "number": invited.number,
        "grade": "very_satisfied",
        "rated_at": clock.now.isoformat().replace("+00:00", "Z"),
    }
    again = assert_problem(http.post(path, json={"grade": "satisfied"}), 409)
    assert again["title"] == "已评价过"
    assert again["detail"] == "这个评价邀请已经用过：每个邀请只能评价一次。"
    forged = assert_problem(http.post(f"{path}x", json={"grade": "satisfied"}), 404)
    assert forged["title"] == "未找到"
    assert len(ratings(http, invited.case_id)) == 1


def test_bad_form_input_shows_the_form_again_and_stores_nothing(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    token = resolved(http, runtime, clock).tokens[0]
    before = events_recorded(runtime)

    unchosen = is_page(submit(http, token, comment="还行"), 422)
    assert "请在下面五项中选择一项评价，再提交。" in unchosen
    assert ">还行</textarea>" in unchosen  # what was typed is kept
    wrong = is_page(submit(http, token, grade="excellent", comment="<script>"), 422)
    assert "&lt;script&gt;</textarea>" in wrong
    long = is_page(submit(http, token, grade="dissatisfied", comment="长" * 501), 422)
    assert "意见建议请控制在 500 字以内" in long
    assert 'value="dissatisfied" checked' in long  # the choice is kept
    unknown = is_page(submit(http, token, grade="satisfied", stars="5"), 422)
    assert "提交的内容有误" in unknown
    twice = http.post(f"/rate/{token}", content=b"grade=satisfied&grade=dissatisfied", headers=FORM)
    is_page(twice, 400)
    plain = http.post(
        f"/rate/{token}", content=b"grade=satisfied", headers={"content-type": "text/plain"}
    )
    is_page(plain, 415)
    not_utf8 = http.post(f"/rate/{token}", content=b"grade=\xff", headers=FORM)
    is_page(not_utf8, 400)
    assert events_recorded(runtime) == before
    is_page(page(http, token), 200)  # still unused


def test_an_expired_link_is_gone_and_records_nothing(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    invited = resolved(http, runtime, clock)
    token = invited.tokens[0]

    clock.now = invited.expires_at  # the last instant it works
    is_page(page(http, token), 200)
    clock.now = invited.expires_at + timedelta(seconds=1)
    before = events_recorded(runtime)
    for answer in (page(http, token), submit(http, token, grade="very_dissatisfied")):
        gone = is_page(answer, 410)
        assert heading(gone) == "评价链接已过期"
        assert "有效期至北京时间 2026年10月28日 10:0" in gone
    refused = assert_problem(http.post(f"/rate/{token}", json={"grade": "satisfied"}), 410)
    assert refused["title"] == "评价链接已过期"
    assert events_recorded(runtime) == before
    assert ratings(http, invited.case_id) == []


def test_a_forged_or_altered_link_is_not_found(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    invited = resolved(http, runtime, clock)
    body, tag = invited.tokens[0].split(".")
    case_id = UUID(invited.case_id)
    flipped = ("A" if body[5] != "A" else "B").join((body[:5], body[6:]))
    forged = (
        f"{flipped}.{tag}",  # the body altered: the signature no longer fits
        f"{body}.{tag[:-2]}",  # the signature cut short
        "not-a-link",
        "a" * 300,
        sign_link("another deployment's secret", RatingLink(case_id, uuid4(), invited.expires_at)),
        # signed here, but naming an invitation the case never sent, or a case that is not there
        sign_link(SECRET, RatingLink(case_id, uuid4(), invited.expires_at)),
        sign_link(SECRET, RatingLink(uuid4(), uuid4(), invited.expires_at)),
    )
    before = events_recorded(runtime)
    for link in forged:
        for answer in (page(http, link), submit(http, link, grade="satisfied")):
            assert heading(is_page(answer, 404)) == "评价链接无效"
    assert events_recorded(runtime) == before


def test_a_case_back_in_rework_asks_the_party_to_wait(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    invited = resolved(http, runtime, clock)
    clock.advance(minutes=1)
    supervisor = {"role": "supervisor", "unit": VILLAGE}
    ok(send(http, invited.case_id, "reopen", {"reason": "当事人反映协议未履行"}, **supervisor))
    before = events_recorded(runtime)
    for answer in (
        page(http, invited.tokens[0]),
        submit(http, invited.tokens[0], grade="satisfied"),
    ):
        waiting = is_page(answer, 409)
        assert heading(waiting) == "案件正在重新办理"
        assert "办理完毕后，我们会再次通过短信邀请您评价" in waiting
    refused = assert_problem(
        http.post(f"/rate/{invited.tokens[0]}", json={"grade": "satisfied"}), 409
    )
    assert (
        refused["detail"] == "案件当前为「重新办理中」，不能评价（案件正在重新办理，暂不能评价）。"
    )
    assert events_recorded(runtime) == before


# --- rate limiting ----------------------------------------------------------------------------


def test_one_address_is_limited_to_its_requests_a_minute(store: Store, clock: Clock) -> None:
    runtime = build_test_runtime(store, clock)
    runtime.rate_page_limit = 4
    with TestClient(app=create_app(runtime), raise_server_exceptions=False) as http:
        invited = resolved(http, runtime, clock)
        token = invited.tokens[0]
        answers = [page(http, token) for _ in range(3)]
        answers.append(submit(http, token, grade="very_satisfied"))
        assert [a.status_code for a in answers] == [200, 200, 200, 200]
        assert answers[0].headers["ratelimit-limit"] == "4"
        before = events_recorded(runtime)
        for answer in (page(http, token), submit(http, token, grade="satisfied")):
            limited = is_page(answer, 429)
            assert heading(limited) == "访问过于频繁"
            assert 1 <= int(answer.headers["retry-after"]) <= 60
        refused = http.post(f"/rate/{token}", json={"grade": "satisfied"})
        problem = assert_problem(refused, 429)
        assert problem["title"] == "请求过于频繁"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert events_recorded(runtime) == before
        # the limit is the public page's alone: staff work on
        ok(http.get(f"{API}/cases/{invited.case_id}", headers=auth("auditor", COUNTY)))


# --- staff ratings ----------------------------------------------------------------------------


def test_staff_record_a_callback_and_those_who_handled_the_case_may_not(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    invited = resolved(http, runtime, clock)
    body = {"grade": "very_satisfied", "channel": "phone_callback", "comment": "电话回访"}
    before = events_recorded(runtime)

    # the mediator who worked it (assigned, signed, mediated, resolved) may not judge the work
    handler = send(http, invited.case_id, "ratings", body, user=MEDIATOR)
    refused = assert_problem(handler, 403)
    assert refused["title"] == "无权操作"
    assert refused["detail"] == (
        "只有非本案承办人员（办理过本案的人员不能评价自己办理的案件）可以评价。"
    )
    # nor say it came in through the party's own link
    link = send(http, invited.case_id, "ratings", {**body, "channel": "citizen_link"},
                role="reporter", unit=TOWNSHIP)  # fmt: skip
    assert assert_problem(link, 422)["field"] == "channel"
    assert events_recorded(runtime) == before

    # the township's hotline operator calls the party back and records what they said
    clock.advance(minutes=1)
    taker = f"reporter-{TOWNSHIP}"
    ok(send(http, invited.case_id, "ratings", body, role="reporter", unit=TOWNSHIP))
    (rated,) = ratings(http, invited.case_id)
    assert (rated["actor"], rated["role"]) == (taker, "reporter")
    assert rated["fields"] == body
    assert rated["text"] == "评价：非常满意（电话回访）；意见：电话回访"
    assert rated["at"] == clock.now.isoformat().replace("+00:00", "Z")
    # the party's own link still works: a callback is not their invitation
    is_page(page(http, invited.tokens[0]), 200)


# --- 差评核实 ---------------------------------------------------------------------------------


def queued(http: Client, case_id: str) -> dict[str, Any] | None:
    queue = ok(http.get(f"{API}/queues/{VILLAGE}", headers=auth("supervisor", VILLAGE)))
    found = [item for item in queue["items"] if item["id"] == case_id]
    return found[0] if found else None


def case_now(http: Client, case_id: str) -> dict[str, Any]:
    return ok(http.get(f"{API}/cases/{case_id}", headers=auth("auditor", COUNTY)))


def pending(runtime: Runtime, case_id: str) -> dict[str, tuple[datetime, str]]:
    """The case's clocks in the deadlines view (what the scheduler sweeps): due, rule."""
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    clocks = runtime.views.deadlines.list_for_case(UUID(case_id))
    return {clock.kind: (clock.due_at, clock.rule) for clock in clocks}


# 5 working days from Monday 2026-09-28 (Shanghai): 29, 30 September, then 国庆 (1-7 October),
# 8, 9 and the make-up Saturday 10 October; it ends at 24:00 of that day.
REVIEW_DUE = datetime(2026, 10, 10, 16, 0, tzinfo=UTC)
# 15 working days of rework from Tuesday 2026-09-29: 30 September, 8, 9, 10 (调休), 12-16,
# 19-23 and 26 October; 24:00 of the 26th.
REWORK_DUE = datetime(2026, 10, 26, 16, 0, tzinfo=UTC)


def test_a_bad_rating_is_reviewed_confirmed_or_disputed_and_counted(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    supervisor = {"role": "supervisor", "unit": VILLAGE}
    good, confirmed, disputed = (
        resolved(http, runtime, clock, c) for c in ("邻里", "物业", "婚姻家庭")
    )

    clock.advance(minutes=1)
    is_page(submit(http, good.tokens[0], grade="satisfied"), 200)
    ok(send(http, good.case_id, "ratings", {"grade": "basically_satisfied"},
            role="reporter", unit=TOWNSHIP))  # fmt: skip

    # a bad rating through the link: thanked kindly, and 差评核实 opens on its 5-day clock
    clock.advance(minutes=1)
    thanks = is_page(
        submit(http, confirmed.tokens[0], grade="very_dissatisfied", comment="没解决"), 200
    )
    assert "您反映的问题我们会认真核实，并尽快改进工作。" in thanks
    case = case_now(http, confirmed.case_id)
    assert case["status"] == "resolved"
    assert "rating_review" in case["flags"]
    assert due(case, "rating_review") == REVIEW_DUE
    assert pending(runtime, confirmed.case_id)["rating_review"] == (REVIEW_DUE, "5wd")
    card = queued(http, confirmed.case_id)
    assert card is not None
    assert "rating_review" in card["flags"]
    (opened,) = [
        e for e in timeline(http, confirmed.case_id) if e["event_type"] == "RatingReviewOpened"
    ]
    assert opened["text"] == "差评核实：评价为非常不满意，待主管核实"

    # 属实: back to work on the rework clock, out of review
    clock.now = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
    reviewed = ok(
        send(http, confirmed.case_id, "rating-reviews", {"decision": "confirm"}, **supervisor)
    )
    assert reviewed["status"] == "reopened"
    assert "rating_review" not in reviewed["flags"]
    assert due(reviewed, "resolve") == REWORK_DUE
    assert all(d["kind"] != "rating_review" for d in reviewed["deadlines"])
    assert "rating_review" not in pending(runtime, confirmed.case_id)
    # the other party's link waits for the rework to end
    assert heading(is_page(page(http, confirmed.tokens[1]), 409)) == "案件正在重新办理"

    # 不属实: needs its reason; then recorded, and the case leaves the queue
    is_page(submit(http, disputed.tokens[1], grade="dissatisfied"), 200)
    assert queued(http, disputed.case_id) is not None
    before = events_recorded(runtime)
    no_reason = send(
        http, disputed.case_id, "rating-reviews", {"decision": "dispute"}, **supervisor
    )
    assert assert_problem(no_reason, 422)["field"] == "reason"
    mediator = send(http, disputed.case_id, "rating-reviews", {"decision": "confirm"})
    assert_problem(mediator, 403)  # a mediator's role may not send it at all
    assert events_recorded(runtime) == before
    clock.advance(minutes=1)
    reason = "经回访核实，当事人不满系对方未按期付款，调解工作无不当"
    body = {"decision": "dispute", "reason": reason}
    reviewed = ok(send(http, disputed.case_id, "rating-reviews", body, **supervisor))
    assert reviewed["status"] == "resolved"
    assert "rating_review" not in reviewed["flags"]
    assert queued(http, disputed.case_id) is None
    last = timeline(http, disputed.case_id)[-1]
    assert last["event_type"] == "RatingReviewed"
    assert last["text"] == f"差评核实：不属实；理由：{reason}"
    again = send(http, disputed.case_id, "rating-reviews", body, **supervisor)
    assert assert_problem(again, 409)["detail"].endswith("（没有待核实的差评）。")

    # the county's figures for those two days
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    stats = ok(http.get(f"{API}/stats/{COUNTY}", params={"from": "2026-09-28", "to": "2026-09-29"},
                        headers=auth("supervisor", COUNTY)))  # fmt: skip
    assert stats["ratings_by_channel"] == {
        "citizen_link": 3,
        "phone_callback": 1,
        "visit": 0,
        "hotline": 0,
        "walk_in": 0,
        "staff": 0,
    }
    assert stats["satisfaction_by_channel"] == {
        "citizen_link": pytest.approx(1 / 3),
        "phone_callback": 1.0,
        "visit": None,
        "hotline": None,
        "walk_in": None,
        "staff": None,
    }
    assert (stats["invitations_sent"], stats["invitations_answered"]) == (6, 3)
    assert (
        stats["bad_ratings_reviewed"],
        stats["bad_ratings_confirmed"],
        stats["bad_ratings_disputed"],
    ) == (2, 1, 1)


# --- in Chromium -----------------------------------------------------------------------------

PHONE_SCREEN = {"width": 375, "height": 667}
DESKTOP = {"width": 1366, "height": 900}


@dataclass
class Live:
    """The app under a real server on a test store, a client of it, and Chromium."""

    url: str
    http: httpx.Client
    runtime: Runtime
    browser: Any


@pytest.fixture
def live(tmp_path: Path, clock: Clock) -> Iterator[Live]:
    with playwright_session() as playwright:
        browser = launch(playwright)
        try:
            with store_env("sqlite", tmp_path) as env:
                runtime = build_test_runtime(Store("sqlite", env, tmp_path), clock)
                with (
                    LiveServer(create_app(runtime)) as server,
                    httpx.Client(base_url=server.url) as http,
                ):
                    yield Live(server.url, http, runtime, browser)
        finally:
            browser.close()


@pytest.mark.slow
def test_a_party_rates_on_a_phone_in_chromium(live: Live, clock: Clock, tmp_path: Path) -> None:
    """The link opened in real Chromium on a 375×667 screen: the form fits without zooming or
    scrolling sideways, each choice is a large tap target, and a tap, a comment and the
    button record the rating and show the thank-you. Screenshots before and after are kept
    (the test's directory, and /tmp/rating-page-*.png)."""
    invited = resolved(live.http, live.runtime, clock)
    context = live.browser.new_context(
        viewport=PHONE_SCREEN,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    try:
        rate_on_a_phone(context.new_page(), live.url, invited, tmp_path)
    finally:
        context.close()
    (rated,) = ratings(live.http, invited.case_id)
    assert rated["fields"]["channel"] == "citizen_link"
    assert rated["fields"]["grade"] == "basically_satisfied"


@pytest.mark.slow
def test_the_dashboard_takes_a_callback_and_reviews_a_bad_rating(
    live: Live, clock: Clock, tmp_path: Path
) -> None:
    """On the case page: a hotline operator records a callback with its channel and the
    party's words; the village's supervisor sees the 差评核实 box for a bad rating, is asked
    for a reason to dispute it, and disputes it with one."""
    invited = resolved(live.http, live.runtime, clock)
    clock.advance(minutes=1)
    bad = {"grade": "very_dissatisfied", "comment": "对方至今未付款"}
    ok(live.http.post(f"/rate/{invited.tokens[0]}", json=bad))

    with case_page(live, invited.case_id, token("reporter", TOWNSHIP)) as tab:
        rating = tab.locator('details.action[data-action="ratings"]')
        rating.locator("summary").click()
        rating.locator("select[name=grade]").select_option("satisfied")
        rating.locator("select[name=channel]").select_option("visit")
        rating.locator("textarea[name=comment]").fill("上门回访，当事人表示满意")
        rating.locator("button[type=submit]").click()
        tab.wait_for_selector('#action-message[data-kind="ok"]')
        line = tab.locator('#case-timeline li[data-event="Rated"]').first
        assert "评价：满意（上门回访）" in line.inner_text()
        # whoever reads the case sees the review; its buttons are the owner's supervisor's
        assert tab.locator("#case-rating-review").is_visible()
        assert tab.locator("#review-form").count() == 0

    with case_page(live, invited.case_id, token("supervisor", VILLAGE)) as tab:
        box = tab.locator("#case-rating-review")
        assert "差评核实" in box.locator("h2").inner_text()
        assert box.locator("#review-grade").inner_text() == "非常不满意 · 当事人手机评价"
        assert box.locator("#review-comment").inner_text() == "对方至今未付款"
        keep(tab, tmp_path, "review")
        box.locator("#review-dispute").click()  # no reason yet
        assert "核实情况" in tab.locator("#action-message").inner_text()
        box.locator("#review-reason").fill("经核实系对方未按期付款，调解工作无不当")
        box.locator("#review-dispute").click()
        tab.wait_for_selector("#case-rating-review", state="hidden")
        line = tab.locator('#case-timeline li[data-event="RatingReviewed"]')
        assert "差评核实：不属实；理由：经核实系对方未按期付款" in line.inner_text()
    assert queued(live.http, invited.case_id) is None


@contextmanager
def case_page(live: Live, case_id: str, bearer: str) -> Iterator[Any]:
    """The case page in a desktop tab of its own, signed in with ``bearer``; a script error
    fails the test."""
    context = live.browser.new_context(
        viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    errors: list[str] = []
    try:
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(f"{live.url}/#/")
        tab.fill("#token", bearer)
        tab.click("#signin-submit")
        tab.wait_for_selector("#who-unit")
        tab.goto(f"{live.url}/#/cases/{case_id}")
        tab.wait_for_selector("#case-version")
        yield tab
        assert errors == []
    finally:
        context.close()


def rate_on_a_phone(tab: Any, url: str, invited: Invited, folder: Path) -> None:
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.goto(f"{url}/rate/{invited.tokens[0]}")
    assert tab.locator("h1").inner_text() == "请您评价本次调解工作"
    assert tab.locator("#case-number").inner_text() == invited.number
    # as wide as the screen, text large enough not to need zooming
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    assert tab.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    choices = tab.locator("label.grade")
    assert choices.count() == 5
    for index in range(5):
        box = choices.nth(index).bounding_box()
        assert box is not None
        assert box["height"] >= 48, box
        assert box["width"] >= PHONE_SCREEN["width"] - 40, box
    # the five choices fit the first screen
    last = choices.nth(4).bounding_box()
    assert last is not None
    assert last["y"] + last["height"] <= PHONE_SCREEN["height"]
    keep(tab, folder, "before")

    tab.get_by_text("基本满意", exact=True).tap()
    assert tab.locator("input[value=basically_satisfied]").is_checked()
    tab.locator("#comment").fill("希望以后办理得更快一些。")
    keep(tab, folder, "chosen")
    tab.locator("#submit").tap()
    tab.wait_for_selector("#notice")
    assert tab.locator("h1").inner_text() == "感谢您的评价"
    assert "基本满意" in tab.locator("#notice").inner_text()
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    keep(tab, folder, "after")
    # nothing was fetched from anywhere but the page itself
    assert all(seen.startswith(url) for seen in requests), requests


def keep(tab: Any, folder: Path, name: str) -> None:
    """A full-page screenshot in the test's folder, copied to /tmp to look at."""
    path = folder / f"rating-page-{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    shutil.copyfile(path, Path("/tmp") / path.name)
