"""The words of problem answers, with no server: which language a caller gets, how a field is
named, what a field expects said from its type, and a Chinese sentence for every rule the
domain refuses by.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import domain
from api.http import messages, schemas
from api.http.errors import told_headers
from api.http.expectations import describe, reason, type_at
from api.http.i18n import EN, ZH, negotiate
from api.http.labels import label
from api.http.messages import rule
from domain import bounds
from domain.errors import InvalidInputError
from domain.intake import Intake
from domain.parties import Party, validated
from domain.status import PartyRole

NOW = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, ZH),
        ("", ZH),
        ("en", EN),
        ("en-GB,en;q=0.9", EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", ZH),
        ("en;q=0.5, zh;q=0.8", ZH),  # the higher weight, not the first
        ("zh;q=0.5, en;q=0.8", EN),
        ("zh;q=0, en", EN),  # q=0: not Chinese
        ("en;q=0", ZH),  # nothing acceptable that we speak: the default
        ("fr-FR, de;q=0.9", ZH),
        ("fr, en;q=0.1", EN),
        ("*", ZH),
        ("zh-TW", ZH),
        ("en;q=abc, zh", ZH),  # a malformed weight drops its range
        ("EN-us", EN),
        ("en;q=0.8, zh;q=0.8", EN),  # a tie: the earlier
    ],
)
def test_the_callers_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language


@pytest.mark.parametrize(
    ("path", "chinese", "english"),
    [
        ("summary", "摘要", "summary"),
        ("parties[0].id_number", "第1位当事人的身份证号码", "party 1's ID number"),
        ("parties[11].phone", "第12位当事人的联系电话", "party 12's phone number"),
        ("triggers[2]", "第3项预警情形", "trigger 3"),
        ("body", "请求内容", "request body"),
        ("priority", "priority", "priority"),  # unknown to us: its path
    ],
)
def test_a_field_is_named_as_people_know_it(path: str, chinese: str, english: str) -> None:
    assert (label(path, ZH), label(path, EN)) == (chinese, english)


def test_a_field_can_mean_another_thing_in_another_body() -> None:
    assert label("kind", ZH) == "案件类型"
    assert label("kind", ZH, "ExtendDeadline") == "期限类型"


@pytest.mark.parametrize(
    ("root", "path", "chinese", "english"),
    [
        (schemas.RegisterCase, "summary", "1 到 2,000 个字符的文字", "text of 1 to 2,000"),
        (schemas.RegisterCase, "amount_involved", '"1200.50"', 'like "1200.50"'),
        (schemas.RegisterCase, "people_involved", "0 到 1,000,000 之间的整数", "whole number"),
        (schemas.RegisterCase, "level", "red（红色）", "one of: orange, red, yellow"),
        (schemas.RegisterCase, "occurred_at", "带时区的日期时间", "with its offset"),
        (schemas.RegisterCase, "parties", "至多 200 项", "at most 200 items"),
        (schemas.RegisterCase, "parties[3].role", "applicant（申请人）", "third_party"),
        (schemas.RecordFollowUp, "satisfied", "true 或 false", "true or false"),
        (schemas.RegisterCase, "", "JSON 对象", "a JSON object"),
    ],
)
def test_what_a_field_expects_is_said_from_its_type(
    root: object, path: str, chinese: str, english: str
) -> None:
    kind = type_at(root, path)

    assert chinese in describe(kind, ZH)
    assert english in describe(kind, EN)


def test_msgspecs_own_words_never_reach_the_caller() -> None:
    amount = type_at(schemas.RegisterCase, "amount_involved")
    message = "Expected `str` matching regex '^[0-9]{1,12}(\\.[0-9]{1,2})?$'"
    nul = "Expected `str` matching regex '^[^\\x00]*$'"

    for said in (reason(message, amount, ZH), reason(message, amount, EN)):
        assert [leak for leak in ("regex", "`", "[0-9]") if leak in said] == []
    assert reason(nul, type_at(schemas.RegisterCase, "summary"), ZH) == "不能含有 NUL 字符"
    assert reason("Object missing required field `summary`", None, EN) == "is required"


def _party(id_number: str | None = None, phone: str | None = None) -> Callable[[], object]:
    return lambda: validated([Party("张三", PartyRole.APPLICANT, id_number, phone)])


REFUSALS: dict[str, Callable[[], object]] = {
    "aware_time": lambda: bounds.in_the_past("held_at", datetime(2026, 9, 1), NOW),  # noqa: DTZ001
    "not_before": lambda: bounds.in_the_past("held_at", bounds.EARLIEST - timedelta(1), NOW),
    "before": lambda: bounds.decision_time(bounds.LATEST),
    "not_future": lambda: bounds.in_the_past("occurred_at", NOW + timedelta(days=1), NOW),
    "years_ahead": lambda: bounds.ahead("until", NOW + timedelta(days=3650), NOW),
    "later_than": lambda: bounds.extension("until", NOW, NOW),
    "extension": lambda: bounds.extension("until", NOW + timedelta(days=91), NOW),
    "max_items": lambda: bounds.at_most("triggers", list(range(21)), 20),
    "length": lambda: validated([Party(" ", PartyRole.APPLICANT)]),
    "max_length": lambda: validated([Party("张三", PartyRole.APPLICANT, address="村" * 301)]),
    "min_length": lambda: Intake().summary("河堤裂缝"),
    "required": lambda: Intake().summary(" "),
    "no_nul": lambda: Intake().summary("两户\x00因排水沟发生争执"),
    "one_of": lambda: Intake().category("dispute", "劳资纠纷"),
    "id_number_format": _party(id_number="12345"),
    "id_number_checksum": _party(id_number="511123199001091235"),
    "id_number_birth_date": _party(id_number="11010519900230001X"),
    "phone": _party(phone="95588"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_every_rule_the_domain_refuses_by_is_said_in_chinese(name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        REFUSALS[name]()

    error = caught.value
    said = rule(error.rule, error.limits)
    assert error.rule == name
    assert said
    assert [word for word in ("must", "regex", "None") if word in said] == []


def test_a_kept_refusal_says_which_language_it_was_told_in() -> None:
    """A refusal kept for an Idempotency-Key is sent again as stored: its language is read
    from its title, so the resend carries the Content-Language the first answer had."""
    chinese = {"title": "当前状态不允许此操作", "status": 409}
    english = {"title": "Command not allowed", "status": 409}

    assert told_headers(chinese)["Content-Language"] == ZH
    assert told_headers(english)["Content-Language"] == EN


@pytest.mark.parametrize(
    ("detail", "words"),
    [
        ("already signed for", "案件已签收"),
        ("511123001 must sign for it first", "须先由 511123001 签收"),
        ("no pending follow_up clock", "没有进行中的回访期限"),
        ("a red case cannot go below county", "红色预警案件不能退回到县级以下"),
        ("511123 is the top tier for cases (矛盾不上交)", "511123 已是最高层级（矛盾不上交）"),
        (
            "the last follow-up found the parties dissatisfied or the agreement not honoured: "
            "a supervisor reopens it for rework or closes it with a reason",
            "最近一次回访当事人不满意或协议未履行：须由主管重新办理，或注明理由后销号",
        ),
    ],
)
def test_a_state_refusal_says_why_in_chinese(detail: str, words: str) -> None:
    assert messages.not_allowed(detail) == words


def test_every_refusal_the_cases_raise_has_a_chinese_reading() -> None:
    """Each reason the case modules give for refusing a command in a state is read in Chinese."""
    sources = "".join(
        p.read_text(encoding="utf-8") for p in Path(domain.__file__).parent.rglob("*.py")
    )
    said = re.findall(r'_refuse\(\s*c\.\w+(?:\.again)?,\s*f?"([^"]+)"', sources)
    said += re.findall(r'self\._refuse\(command, f?"([^"]+)"\)', sources)
    assert len(said) >= 10
    for detail in said:
        example = re.sub(r"\{[^}]+\}", "x", detail).replace("a x case", "a red case")
        assert messages.not_allowed(example) != example, detail
