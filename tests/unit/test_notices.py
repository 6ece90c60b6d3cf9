"""Notifications without a store: the templates' words, quiet hours and warnings, the back-off,
notice ids, the channels' settings and signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from api.notify.sms import encode
from api.notify.webhook import signature
from api.wiring.notify_settings import NotifySettings
from api.wiring.settings import SettingsError
from domain.calendar import SHANGHAI
from domain.errors import PolicyError
from domain.levels import Level
from domain.notice_rules import NoticeRules
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from projections import notice_templates as nt
from projections.notifications import notice_id
from scheduler.dispatch import Backoff
from scheduler.lock import FileLock

CASE = {"number": "（2026）犍调字第0012号", "category": "邻里纠纷", "level": "orange"}
DUE = datetime(2026, 10, 9, 10, 0, tzinfo=UTC).isoformat()  # 18:00 北京时间


def test_an_assignment_reads_as_the_issue_asks() -> None:
    params = {**CASE, "clock": "sign", "due": DUE}
    assert nt.render(nt.ASSIGNED, params) == (
        "【枫桥】（2026）犍调字第0012号 邻里纠纷 已指派给您，请于 10月9日 18:00 前签收。"
    )
    resolve = nt.render(nt.ASSIGNED, {**params, "clock": "resolve"})
    assert resolve.endswith("请于 10月9日 18:00 前化解。")
    assert nt.render(nt.ASSIGNED, CASE).endswith("已指派给您，请及时办理。")


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("overdue", "已逾期升级至罗城镇（示例）"),
        ("manual", "已上报至罗城镇（示例）"),
        ("cross_area", "已跨区域移交至罗城镇（示例）"),
        ("level_raised", "已因等级提升移交至罗城镇（示例）"),
        ("returned", "已退回至罗城镇（示例）"),
        ("take_over", "已由罗城镇（示例）提级办理"),
    ],
)
def test_a_move_says_how_and_where(how: str, words: str) -> None:
    text = nt.render(nt.MOVED, {**CASE, "how": how, "unit": "罗城镇（示例）", "due": DUE})
    assert (
        text
        == f"【枫桥】（2026）犍调字第0012号 邻里纠纷（橙色） {words}，请于 10月9日 18:00 前签收。"
    )


def test_every_template_is_short_and_names_no_one() -> None:
    params = {
        **CASE,
        "due": DUE,
        "unit": "犍为县",
        "by_unit": "乐山市",
        "how": "manual",
        "clock": "sign",
        "kind": "dispute",
        "occasion": "resolved",
        "expires": DUE,
        "link": "https://fengqiao.example/rate/abc",
    }
    for template in nt.TEMPLATES:
        text = nt.render(template, params)
        assert text.startswith("【枫桥】")
        assert len(text) <= 90, text
        assert "{" not in text
        subject = nt.subject(template, params)
        assert subject.startswith("【枫桥】")
        assert subject.endswith("（2026）犍调字第0012号")
        values = nt.sms_values(template, params)
        assert all(isinstance(v, str) and len(v) <= 40 for v in values.values()), values
    invitation = nt.render(nt.RATING_INVITATION, params)
    assert invitation == (
        "【枫桥】您反映的纠纷（（2026）犍调字第0012号）已化解，请为办理情况评价："
        "https://fengqiao.example/rate/abc 10月9日 18:00前有效。"
    )
    assert nt.render("a_newer_template", CASE) == "【枫桥】a_newer_template"


def test_a_case_not_yet_numbered_says_so() -> None:
    assert nt.render(nt.RED_ALERT, {"category": "群体性事件", "unit": "石溪村"}) == (
        "【枫桥】红色预警：石溪村 （未编号） 群体性事件，请立即关注。"
    )


def test_notice_ids_are_the_same_on_every_rebuild_and_differ_by_recipient_and_channel() -> None:
    one = notice_id("42", "mediator-1", "sms")
    assert one == notice_id("42", "mediator-1", "sms")
    assert len({one, notice_id("42", "mediator-1", "email"), notice_id("43", "mediator-1", "sms"),
                notice_id("42", "mediator-2", "sms")}) == 4  # fmt: skip


# --- quiet hours and warnings --------------------------------------------------------------------


def local(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=SHANGHAI)


def test_quiet_hours_run_from_ten_at_night_to_seven_in_the_morning() -> None:
    rules = NoticeRules()
    assert not rules.quiet_at(local(21, 59))
    assert rules.quiet_at(local(22, 0))
    assert rules.quiet_at(local(3, 0))
    assert rules.quiet_at(local(6, 59))
    assert not rules.quiet_at(local(7, 0))
    assert rules.quiet_ends(local(23, 0)) == local(7, 0, day=2)
    assert rules.quiet_ends(local(1, 0)) == local(7, 0)
    assert rules.quiet_ends(local(12, 0)) == local(12, 0)
    daytime = NoticeRules(quiet_from=time(12, 0), quiet_until=time(14, 0))
    assert daytime.quiet_at(local(13, 0))
    assert not daytime.quiet_at(local(23, 0))
    assert not NoticeRules(quiet_from=time(0, 0), quiet_until=time(0, 0)).quiet_at(local(3, 0))


def test_a_red_case_is_warned_thirty_minutes_before_its_deadline_others_four_hours() -> None:
    rules = NoticeRules()
    assert rules.warning_for(Level.RED) == timedelta(minutes=30)
    assert rules.warning_for(Level.ORANGE) == timedelta(hours=4)
    assert rules.longest_warning == timedelta(hours=4)


def test_the_policy_file_sets_warnings_and_quiet_hours() -> None:
    base = policy_to_document(Policy())
    assert "notifications" not in base  # written only when changed: stored versions unchanged
    document = {
        **base,
        "version": "notices-2",
        "notifications": {"warning": "2h", "warning_red": "15m", "quiet_hours": "23:00-06:30"},
    }
    policy = policy_from_document(document)
    assert policy.notices == NoticeRules(
        warning=policy.notices.warning,
        warning_red=policy.notices.warning_red,
        quiet_from=time(23, 0),
        quiet_until=time(6, 30),
    )
    assert policy.notices.warning_for(Level.RED) == timedelta(minutes=15)
    assert policy_to_document(policy)["notifications"] == document["notifications"]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"warning": "2wd"}, "notifications.warning"),
        ({"warning_red": "8d"}, "notifications.warning_red"),
        ({"quiet_hours": "22-7"}, "notifications.quiet_hours"),
        ({"quiet_hours": "25:00-07:00"}, "notifications.quiet_hours"),
        ({"quiet": "22:00-07:00"}, "notifications.quiet"),
    ],
)
def test_a_bad_notifications_table_is_refused_naming_the_key(
    table: dict[str, str], key: str
) -> None:
    document = {**policy_to_document(Policy()), "notifications": table}
    with pytest.raises(PolicyError) as refused:
        policy_from_document(document)
    assert refused.value.key == key


# --- the back-off ------------------------------------------------------------------------------


def test_retries_back_off_doubling_from_two_seconds_to_five_minutes_jittered() -> None:
    backoff = Backoff()
    assert backoff.delay(1, 1.0) == timedelta(seconds=2)
    assert backoff.delay(1, 0.0) == timedelta(seconds=1)  # at least half
    assert backoff.delay(4, 1.0) == timedelta(seconds=16)
    assert backoff.delay(20, 1.0) == timedelta(minutes=5)  # capped
    assert backoff.delay(20, 0.0) == timedelta(minutes=2.5)


# --- settings ----------------------------------------------------------------------------------

SMS = {
    "FENGQIAO_SMS_URL": "https://dysmsapi.aliyuncs.com/",
    "FENGQIAO_SMS_KEY_ID": "id",
    "FENGQIAO_SMS_KEY_SECRET": "secret",
    "FENGQIAO_SMS_SIGN_NAME": "枫桥",
    "FENGQIAO_SMS_TEMPLATES": ",".join(f"{t}=SMS_{i}" for i, t in enumerate(nt.TEMPLATES)),
    "FENGQIAO_PUBLIC_URL": "https://fengqiao.example/",
}


def test_nothing_is_sent_anywhere_by_default() -> None:
    settings = NotifySettings.from_env({})
    assert settings.channels == ()
    assert (settings.give_up, settings.timeout) == (timedelta(hours=24), 10.0)


def test_each_channel_is_on_when_configured() -> None:
    settings = NotifySettings.from_env(
        {
            **SMS,
            "FENGQIAO_SMTP_HOST": "smtp.example",
            "FENGQIAO_SMTP_FROM": "noreply@fengqiao.example",
            "FENGQIAO_WEBHOOK_URL": "https://bridge.example/hook",
            "FENGQIAO_WEBHOOK_SECRET": "x" * 16,
            "FENGQIAO_NOTIFY_GIVE_UP": "6h",
        }
    )
    assert settings.channels == ("email", "sms", "webhook")
    assert settings.smtp is not None
    assert (settings.smtp.port, settings.smtp.starttls) == (587, True)
    assert settings.public_url == "https://fengqiao.example"
    assert settings.sms is not None
    assert settings.sms.templates[nt.ASSIGNED] == "SMS_0"
    assert settings.give_up == timedelta(hours=6)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"FENGQIAO_SMTP_FROM": "a@b.example"}, "FENGQIAO_SMTP_FROM"),
        ({"FENGQIAO_SMTP_HOST": "smtp.example"}, "FENGQIAO_SMTP_FROM"),
        (
            {"FENGQIAO_SMTP_HOST": "h", "FENGQIAO_SMTP_FROM": "a@b.c", "FENGQIAO_SMTP_PORT": "x"},
            "FENGQIAO_SMTP_PORT",
        ),
        (
            {"FENGQIAO_SMTP_HOST": "h", "FENGQIAO_SMTP_FROM": "a@b.c", "FENGQIAO_SMTP_USER": "u"},
            "FENGQIAO_SMTP_USER",
        ),
        (
            {
                "FENGQIAO_SMTP_HOST": "h",
                "FENGQIAO_SMTP_FROM": "a@b.c",
                "FENGQIAO_SMTP_USER": "u",
                "FENGQIAO_SMTP_PASSWORD": "p",
                "FENGQIAO_SMTP_STARTTLS": "false",
            },
            "FENGQIAO_SMTP_PASSWORD",
        ),
        ({"FENGQIAO_WEBHOOK_URL": "https://x.example/h"}, "FENGQIAO_WEBHOOK_SECRET"),
        (
            {"FENGQIAO_WEBHOOK_URL": "https://x.example/h", "FENGQIAO_WEBHOOK_SECRET": "short"},
            "FENGQIAO_WEBHOOK_SECRET",
        ),
        (
            {"FENGQIAO_WEBHOOK_URL": "ftp://x", "FENGQIAO_WEBHOOK_SECRET": "x" * 16},
            "FENGQIAO_WEBHOOK_URL",
        ),
        ({"FENGQIAO_SMS_KEY_ID": "id"}, "FENGQIAO_SMS_KEY_ID"),
        ({**SMS, "FENGQIAO_SMS_SIGN_NAME": ""}, "FENGQIAO_SMS_SIGN_NAME"),
        ({**SMS, "FENGQIAO_SMS_TEMPLATES": "assigned=SMS_1"}, "FENGQIAO_SMS_TEMPLATES"),
        ({**SMS, "FENGQIAO_SMS_TEMPLATES": "nonsense"}, "FENGQIAO_SMS_TEMPLATES"),
        ({**SMS, "FENGQIAO_PUBLIC_URL": ""}, "FENGQIAO_PUBLIC_URL"),
        ({"FENGQIAO_NOTIFY_GIVE_UP": "2wd"}, "FENGQIAO_NOTIFY_GIVE_UP"),
        ({"FENGQIAO_NOTIFY_GIVE_UP": "soon"}, "FENGQIAO_NOTIFY_GIVE_UP"),
        ({"FENGQIAO_NOTIFY_TIMEOUT": "0"}, "FENGQIAO_NOTIFY_TIMEOUT"),
    ],
)
def test_a_channel_half_configured_stops_start_up_naming_the_variable(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        NotifySettings.from_env(environ)
    assert str(refused.value).startswith(named), str(refused.value)


# --- signatures --------------------------------------------------------------------------------


def test_the_webhook_is_signed_with_hmac_sha256_of_the_raw_body() -> None:
    body = '{"text": "【枫桥】…"}'.encode()
    expected = hmac.new(b"s" * 16, body, hashlib.sha256).hexdigest()
    assert signature("s" * 16, body) == f"sha256={expected}"


def test_sms_parameters_are_percent_encoded_as_alibaba_signs_them() -> None:
    assert encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


def test_one_dispatcher_per_data_directory(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "n.lock"), FileLock(tmp_path / "n.lock")
    assert first.acquire()
    assert first.acquire()  # held: still held
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()
