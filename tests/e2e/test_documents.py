"""The case file's documents over HTTP, on SQLite and PostgreSQL: each document opens (a Word
file with python-docx, a page as HTML), carries the case number on every page's header and in
its body, says what the case recorded, and names the parties in full only when the assigned
mediator or a supervisor of the owning unit unmasks it with a reason — which is then on the
record, in the case's audit export. A masked copy says it is one (脱敏副本). A document the case
does not have is 404 (never will) or 409 (not now), as a problem document."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import docx
import pytest

from api.documents import DOCX, TEMPLATES_SETTING
from api.http.runtime import Runtime
from api.wiring.settings import Settings, SettingsError
from tests.support.api import (
    API,
    COUNTY,
    ID_NUMBER,
    PHONE,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    party,
    register,
    send,
)

MEDIATOR = "mediator-wang"  # the mediator the case is assigned to
AGREEMENT = "一、李四于2026年10月15日前疏通排水沟；\n二、李四赔偿张三损失人民币伍佰元。"
SESSION_NOTES = "张三陈述：雨水倒灌进屋。\n李四同意疏通排水沟。"
THIRD = "欧阳娜娜"  # a third party with a four-character name


def parties() -> list[dict[str, Any]]:
    return [
        party(),  # 张三, applicant, with ID number, phone and address
        party(name="李四", role="respondent", id_number=None, phone="13800000002", address=None),
        party(name=THIRD, role="third_party", id_number=None, phone=None, address=None),
    ]


def as_mediator(http: Client, case_id: str, command: str, body: dict[str, Any]) -> Any:
    return ok(send(http, case_id, command, body, user=MEDIATOR))


def worked(
    http: Client,
    kind: str = "dispute",
    until: str = "followed_up",
    form: str = "written",
) -> dict[str, Any]:
    """A case registered in the village and worked by its assigned mediator, up to
    ``until``: signed, a session, resolved, followed up."""
    case = register(http, kind=kind, parties=parties(), category="其他")
    case_id = case["id"]
    send(http, case_id, "assign", {"assignee": MEDIATOR}, role="supervisor", unit=VILLAGE)
    as_mediator(http, case_id, "sign", {})
    if until == "signed":
        return case
    held = "2026-09-28T09:30:00+08:00"
    body = {"held_at": held, "notes": SESSION_NOTES, "attendees": ["张三（申请人）", "李四"]}
    as_mediator(http, case_id, "mediation-sessions", body)
    if until == "in_mediation":
        return case
    resolution = {
        "agreement": AGREEMENT,
        "form": form,
        "amount": "500",
        "performance_due": "2026-10-08",
    }
    as_mediator(http, case_id, "resolve", resolution)
    if until == "resolved":
        return case
    as_mediator(
        http, case_id, "follow-ups", {"satisfied": True, "agreement_honoured": True, "note": "好"}
    )
    return case


def fetch(
    http: Client,
    case_id: str,
    path: str,
    form: str = "docx",
    role: str = "mediator",
    unit: str = VILLAGE,
    user: str | None = MEDIATOR,
    **params: str,
) -> Any:
    return http.get(
        f"{API}/cases/{case_id}/documents/{path}",
        params={"format": form, **params},
        headers=auth(role, unit, user),
    )


def word_text(answer: Any) -> tuple[str, str]:
    """A Word file's body (paragraphs and tables) and its first page header, as text."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == DOCX
    document = docx.Document(io.BytesIO(answer.content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [cell.text for row in table.rows for cell in row.cells]
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    return "\n".join(lines), header


# --- the case file ------------------------------------------------------------------------


def test_a_worked_dispute_lists_its_whole_file_and_each_document_opens(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case = worked(http)
    number = case["number"]
    answer = http.get(f"{API}/cases/{case['id']}/documents", headers=auth("reporter", VILLAGE))
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()
    assert [(d["kind"], d["n"]) for d in listed] == [
        ("registration", None),
        ("mediation-record", 1),
        ("mediation-agreement", None),
        ("judicial-confirmation-application", None),
        ("follow-up-record", 1),
    ]
    assert listed[1]["title"] == "调解笔录（第1次）"
    for entry in listed:
        for form in ("docx", "html"):
            answer = http.get(entry[form], headers=auth("reporter", VILLAGE))
            assert answer.status_code == 200, (entry, answer.text)
            if form == "docx":
                body, header = word_text(answer)
                assert number in body, entry
                assert number in header, entry
                assert "脱敏副本" in header, entry
            else:
                assert answer.headers["content-type"] == "text/html; charset=utf-8"
                assert number in answer.text, entry
                assert "脱敏副本" in answer.text, entry


def test_the_agreement_says_what_was_agreed_and_masks_the_parties_by_default(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = worked(http, until="resolved")
    before = events_recorded(runtime)
    answer = fetch(http, case["id"], "mediation-agreement", role="reporter", user=None)
    body, header = word_text(answer)
    assert case["number"] in header
    assert case["number"] in body
    assert "李*于2026年10月15日前疏通排水沟" in body  # the agreement, its parties masked
    assert "李*赔偿张*损失人民币伍佰元" in body
    assert "500.00 元（人民币伍佰元整）" in body
    for plain in ("张三", "李四", THIRD, ID_NUMBER, PHONE):
        assert plain not in body, plain
    assert "张*" in body
    assert "欧***" in body
    assert "511***********1234" in body
    assert "脱敏副本" in body
    assert "不得用于签署" in body
    assert events_recorded(runtime) == before, "a masked copy is not an unmasking"


def test_an_unmasked_agreement_names_the_parties_and_is_on_the_record(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case = worked(http, until="resolved")
    answer = fetch(http, case["id"], "mediation-agreement", unmask="true", reason="当事人签署")
    body, header = word_text(answer)
    for plain in ("张三", "李四", THIRD, ID_NUMBER, PHONE, "李四赔偿张三损失人民币伍佰元"):
        assert plain in body, plain
    assert "脱敏副本" not in body
    assert "脱敏副本" not in header
    name = f"{case['number']}-人民调解协议书.docx"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="_2026_')  # an ASCII stand-in
    assert disposition.endswith(f"; filename*=UTF-8''{quote(name, safe='')}")
    assert answer.headers["cache-control"] == "private, no-store"
    export = http.get(f"{API}/cases/{case['id']}/audit", headers=auth("supervisor", COUNTY))
    assert export.status_code == 200, export.text
    records = [json.loads(line) for line in export.text.splitlines()]
    accesses = [r for r in records if r.get("event_type") == "AccessRecord.Recorded"]
    unmaskings = [r for r in accesses if r["payload"]["kind"] == "unmask"]
    assert len(unmaskings) == 1, accesses
    assert unmaskings[0]["actor"] == MEDIATOR
    assert unmaskings[0]["payload"]["reason"] == "当事人签署"
    assert unmaskings[0]["payload"]["filter"] == {
        "document": "mediation-agreement",
        "n": None,
        "format": "docx",
        "fields": ["name", "id_number", "phone", "address"],
    }


def test_each_session_and_follow_up_has_its_own_numbered_record(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case = worked(http, until="in_mediation")
    body = {"held_at": "2026-09-28T09:45:00+08:00", "notes": "第二次：双方同意方案。"}
    as_mediator(http, case["id"], "mediation-sessions", body)
    first, _ = word_text(fetch(http, case["id"], "mediation-record/1"))
    second, _ = word_text(fetch(http, case["id"], "mediation-record/2"))
    assert "张*陈述：雨水倒灌进屋。" in first
    assert "李*同意疏通排水沟。" in first
    assert "第 1 次" in first
    assert "2026年9月28日 09时30分" in first
    assert "第二次：双方同意方案。" in second
    assert "第 2 次" in second
    assert_problem(fetch(http, case["id"], "mediation-record/3"), 404)
    assert_problem(fetch(http, case["id"], "follow-up-record/1"), 404)
    page = fetch(http, case["id"], "mediation-record/2", form="html")
    assert page.headers["content-disposition"].startswith("inline; ")
    assert (
        quote("调解笔录（第2次）（脱敏副本）.html", safe="") in page.headers["content-disposition"]
    )
    assert "default-src 'none'" in page.headers["content-security-policy"]


# --- who may have a plain copy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "unit", "user", "status"),
    [
        ("mediator", VILLAGE, MEDIATOR, 200),  # assigned
        ("supervisor", COUNTY, None, 200),  # supervises the owning unit
        ("mediator", VILLAGE, "mediator-9", 403),  # a mediator of the village, not assigned
        ("reporter", VILLAGE, None, 403),
        ("auditor", COUNTY, None, 403),
        ("admin", COUNTY, None, 403),
    ],
)
def test_only_the_assigned_mediator_or_a_supervisor_unmasks(
    client: tuple[Client, Runtime], role: str, unit: str, user: str | None, status: int
) -> None:
    http, runtime = client
    case = worked(http, until="signed")
    before = events_recorded(runtime)
    answer = fetch(http, case["id"], "registration", "html", role, unit, user, unmask="true",
                   reason="核对身份")  # fmt: skip
    assert answer.status_code == status, answer.text
    if status == 200:
        assert "张三" in answer.text
        assert ID_NUMBER in answer.text
        assert "脱敏副本" not in answer.text
        assert events_recorded(runtime) == before + 1
    else:
        assert_problem(answer, status)
        assert events_recorded(runtime) == before


def test_unmasking_needs_a_reason_and_masked_copies_need_read_access(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = worked(http, until="signed")
    before = events_recorded(runtime)
    refused = assert_problem(fetch(http, case["id"], "registration", unmask="true"), 422)
    assert refused["field"] == "reason"
    assert_problem(fetch(http, case["id"], "registration", unmask="true", reason="  "), 422)
    assert events_recorded(runtime) == before
    outside = fetch(http, case["id"], "registration", role="reporter", unit="511102", user=None)
    assert_problem(outside, 403)
    assert_problem(http.get(f"{API}/cases/{case['id']}/documents/registration"), 401)


# --- documents a case does not have --------------------------------------------------------


def test_documents_a_case_does_not_have_are_refused(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    incident = worked(http, kind="incident", until="resolved")
    for kind in ("mediation-agreement", "judicial-confirmation-application"):
        problem = assert_problem(fetch(http, incident["id"], kind), 404)
        assert "事件" in problem["detail"]
    assert word_text(fetch(http, incident["id"], "mediation-record/1"))[0]  # sessions it has
    signed = worked(http, until="signed")
    problem = assert_problem(fetch(http, signed["id"], "mediation-agreement"), 409)
    assert problem["case_status"] == "signed"
    assert "没有生效的调解协议" in problem["detail"]
    english = http.get(
        f"{API}/cases/{signed['id']}/documents/mediation-agreement",
        headers={**auth("reporter", VILLAGE), "Accept-Language": "en"},
    )
    assert "no agreement in force" in assert_problem(english, 409)["detail"]
    oral = worked(http, until="resolved", form="oral")
    assert word_text(fetch(http, oral["id"], "mediation-agreement"))[0]
    problem = assert_problem(fetch(http, oral["id"], "judicial-confirmation-application"), 409)
    assert "口头协议" in problem["detail"]
    assert_problem(fetch(http, signed["id"], "no-such-document"), 404)
    assert_problem(fetch(http, signed["id"], "mediation-record/0"), 422)
    assert_problem(fetch(http, signed["id"], "registration", form="pdf"), 422)


def test_a_reopened_case_has_no_agreement_until_resolved_again(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case = worked(http)
    reopen = {"reason": "协议履行出现反复"}
    send(http, case["id"], "reopen", reopen, role="supervisor", unit=VILLAGE)
    problem = assert_problem(fetch(http, case["id"], "mediation-agreement"), 409)
    assert problem["case_status"] == "reopened"
    # what was held and visited stays on file
    assert word_text(fetch(http, case["id"], "mediation-record/1"))[0]
    assert word_text(fetch(http, case["id"], "follow-up-record/1"))[0]
    as_mediator(
        http, case["id"], "resolve", {"agreement": "重新协商：李四另付一百元。", "form": "written"}
    )
    body, _ = word_text(fetch(http, case["id"], "mediation-agreement"))
    assert "重新协商：李*另付一百元。" in body
    assert "疏通排水沟" not in body


# --- a county's own templates --------------------------------------------------------------


def test_a_county_replaces_a_template_by_name(
    client: tuple[Client, Runtime], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    http, runtime = client
    case = worked(http, until="signed")
    county = "<!doctype html><title>{{ number }}</title><p>犍为县样式 {{ number }} "
    (tmp_path / "registration.html").write_text(county + "{{ parties[0].name }}", "utf-8")
    # as Settings.application_env() hands FENGQIAO_DOCUMENT_TEMPLATES to the application
    monkeypatch.setitem(runtime.app.env, TEMPLATES_SETTING, str(tmp_path))
    page = fetch(http, case["id"], "registration", form="html")
    assert page.text == f"<!doctype html><title>{case['number']}</title><p>犍为县样式 " + (
        f"{case['number']} 张*"
    )
    # the county replaced one file: every other template is the packaged one
    body, _ = word_text(fetch(http, case["id"], "registration"))
    assert case["number"] in body


def test_the_templates_setting_names_a_directory(tmp_path: Path) -> None:
    assert Settings.from_env({}).document_templates is None
    data = {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env({**data, TEMPLATES_SETTING: str(tmp_path)})
    assert settings.document_templates == tmp_path
    assert settings.application_env()[TEMPLATES_SETTING] == str(tmp_path)
    with pytest.raises(SettingsError, match=TEMPLATES_SETTING):
        Settings.from_env({TEMPLATES_SETTING: str(tmp_path / "missing")})


# --- the OpenAPI document ------------------------------------------------------------------


def test_the_documents_are_in_the_openapi_document(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    paths = http.get("/schema/openapi.json").json()["paths"]
    agreement = paths["/api/v1/cases/{case_id}/documents/mediation-agreement"]["get"]
    answer = agreement["responses"]["200"]
    assert set(answer["content"]) == {"text/html", DOCX}
    assert answer["headers"]["Content-Disposition"]["required"]
    assert set(agreement["responses"]) == {"200", "401", "403", "404", "409", "422", "503"}
    record = paths["/api/v1/cases/{case_id}/documents/mediation-record/{n}"]["get"]
    assert "409" not in record["responses"]
    parameters = {p["name"]: p for p in record["parameters"]}
    assert parameters["n"]["schema"]["minimum"] == 1
    assert parameters["format"]["schema"]["enum"] == ["html", "docx"]
    listed = paths["/api/v1/cases/{case_id}/documents"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["type"] == "array"
