"""The OpenAPI document's pages under ``/schema``, drawn by Swagger UI files shipped in this
package (``schema_assets/``, see its VENDORED.md), never by a CDN.

Litestar's render plugins load their viewer from jsdelivr, unpkg, redoc.ly or Google Fonts by
default. A county's government network often reaches none of them, and a page that runs
third-party scripts beside a bearer token is one more thing to audit; so the viewer's files are
vendored, pinned and served by fengqiao itself at ``/schema/assets/``.

Swagger UI rather than Redoc: its files are used exactly as published (Redoc 2 always fetches its
logo from cdn.redoc.ly, so it would have to be patched), it is Apache-2.0 like fengqiao, and its
"Authorize" button lets an integrator try the API with a token from ``fengqiao token``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from litestar import Router
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).parent / "schema_assets"
ASSETS_PATH = "/assets"  # under the OpenAPI router's own path
SWAGGER_UI_VERSION = "5.35.0"  # swagger-ui-dist on npm; VENDORED.md says how to update it
# No icon to fetch: the browser would otherwise ask for one from the page's origin or a CDN.
NO_FAVICON = '<link rel="icon" href="data:,">'


class OfflineSwagger(SwaggerRenderPlugin):
    """Swagger UI from ``ASSETS``, which it serves itself: the OpenAPI router hands every
    plugin its router, so the files sit beside the page and need no route in the app."""

    def receive_router(self, router: Router) -> None:
        super().receive_router(router)  # Swagger UI's OAuth2 redirect page
        router.register(
            create_static_files_router(
                path=ASSETS_PATH,
                directories=[ASSETS],
                name="schema-assets",
                opt={"public": True},  # like the page: no token needed to read the docs
            )
        )


def render_plugins(base: str) -> Sequence[OpenAPIRenderPlugin]:
    """The pages under ``base`` (``OpenAPIConfig.path``): Swagger UI at ``base`` itself and at
    ``base/swagger`` (Litestar's old address for it), the document as YAML. ``base/openapi.json``
    is added by Litestar whatever the plugins."""
    assets = f"{base.rstrip('/')}{ASSETS_PATH}"
    return [
        OfflineSwagger(
            path=["/", "/swagger"],
            version=SWAGGER_UI_VERSION,
            js_url=f"{assets}/swagger-ui-bundle.js",
            css_url=f"{assets}/swagger-ui.css",
            standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
            favicon=NO_FAVICON,
        ),
        YamlRenderPlugin(favicon=NO_FAVICON),
    ]
