"""Jinja2 environment (loaded at start-up, autoescaped) and page rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from server.auth.middleware import CSRF_KEY
from server.auth.principal import get_principal
from web.format import install_filters
from web.i18n import lang_of, translate

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
JINJA_KEY = web.AppKey("jinja", jinja2.Environment)


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    install_filters(env)
    # Compile every template now so that a broken one stops start-up instead of a page view.
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    return env


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    env = request.app[JINJA_KEY]
    lang = lang_of(request)

    def _(key: str, **fmt: object) -> str:
        return translate(key, lang, **fmt)

    ctx: dict[str, Any] = {
        "_": _,
        "lang": lang,
        "user": get_principal(request),
        "csrf": request.get(CSRF_KEY, ""),
        "path": request.path_qs,
        "error": None,
        "notice": None,
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
