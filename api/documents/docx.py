"""A .docx template rendered with docxtpl, behind one typed function (docxtpl has no type
hints).

docxtpl renders Jinja over the document's XML, headers and footers included (the case number
is in every page's header), after mending the tags Word splits across runs when a county
edits the template. Values are XML-escaped (``autoescape``), and a line break in a value
becomes a line break in Word.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import jinja2
from docxtpl import DocxTemplate  # type: ignore[import-untyped]


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    # The HTML filters, as Word needs them: docxtpl turns "\a" into a new paragraph with the
    # same formatting (a line of an agreement is a paragraph, indented like the first), and
    # a header is plain text.
    environment.filters["paragraphs"] = _paragraphs
    environment.filters["css_string"] = str
    return environment


def _paragraphs(text: str) -> str:
    return "\a".join(line for line in str(text).split("\n") if line.strip())


def render_docx(template: Path, context: Mapping[str, Any], out: IO[bytes]) -> None:
    """Renders ``template`` with ``context`` into ``out``."""
    document = DocxTemplate(str(template))
    document.render(dict(context), jinja_env=_environment(), autoescape=True)
    document.save(out)
