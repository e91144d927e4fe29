"""Languages: which one a request asks for, and the gettext catalogues (ru, kk, en).

The catalogues are the ``.po`` files under ``server/locale/<lang>/LC_MESSAGES/``; they are
read with Babel and compiled in memory when first used, so nothing needs a build step.
A request picks its language by the ``lang`` parameter (query, form or JSON body), else by
``Accept-Language``, else English.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import request

from routing.errors import InvalidInputError

LANGUAGES = ("ru", "kk", "en")
DEFAULT_LANG = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

#: The ``lang`` query parameter (OpenAPI), as every endpoint that writes texts takes it.
LANG_PARAM = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES)},
              "description": "Language of the texts (else Accept-Language, else English); "
                             "when a language is asked, texts carry instruction_lang or "
                             "message_lang"}  # fmt: skip


def request_lang(*, strict: bool = True) -> str:
    """The language of the current request (``lang``, then ``Accept-Language``).

    A ``lang`` that is not ``ru``, ``kk`` or ``en`` is a 400, or with ``strict=False`` (while
    answering another error) is passed over.
    """
    raw = request.values.get("lang")
    if raw is None:
        raw = _json_lang()
    if raw not in (None, "") and (strict or raw in LANGUAGES):
        if raw not in LANGUAGES:
            raise InvalidInputError(f"'lang' must be one of {', '.join(LANGUAGES)}, got {raw!r}",
                                    field="lang")  # fmt: skip
        return raw
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANG


def language_asked() -> bool:
    """Whether the request names a language (``lang`` or ``Accept-Language``).

    A request that names none (a script, the CLI's twin) gets the engine's English body
    exactly as it was; one that does gets its texts rendered and marked with their language.
    """
    return bool(request.values.get("lang") or request.headers.get("Accept-Language")
                or _json_lang())  # fmt: skip


def _json_lang() -> object:
    """``lang`` of a JSON object body, else None (a broken body is the endpoint's 400)."""
    if not request.is_json:
        return None
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # absurdly nested JSON: server.params answers it
        return None
    return body.get("lang") if isinstance(body, dict) else None


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English is the source language: no catalogue)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT_LANG or not path.is_file():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Marks ``message`` for the catalogues without translating it (translated where used)."""
    return message


def gettext(lang: str, message: str, **params: object) -> str:
    """``message`` in ``lang``, with ``%(name)s`` placeholders filled from ``params``."""
    text = translations(lang).gettext(message)
    return text % params if params else text


def catalogue(lang: str) -> dict[str, str]:
    """Every translated message of ``lang`` as ``{msgid: msgstr}`` (for the page's script)."""
    trans = translations(lang)
    return {k: v for k, v in getattr(trans, "_catalog", {}).items()
            if isinstance(k, str) and k and v}  # fmt: skip
