"""The public rating page's HTML: the form a party opens from the SMS on their phone, the
thank-you, and every refusal, in Chinese.

One self-contained document per answer: the style inline (allowed by its hash in the answer's
Content-Security-Policy), no script, no image, no font or file from anywhere else, so the page
works on a slow phone connection and leaks nothing about who opened it. It shows the case's
number and category and nothing about the parties. Every value put into it is escaped.

Laid out for a phone held upright (375 px wide and up): text at 16 px or more (a phone does not
zoom into a field), each choice a whole-width row at least 52 px tall, the submit button below.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from html import escape

from api.http.labels import GLOSSES
from api.http.messages import when
from domain.status import Grade

COMMENT_LIMIT = 500  # as the case keeps it (domain.case._ratings)
GRADES = tuple(grade.value for grade in Grade)  # 非常满意 … 非常不满意, best first

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: #f2f4f7; color: #1c2530; line-height: 1.55; font-size: 16px;
  font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
    "Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif;
}
.top { background: #143a5f; color: #fff; padding: 10px 16px; font-size: 15px; }
main { max-width: 480px; margin: 0 auto; padding: 16px 16px 28px; }
h1 { font-size: 21px; line-height: 1.35; margin: 2px 0 12px; }
.case {
  background: #fff; border: 1px solid #e1e5eb; border-radius: 10px; padding: 10px 14px;
  margin: 0 0 16px;
}
.case div { display: flex; gap: 10px; }
.case dt { color: #5f6b7a; flex: none; width: 4.5em; }
.case dd { margin: 0; font-weight: 600; word-break: break-all; }
fieldset { border: 0; margin: 0 0 12px; padding: 0; }
legend { font-weight: 600; margin-bottom: 8px; padding: 0; }
.grade {
  display: flex; align-items: center; gap: 12px; min-height: 52px; margin: 0 0 8px;
  padding: 10px 14px; background: #fff; border: 2px solid #d5dbe3; border-radius: 10px;
  font-size: 18px; cursor: pointer;
}
.grade input { width: 22px; height: 22px; margin: 0; flex: none; accent-color: #1d5fa8; }
.grade:has(input:checked) { border-color: #1d5fa8; background: #e8f0fb; font-weight: 600; }
.grade:has(input:focus-visible) { outline: 3px solid #8cb4e6; outline-offset: 1px; }
label.for { display: block; font-weight: 600; margin: 4px 0 6px; }
label.for small { font-weight: 400; color: #5f6b7a; }
textarea {
  width: 100%; min-height: 96px; padding: 10px 12px; font: inherit; font-size: 16px;
  border: 1px solid #c3ccd7; border-radius: 10px; background: #fff; resize: vertical;
}
button {
  display: block; width: 100%; min-height: 52px; margin: 16px 0 0; border: 0;
  border-radius: 10px; background: #1d5fa8; color: #fff; font: inherit; font-size: 18px;
  font-weight: 600; cursor: pointer;
}
button:focus-visible { outline: 3px solid #8cb4e6; outline-offset: 2px; }
.alert {
  margin: 0 0 14px; padding: 10px 14px; border-radius: 10px; background: #fff1ec;
  color: #a8290a; border: 1px solid #f5c2b0;
}
.notice {
  background: #fff; border: 1px solid #e1e5eb; border-radius: 12px; padding: 22px 18px;
  margin-top: 12px; text-align: center;
}
.notice .mark {
  width: 56px; height: 56px; margin: 0 auto 12px; border-radius: 50%; font-size: 30px;
  line-height: 56px; color: #fff; background: #5f6b7a;
}
.ok .mark { background: #1f8a5b; }
.warn .mark { background: #c47a00; }
.bad .mark { background: #c4320a; }
.notice h1 { margin: 0 0 8px; }
.notice p { margin: 6px 0; text-align: left; }
.muted { color: #5f6b7a; font-size: 14px; }
footer { margin-top: 20px; text-align: center; }
""".strip()
# The answer's Content-Security-Policy allows this style and nothing else.
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


# What the thank-you says next, by the grade given.
AFTERWARDS = {
    Grade.VERY_SATISFIED: "您的认可是对我们工作的鼓励，我们会继续努力。",
    Grade.SATISFIED: "您的认可是对我们工作的鼓励，我们会继续努力。",
    Grade.BASICALLY_SATISFIED: "我们会继续改进，把工作做得更好。",
    Grade.DISSATISFIED: "您反映的问题我们会认真核实，并尽快改进工作。",
    Grade.VERY_DISSATISFIED: "您反映的问题我们会认真核实，并尽快改进工作。",
}


@dataclass(frozen=True)
class CaseView:
    """What the page says about a case: its number and what kind of matter it is."""

    number: str
    category: str
    kind: str  # dispute / incident
    expires_at: datetime  # the invitation's


def grade_words(grade: str) -> str:
    return GLOSSES.get(grade, grade)


def _document(title: str, content: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)} · 矛盾纠纷调解服务评价</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        '<div class="top">矛盾纠纷调解服务评价</div>\n'
        f"<main>\n{content}\n"
        '<footer class="muted">本页面不收集您的姓名、电话等个人信息。</footer>\n'
        "</main>\n</body>\n</html>\n"
    )


def _case_facts(view: CaseView) -> str:
    kind = GLOSSES.get(view.kind, view.kind)
    rows = [("案件编号", view.number or "—"), ("案件类别", f"{view.category}（{kind}）")]
    facts = "".join(
        f'<div><dt>{escape(name)}</dt><dd id="case-{key}">{escape(value)}</dd></div>'
        for (name, value), key in zip(rows, ("number", "category"), strict=True)
    )
    return f'<dl class="case">{facts}</dl>'


def form_page(
    view: CaseView, action: str, chosen: str | None = None, comment: str = "", problem: str = ""
) -> str:
    """The form: five choices, an optional comment, the submit button; ``problem`` says
    what was wrong with what was sent (the choice and the comment kept)."""
    choices = "".join(
        f'<label class="grade"><input type="radio" name="grade" value="{escape(grade)}"'
        f"{' checked' if grade == chosen else ''} required>"
        f"<span>{escape(grade_words(grade))}</span></label>"
        for grade in GRADES
    )
    alert = f'<p class="alert" role="alert" id="problem">{escape(problem)}</p>' if problem else ""
    content = f"""<h1>请您评价本次调解工作</h1>
{_case_facts(view)}
{alert}
<form method="post" action="{escape(action)}" accept-charset="utf-8" id="rating-form">
<fieldset><legend>您对办理结果是否满意？</legend>
{choices}
</fieldset>
<label class="for" for="comment">意见建议 <small>（选填，{COMMENT_LIMIT} 字以内）</small></label>
<textarea id="comment" name="comment" maxlength="{COMMENT_LIMIT}" rows="4"
 placeholder="可以写下您的意见或建议">{escape(comment)}</textarea>
<button type="submit" id="submit">提交评价</button>
</form>
<p class="muted">每个评价链接只能提交一次，有效期至{escape(when(view.expires_at))}。</p>"""
    return _document("请您评价", content)


def notice_page(tone: str, heading: str, *lines: str) -> str:
    """A page that says one thing: ``tone`` ok, warn or bad sets its mark."""
    mark = {"ok": "✓", "warn": "!", "bad": "×"}.get(tone, "i")
    said = "".join(f"<p>{escape(line)}</p>" for line in lines)
    content = (
        f'<section class="notice {escape(tone)}" id="notice" data-tone="{escape(tone)}">'
        f'<div class="mark" aria-hidden="true">{mark}</div>'
        f"<h1>{escape(heading)}</h1>{said}</section>"
    )
    return _document(heading, content)


def thanks_page(view: CaseView, grade: str) -> str:
    """The thank-you: the grade given, and for a bad one that it will be looked into."""
    return notice_page(
        "ok",
        "感谢您的评价",
        f"您对案件{view.number or ''}的评价已提交：{grade_words(grade)}。",
        AFTERWARDS[Grade(grade)],
    )
