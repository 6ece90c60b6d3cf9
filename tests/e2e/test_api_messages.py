"""The case file over HTTP, on SQLite and PostgreSQL: a category from the vocabulary, a summary
that says something, ID numbers and phones that can be trusted; and answers people can read,
in Chinese by default and in English when asked, saying what each field expects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from api.http.runtime import Runtime
from domain.parties import mask_digits
from tests.support.api import (
    API,
    CITY,
    ID_NUMBER,
    SECRET,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    party,
    register,
    registration,
    send,
)

ZH, EN = "zh-CN", "en"

# name → (registration, field, words the Chinese answer holds, words the English one holds)
CASE_FILE: dict[str, tuple[dict[str, Any], str, tuple[str, ...], tuple[str, ...]]] = {
    "everyday words for a category": (
        registration(category="劳资纠纷"),
        "category",
        ("案件类别", "应为以下之一", "劳动争议", "婚姻家庭", "其他"),
        ("category", "must be one of the dispute categories", "劳动争议"),
    ),
    "an incident's category on a dispute": (
        registration(category="消防"),
        "category",
        ("案件类别", "邻里"),
        ("category", "dispute categories"),
    ),
    "a dispute's category on an incident": (
        registration(kind="incident", category="邻里", parties=[]),
        "category",
        ("案件类别", "消防", "群体性事件"),
        ("category", "incident categories", "消防"),
    ),
    "a four-character summary": (
        registration(summary="河堤裂缝"),
        "summary",
        ("摘要", "至少写 5 个字"),
        ("summary", "at least 5 characters"),
    ),
    "an ID number with a wrong check digit": (
        registration(parties=[party(id_number="511123199001091235")]),
        "parties[0].id_number",
        ("第1位当事人的身份证号码", "校验码"),
        ("party 1's ID number", "check digit"),
    ),
    "an ID number born on 30 February": (
        registration(parties=[party(id_number="11010519900230001X")]),
        "parties[0].id_number",
        ("身份证号码", "出生日期"),
        ("ID number", "birth date"),
    ),
    "an ID number of 15 digits": (
        registration(parties=[party(id_number="511123900109123")]),
        "parties[0].id_number",
        ("18 位居民身份证号码",),
        ("18-character resident ID number",),
    ),
    "a Hong Kong phone": (
        registration(parties=[party(), party(name="李四", phone="+85291234567")]),
        "parties[1].phone",
        ("第2位当事人的联系电话", "中国大陆手机号码", "0833-1234567"),
        ("party 2's phone number", "mainland China mobile", "0833-1234567"),
    ),
    "a mobile number one digit short": (
        registration(parties=[party(phone="1398765032")]),
        "parties[0].phone",
        ("联系电话", "11 位"),
        ("phone number", "11 digits"),
    ),
}


def post(http: Client, body: Any, language: str | None = None, **headers: str) -> Any:
    extra = {"accept-language": language} if language else {}
    return http.post(
        f"{API}/cases", json=body, headers={**auth("reporter", VILLAGE), **extra, **headers}
    )


@pytest.mark.parametrize("name", CASE_FILE)
def test_a_case_file_refusal_names_the_field_and_what_it_expects(
    client: tuple[Client, Runtime], name: str
) -> None:
    http, runtime = client
    body, field, chinese, english = CASE_FILE[name]
    before = events_recorded(runtime)

    for language, words in ((None, chinese), (ZH, chinese), (EN, english)):
        answer = post(http, body, language)
        problem = assert_problem(answer, 422)
        assert problem["field"] == field
        assert answer.headers["content-language"] == (language or ZH)
        assert [word for word in words if word not in problem["detail"]] == [], problem

    assert events_recorded(runtime) == before
    assert http.get(f"{API}/cases", headers=auth("admin", CITY)).json()["items"] == []


def test_a_category_written_with_its_ending_is_filed_under_the_vocabularys_word(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client

    dispute = register(http, category="邻里纠纷")
    incident = register(http, kind="incident", category="消防隐患", parties=[])

    assert (dispute["category"], incident["category"]) == ("邻里", "消防")
    listed = http.get(f"{API}/cases?category=邻里", headers=auth("admin", CITY)).json()
    assert [item["id"] for item in listed["items"]] == [dispute["id"]]


def test_mainland_phones_in_any_usual_form_and_valid_id_numbers_are_taken(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    parties = [
        party(phone="+86 138 0000 0001"),
        party(name="李四", role="respondent", id_number="51112319800109123x", phone="0833-5123456"),
        party(name="王五", role="third_party", id_number=None, phone="(0833) 5123456"),
    ]

    case = register(http, parties=parties)

    shown = [(p["id_number"], p["phone"]) for p in case["parties"]]
    assert shown == [  # phones as written, masked; the ID's check letter upper case
        (mask_digits(ID_NUMBER), mask_digits("+86 138 0000 0001")),
        (mask_digits("51112319800109123X"), mask_digits("0833-5123456")),
        (None, mask_digits("(0833) 5123456")),
    ]


def _signed(**claims: Any) -> str:
    now = datetime.now(UTC)
    base = {"sub": "late", "role": "mediator", "unit": VILLAGE,
            "iat": int((now - timedelta(hours=1)).timestamp())}  # fmt: skip
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


def test_an_expired_token_says_it_expired(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    expired = _signed(exp=int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()))
    headers = {"Authorization": f"Bearer {expired}"}

    chinese = http.get(f"{API}/units", headers=headers)
    english = http.get(f"{API}/units", headers={**headers, "Accept-Language": "en"})

    assert assert_problem(chinese, 401)["detail"] == "令牌已过期"
    assert assert_problem(english, 401)["detail"] == "token expired"
    assert chinese.headers["www-authenticate"] == 'Bearer realm="fengqiao", error="invalid_token"'
    missing = http.get(f"{API}/units", headers={"Accept-Language": "en"})
    assert assert_problem(missing, 401)["detail"] == "a Bearer token is required"
    assert missing.headers["www-authenticate"] == 'Bearer realm="fengqiao"'
    forged = http.get(f"{API}/units", headers={"Authorization": f"Bearer {expired[:-4]}abcd"})
    assert assert_problem(forged, 401)["detail"] == "令牌无效"


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        (None, ZH),
        ("en", EN),
        ("en-US,en;q=0.9", EN),
        ("en;q=0.4, zh-CN;q=0.6", ZH),
        ("zh-CN;q=0.4, en;q=0.6", EN),
        ("zh;q=0, *", ZH),
        ("fr-FR", ZH),
    ],
)
def test_the_answer_is_in_the_language_asked_for(
    client: tuple[Client, Runtime], accept_language: str | None, language: str
) -> None:
    http, _ = client

    answer = post(http, registration(summary="河堤裂缝"), accept_language)

    problem = assert_problem(answer, 422)
    assert answer.headers["content-language"] == language
    assert "accept-language" in answer.headers["vary"].lower()
    assert ("摘要" in problem["detail"]) == (language == ZH), problem


def test_a_command_refused_in_its_status_names_both_in_words(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http)
    before = events_recorded(runtime)

    chinese = assert_problem(send(http, case["id"], "close"), 409)
    english = assert_problem(send(http, case["id"], "close", Accept_Language="en"), 409)

    assert chinese["title"] == "当前状态不允许此操作"
    assert "「已登记」" in chinese["detail"], chinese
    assert "不能办结" in chinese["detail"], chinese
    assert english["detail"].startswith("cannot close a case that is registered"), english
    for problem in (chinese, english):  # clients key on the members, whatever the language
        assert (problem["command"], problem["case_status"]) == ("close", "registered")
    assert events_recorded(runtime) == before


def test_a_bad_header_is_told_in_the_callers_language(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case = register(http)

    chinese = send(http, case["id"], "notes", {"text": "x"}, If_Match="seven")
    english = send(http, case["id"], "notes", {"text": "x"}, If_Match="seven", Accept_Language="en")

    assert assert_problem(chinese, 400)["detail"] == '请求头 If-Match 应为案件的版本号，如 "7"。'
    assert assert_problem(english, 400)["detail"] == 'If-Match must be a case version, like "7"'
    assert (chinese.headers["content-language"], english.headers["content-language"]) == (ZH, EN)
    for answer in (chinese, english):
        assert answer.json()["field"] == "If-Match"


def test_a_refusal_kept_for_an_idempotency_key_is_told_again_in_its_words(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    body = registration(category="劳资纠纷")
    first = post(http, body, None, **{"Idempotency-Key": "cat-1"})
    again = post(http, body, None, **{"Idempotency-Key": "cat-1"})

    assert assert_problem(first, 422)["field"] == "category"
    assert again.json() == first.json()
    assert "案件类别" in first.json()["detail"]
