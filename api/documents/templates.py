"""The templates documents are rendered from, and the one setting that lets a county replace
them: ``FENGQIAO_DOCUMENT_TEMPLATES``, a directory whose files override the packaged ones by
name (``mediation-agreement.docx``, ``mediation-agreement.html``, ``base.html``,
``document.css``). A file it lacks is the packaged one, so a county replaces only what it must.

Both formats are Jinja2 templates given the same context (``api.documents.context``): a .docx
is rendered by docxtpl, which runs Jinja over the Word XML (a county edits its template in Word,
``{{ number }}`` where the number goes); an HTML page by Jinja itself, HTML-escaped. Text in a
.docx is XML-escaped the same way, so nothing a party or mediator typed can become markup. An
unknown name in a template is an error, not a blank: a form that silently lost a field would be
printed and signed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from api.documents.docx import render_docx

PACKAGED = Path(__file__).parent / "templates"
TEMPLATES_SETTING = "FENGQIAO_DOCUMENT_TEMPLATES"


def paragraphs(text: str) -> Markup:
    """Free text in HTML: a paragraph for each line, escaped."""
    lines = [line for line in str(text).split("\n") if line.strip()] or [""]
    return Markup("\n").join(Markup("<p>{}</p>").format(line) for line in lines)


def css_string(text: str) -> Markup:
    """Text inside a CSS string literal (a page header's ``content``): nothing in it can
    close the string or the ``<style>`` element."""
    escaped = "".join(
        f"\\{ord(ch):x} " if ch in '"\\<>&\n' or not ch.isprintable() else ch for ch in str(text)
    )
    return Markup(escaped)


@dataclass(frozen=True)
class Templates:
    """The packaged templates, with a county's directory over them (when configured)."""

    override: Path | None = None
    packaged: Path = field(default=PACKAGED)

    def path(self, name: str) -> Path:
        """The file a template name stands for: the county's if it has one."""
        if self.override is not None and (self.override / name).is_file():
            return self.override / name
        return self.packaged / name

    @cached_property
    def _html(self) -> jinja2.Environment:
        folders = [str(p) for p in (self.override, self.packaged) if p is not None]
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters["paragraphs"] = paragraphs
        environment.filters["css_string"] = css_string
        return environment

    def html(self, slug: str, context: Mapping[str, Any]) -> bytes:
        """The printable page of ``slug`` (``<slug>.html``), UTF-8."""
        return self._html.get_template(f"{slug}.html").render(context).encode()

    def docx(self, slug: str, context: Mapping[str, Any]) -> bytes:
        """The Word document of ``slug``, from ``<slug>.docx``."""
        out = io.BytesIO()
        render_docx(self.path(f"{slug}.docx"), context, out)
        return out.getvalue()


def templates_from(environ: Mapping[str, str]) -> Templates:
    """The templates an application's environment configures: the packaged ones, under the
    directory ``FENGQIAO_DOCUMENT_TEMPLATES`` names (checked at start-up by the settings)."""
    return _templates_in((environ.get(TEMPLATES_SETTING) or "").strip())


@cache
def _templates_in(folder: str) -> Templates:
    """One ``Templates`` per folder, so its compiled templates are kept between requests."""
    if not folder:
        return Templates()
    if not Path(folder).is_dir():
        raise ValueError(f"{TEMPLATES_SETTING}: {folder!r} is not a directory")
    return Templates(Path(folder))
