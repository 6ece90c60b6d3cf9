"""The supervisor dashboard: static pages served at ``/``, no build step, nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

STATIC = Path(__file__).parent / "static"


def router() -> ControllerRouterHandler:
    """``/`` serves index.html; every asset the page needs ships inside this package."""
    return create_static_files_router(
        path="/", directories=[STATIC], html_mode=True, opt={"public": True}, name="web"
    )
