"""What the OpenAPI document says an endpoint answers: its success type and media type, its
headers, and the problem documents (``application/problem+json``) of every error status it can
return — and nothing it cannot.

Litestar, left to itself, documents a handler that answers with prepared bytes or a stream as
"a JSON string", adds its own 400 shape (never sent here: every error goes through
``api.http.errors``) to every handler with parameters, and cannot say that an answer has a
header, two media types, or no token requirement. So each route declares its ``responses`` with
``answers``/``problems`` and its ``operation_class`` with ``contract``, which finishes the
operation Litestar generated (``finish``). ``tests/e2e/test_schemathesis.py`` holds the
document to what the API really sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.typing import FieldDefinition

from api.http.errors import PROBLEM
from api.http.schemas import ProblemOut, QueueChangeOut, StreamReadyOut

JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"  # Litestar adds "; charset=utf-8" to every text/* answer itself
EVENT_STREAM = "text/event-stream"
COMPONENT = "#/components/schemas/{name}"

ERRORS = {
    400: "Malformed JSON, a missing body, a key given twice, a bad If-Match or Idempotency-Key.",
    401: "No token, or a bad or expired one.",
    403: "Outside the caller's subtree or role, or it needs an approver.",
    404: "No such case, or no such unit in the path.",
    409: "A stale If-Match (current_version), or not allowed in this status.",
    413: "A body over 1 MiB.",
    415: "A body not declared JSON.",
    422: "A field refused (named, with the limit), an unknown unit, or an Idempotency-Key reused.",
    503: "The store cannot be reached (Retry-After says when to try again), or not served here.",
}
# What kinds of endpoint can refuse, besides what their own parameters add.
REGISTER_ERRORS = (400, 401, 403, 413, 415, 422, 503)
COMMAND_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 503)
BODYLESS_COMMAND_ERRORS = (400, 401, 403, 404, 409, 413, 422, 503)  # no body: no 415
READ_ERRORS = (401, 403, 404, 422, 503)  # a case or unit in the path, checked parameters

TEXT = Schema(type=OpenAPIType.STRING)
ETAG = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING, pattern=r'^"[0-9]+"$'),
    description="The case's version, for If-Match.",
    required=True,
)
LOCATION = OpenAPIHeader(schema=TEXT, description="The new case's URL.", required=True)
ATTACHMENT = OpenAPIHeader(
    schema=TEXT, description='attachment; filename="audit-….jsonl" (or .csv)', required=True
)
# Headers of the problem documents that carry one (``api.http.errors``).
PROBLEM_HEADERS = {
    401: {
        "WWW-Authenticate": OpenAPIHeader(
            schema=TEXT, description='Bearer realm="fengqiao"', required=True
        )
    },
    503: {
        "Retry-After": OpenAPIHeader(
            schema=Schema(type=OpenAPIType.STRING, pattern="^[0-9]+$"),
            description="Seconds to wait, when the store cannot be reached.",
        )
    },
}
# The request headers of commands (``api.http.commands.run``): documented only, since the
# command reads and refuses them itself (400), where a Litestar parameter would answer 422.
IF_MATCH = Parameter(
    name="If-Match",
    param_in="header",
    required=False,
    schema=Schema(type=OpenAPIType.STRING, pattern=r'^(W/)?"?[0-9]+"?$'),
    description='The version the caller saw ("7" or 7): 409 when the case has moved on.',
)
IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in="header",
    required=False,
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=200),
    description="Runs the command once per caller and key; a resend gets the first answer.",
)
COMMAND_HEADERS = (IF_MATCH, IDEMPOTENCY_KEY)


# A period bound (``routes.reads.parse_bound``): documented, and refused with 422 naming the
# bound by the handler itself, which also refuses dates out of its range.
BOUND = {
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$",
    "description": "An ISO date (a whole day in Shanghai) or a date-time with its offset.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """A problem document under each status, described as ``ERRORS`` says."""
    return {
        status: ResponseSpec(
            ProblemOut, description=ERRORS[status], media_type=PROBLEM, generate_examples=False
        )
        for status in statuses
    }


def answers(
    status: int,
    answer: Any,
    description: str,
    errors: Sequence[int] = tuple(ERRORS),
    media_type: str = JSON,
) -> dict[int, ResponseSpec]:
    """The ``responses`` of a route: ``answer`` on ``status``, problem documents on ``errors``."""
    success = ResponseSpec(
        answer, description=description, media_type=media_type, generate_examples=False
    )
    return {status: success, **problems(*errors)}


Headers = Mapping[int, Mapping[str, OpenAPIHeader]]
Content = Mapping[int, Mapping[str, Schema | Reference]]


def contract(
    *,
    public: bool = False,
    headers: Headers | None = None,
    content: Content | None = None,
    parameters: Sequence[Parameter] = (),
    optional_body: bool = False,
) -> type[Operation]:
    """The ``operation_class`` of a route: the operation Litestar generates, finished by
    ``finish`` with what a ``ResponseSpec`` cannot say (and, for a body every field of which
    is optional, that the body itself may be left out: Litestar marks it required)."""

    @dataclass
    class Contract(Operation):
        def __post_init__(self) -> None:
            finish(self, public, headers or {}, content or {}, parameters)
            if optional_body and isinstance(self.request_body, RequestBody):
                self.request_body.required = False

    return Contract


def finish(
    operation: Operation,
    public: bool,
    headers: Headers,
    content: Content,
    parameters: Sequence[Parameter],
) -> None:
    """Drops Litestar's own 400 shape, completes each answer (``_complete``), adds request
    headers; a ``public`` route needs no token (an empty ``security``: Litestar writes none for
    one, and the document's bearer requirement would apply)."""
    responses = operation.responses or {}
    if not _is_problem(responses.get("400")):
        responses.pop("400", None)
    for code, response in responses.items():
        if isinstance(response, OpenAPIResponse):
            status = int(code)
            _complete(response, status, public, headers.get(status, {}), content.get(status, {}))
    if parameters:
        operation.parameters = [*(operation.parameters or []), *parameters]
    if public:
        operation.security = []


def _complete(
    response: OpenAPIResponse,
    status: int,
    public: bool,
    headers: Mapping[str, OpenAPIHeader],
    content: Mapping[str, Schema | Reference],
) -> None:
    """An answer's headers (a problem document's too, as ``api.http.errors`` sends them on the
    API; not on ``/ready``) and further media types."""
    added = dict(headers)
    if _is_problem(response) and not public:
        added.update(PROBLEM_HEADERS.get(status, {}))
    if added:
        response.headers = {**(response.headers or {}), **added}
    if content:
        media = {name: OpenAPIMediaType(schema=schema) for name, schema in content.items()}
        response.content = {**(response.content or {}), **media}


def _is_problem(response: OpenAPIResponse | Reference | None) -> bool:
    return isinstance(response, OpenAPIResponse) and PROBLEM in (response.content or {})


def component(name: str) -> Reference:
    return Reference(ref=COMPONENT.format(name=name))


# --- server-sent events ----------------------------------------------------------------------


def json_text(payload: type[msgspec.Struct]) -> Schema:
    """An event's ``data``: ``payload`` as JSON text. Its schema is msgspec's, its references to
    other answer types pointing at the document's components (Litestar makes those)."""
    _, schemas = msgspec.json.schema_components([payload], ref_template=COMPONENT)
    # Litestar serialises a plain JSON Schema as it is; its ``Schema`` type does not say so.
    return Schema(
        type=OpenAPIType.STRING,
        content_media_type=JSON,
        content_schema=cast(Schema, schemas[payload.__name__]),
    )


def event(name: str, payload: type[msgspec.Struct], **more: Schema) -> Schema:
    """One server-sent event as a client parses it: its name, its data and any other field."""
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["data", "event"],
        properties={
            "event": Schema(type=OpenAPIType.STRING, const=name),
            "data": json_text(payload),
            **more,
        },
    )


QUEUE_EVENTS = Schema(
    one_of=[
        event("ready", StreamReadyOut, retry=Schema(type=OpenAPIType.INTEGER)),
        event("queue", QueueChangeOut),
    ],
    description="Each event of the stream: first `ready`, then one `queue` event per changed "
    "case (keep-alive comments in between are not events).",
)


# --- request bodies --------------------------------------------------------------------------

# One or more bodies each request Struct accepts, by its name: what the schema page shows and
# "Try it out" pre-fills, so an integrator starts from a body that is accepted rather than from
# "string". Kept here, not beside each route, so every body gets one in one place;
# tests/e2e/test_schema_offline.py decodes each through its Struct, and every body must have one.
REQUEST_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "PartyIn": [
        {"name": "张三", "role": "applicant", "id_number": "511123199001091234",
         "phone": "13987650321", "address": "四川省乐山市犍为县罗城镇石溪村三组12号"},
    ],
    "RegisterCase": [
        {"kind": "dispute", "unit": "511123001001", "category": "邻里",
         "summary": "两户因排水沟堵塞发生争执", "channel": "grid_patrol", "level": "yellow",
         "people_involved": 4, "amount_involved": "1200.50",
         "occurred_at": "2026-11-30T09:30:00+08:00",
         "parties": [{"name": "张三", "role": "applicant", "phone": "13987650321"},
                     {"name": "李四", "role": "respondent"}]},
        {"kind": "dispute", "unit": "511123001001", "category": "合同债务",
         "summary": "法院诉前委派：两户借款纠纷，请村调委会调解", "channel": "court",
         "referral_in": {"agency": "court", "reference": "（2026）川1123民诉前调7号",
                         "due_at": "2026-12-30T17:00:00+08:00"}},
    ],
    "AssessCase": [
        {"level": "orange", "triggers": ["矛盾有激化苗头", "涉及10至29人"],
         "reason": "依据预警指标研判"},
    ],
    "AssignCase": [{"assignee": "mediator-511123001"}],
    "RecordMediationSession": [
        {"held_at": "2026-12-01T14:00:00+08:00", "notes": "双方同意共同出资疏通排水沟",
         "attendees": ["张三", "李四", "村调委会主任"]},
    ],
    "ResolveCase": [
        {"agreement": "双方各承担一半疏通费用，十日内完成", "form": "written",
         "amount": "600.00", "performance_due": "2026-12-11"},
    ],
    "TerminateCase": [{"reason": "申请人撤回调解申请"}],
    "ReferCase": [{"agency": "court", "reason": "超出人民调解范围，转办对接"}],
    "AnswerReferral": [
        {"answer": "已立案受理", "outcome": "accepted", "reference": "（2026）川1123民诉前调12号"},
        {"answer": "不属于本院诉前调解范围", "outcome": "declined"},
        {"answer": "派出所已当场调处完毕", "outcome": "concluded"},
    ],
    "ReportReferralResult": [{"result": "法院主持达成调解协议，已出具调解书"}],
    "ReportBack": [{"result": "经村调委会调解，双方达成书面协议并已履行"}],
    "JudicialConfirmation": [
        {"court": "犍为县人民法院"},  # requesting confirmation
        {"confirmed": True, "note": "（2026）川1123民特12号裁定确认有效"},  # the court's ruling
    ],
    "RecordFollowUp": [{"satisfied": True, "agreement_honoured": True, "note": "已按协议履行"}],
    "RateCase": [
        {"grade": "satisfied"},
        {"grade": "dissatisfied", "channel": "visit", "comment": "协议尚未完全履行"},
    ],
    "ReviewRating": [
        {"decision": "confirm"},
        {"decision": "dispute", "reason": "经核实，当事人诉求超出协议范围"},
    ],
    "PauseCase": [
        {"reason": "等待伤情鉴定结果", "review_at": "2026-12-20T09:00:00+08:00"},
    ],
    "OrderSupervision": [
        {"text": "请于三日内约谈双方并报告调处进展", "due_at": "2026-12-04T18:00:00+08:00"},
    ],
    "AnswerSupervision": [{"answer": "已于12月3日约谈双方，拟下周再次调解"}],
    "TakeOverCase": [{"reason": "涉及两镇群众，县级提级办理"}],
    "ExtendDeadline": [
        {"until": "2026-12-20T18:00:00+08:00", "reason": "需等待伤情鉴定结果", "kind": "resolve"},
    ],
    "EscalateCase": [{"reason": "当事人情绪激动，村调委会调解未果"}],
    "LowerLevel": [{"level": "yellow", "reason": "双方情绪平稳，已达成初步意向"}],
    "ReturnCase": [{"reason": "属村内邻里纠纷，请村调委会先行调解"}],
    "ReopenCase": [{"reason": "一方未按协议履行"}],
    "CloseCase": [{}, {"reason": "经三次调解和回访，当事人仍不满意，已告知诉讼途径，审核销号"}],
    "RejectCase": [{"reason": "不属于矛盾纠纷受理范围"}],
    "AddNote": [{"text": "已电话联系双方，约定周三上午到村委会调解"}],
    "RecordInspection": [
        {"reached": True, "satisfied": True, "agreement_honoured": True,
         "remarks": "电话回访申请人，对调解结果满意，协议已履行"},
        {"reached": True, "satisfied": False, "agreement_honoured": False,
         "remarks": "被申请人未按协议赔偿，申请人不满意", "rework": True},
        {"reached": False, "remarks": "三次拨打均无人接听"},
    ],
    "DrawInspection": [{"township": "511123001", "month": "2026-10"}],
    "SwitchMode": [{"mode": "holiday", "reason": "春节假期值班安排"}],
    "SwitchUnitMode": [
        {"mode": "emergency", "reason": "防汛Ⅱ级应急响应"},
        {"mode": "inherit", "reason": "应急响应解除，恢复执行市级模式"},
    ],
    "MarkRead": [{"ids": ["0d6c1f8e-3f7a-5b1e-9c55-7d1f0e2a4b6c"]}, {"all": True}],
    "EnrolUser": [
        {"user": "mediator-511123001-3", "name": "王建国", "unit": "511123001",
         "roles": ["mediator"], "phone": "13900001234", "email": "wangjg@luocheng.example"},
    ],
    "UpdateUser": [
        {"name": "王建国", "unit": "511123001", "roles": ["mediator", "supervisor"],
         "phone": "13900001234"},
    ],
    "DisableUser": [{"reason": "调离罗城镇"}],
    "ChooseChannels": [{"channels": ["in_app", "sms"]}],
    # 线索
    "ClueAttachmentIn": [
        {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
         "name": "现场照片.jpg", "media_type": "image/jpeg"},
    ],
    "RecordClue": [
        {"unit": "511123001001", "category": "土地承包", "source": "grid",
         "summary": "村民反映三组与四组之间承包地界桩被移动，两户可能发生争执",
         "parties": [{"name": "张三", "role": "applicant", "id_number": "511123199001091234"}]},
        {"unit": "511123001002", "category": "邻里", "source": "anonymous",
         "summary": "匿名来电反映邻居在公共通道上违规搭建棚子"},
    ],
    "DismissClue": [{"reason": "经核实已当场化解，无需立案"}],
    "PromoteClue": [{"kind": "dispute"}, {"kind": "incident", "level": "orange"}],
    # 排查
    "FileScreeningReport": [
        {"unit": "511123001001", "period": "2026-11",
         "clue_ids": ["0d6c1f8e-3f7a-4b1e-9c55-7d1f0e2a4b6c"]},
        {"unit": "511123001002", "period": "2026-11", "zero": True,
         "declaration": "本期经排查，未发现矛盾纠纷。"},
    ],
    # 重点人员
    "FlagKeyPerson": [
        {"name": "王建国", "id_number": "511123196511030016",
         "reason": "多次因宅基地问题上访，情绪激动", "review_on": "2027-03-01"},
        {"case_id": "0d6c1f8e-3f7a-4b1e-9c55-7d1f0e2a4b6c", "party": 1,
         "reason": "扬言采取过激行为", "review_on": "2027-03-01"},
    ],
    "AssignLeader": [{"leader": "supervisor-511123001"}],
    "RecordVisit": [{"note": "入户走访，情绪平稳，已做思想工作"}],
    "ReviewKeyPerson": [{"note": "仍有上访倾向，继续列管", "review_on": "2027-06-01"}],
    "UnflagKeyPerson": [{"reason": "矛盾已化解，连续三个月情绪稳定"}],
}  # fmt: skip


# Litestar's own plugin for Structs, which this one extends, has no public name in Litestar 2.
class StrictStructs(StructSchemaPlugin):
    """A Struct that refuses unknown fields (every request body: ``forbid_unknown_fields``)
    says so in its schema, ``additionalProperties: false``: an extra member is refused with
    422, and a client generated from the document must not send one. It also carries its
    ``REQUEST_EXAMPLES``."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        supported: bool = super().is_plugin_supported_field(field_definition)
        return supported and field_definition.type_.__struct_config__.forbid_unknown_fields

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema: Schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        examples = REQUEST_EXAMPLES.get(field_definition.type_.__name__)
        if examples:
            schema.examples = list(examples)
        return schema
