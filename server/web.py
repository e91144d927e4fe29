"""``GET /``: the accessible web page, in Russian, Kazakh or English.

The page is one template rendered in the request's language (``lang``, else
``Accept-Language``); its script gets the same catalogue as JSON for the texts it writes.
Leaflet is served from ``static/vendor`` (copied from npm by ``make web``); nothing comes
from the internet.
"""

from __future__ import annotations

import json

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from routing.cost.profiles import PROFILE_NAMES, PROFILES
from server.i18n import N_, catalogue, gettext, request_lang
from server.openapi import errors

bp = Blueprint("web", __name__, template_folder="templates")

#: The profiles' labels, marked for the catalogues (they are data in routing.cost.profiles).
PROFILE_LABELS = (N_("Walking"), N_("Manual wheelchair"), N_("Electric wheelchair"),
                  N_("Blind (cane or guide dog)"), N_("Low vision"),
                  N_("Reduced mobility (cane, walker)"))  # fmt: skip

#: The language switcher, each name in its own language.
LANGUAGE_LABELS = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))


@bp.get("/")
def index() -> ResponseReturnValue:
    """The trip planner page; its script talks to ``/places``, ``/route``, ``/plan``..."""
    lang = request_lang()
    names = list(PROFILE_NAMES) + [n for n in PROFILES if n not in PROFILE_NAMES]
    body = render_template(
        "index.html",
        lang=lang,
        _=lambda message: gettext(lang, message),
        languages=LANGUAGE_LABELS,
        profiles=[(n, gettext(lang, PROFILES[n].label)) for n in names],
        # "</" cannot end the script element early once escaped
        catalogue_json=json.dumps({"lang": lang, "messages": catalogue(lang)},
                                  ensure_ascii=False).replace("</", "<\\/"),
    )  # fmt: skip
    return body, 200, {"Cache-Control": "no-cache", "Content-Language": lang,
                       "Vary": "Accept-Language"}  # fmt: skip

OPENAPI = {
    "paths": {
        "/": {"get": {
            "summary": "The accessible route planner web page", "operationId": "getIndex",
            "tags": ["meta"],
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": {"type": "string"}}}},
                          **errors()}}},
    }
}  # fmt: skip
