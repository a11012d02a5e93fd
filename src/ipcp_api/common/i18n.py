"""Translations in one place: the supported languages, ``lang`` and ``translations`` in request
bodies (validation and the merge patch inside them), and the language of rendered output.

A resource with human text has ``lang`` (the language of its own text fields) and
``translations``: ``{"fr": {"name": "..."}, "ar": {...}}`` — other supported languages, each
holding some or all of the resource's translatable fields under the same rules as the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from fastapi import Query
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    func,
    literal,
    not_,
    or_,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from ipcp_api.common.schemas import InputModel, NotNull
from ipcp_api.common.types import Text
from ipcp_api.config import LANGUAGE_TAG, get_settings
from ipcp_api.errors import Invalid

DEFAULT_LANGUAGES = ("en", "fr", "ar")
_configured: tuple[str, ...] | None = None


def configure(languages: Iterable[str]) -> None:
    """Set the supported languages (``create_app`` does, from the settings)."""
    global _configured
    _configured = tuple(languages)


def languages() -> tuple[str, ...]:
    """The supported languages, the default first."""
    if _configured is None:
        configure(get_settings().language_codes)
    assert _configured is not None
    return _configured


def default_language() -> str:
    return languages()[0]


def _supported(value: str) -> str:
    if value not in languages():
        raise PydanticCustomError(
            "language",
            "unsupported language {lang}; supported: {supported}",
            {"lang": value, "supported": ", ".join(languages())},
        )
    return value


class _Supported:
    """JSON-schema marker: the supported languages as an ``enum`` (read when the document is
    built, so ``IPCP_LANGUAGES`` decides)."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        result = handler(schema)
        result["enum"] = list(languages())
        return result


Lang = Annotated[
    Text,
    Field(
        pattern=LANGUAGE_TAG.pattern,
        description="The language of this resource's text fields (`en`, `fr` or `ar`).",
        examples=["en"],
    ),
    AfterValidator(_supported),
    _Supported(),
]
"""``lang`` in a request body: one of the supported languages."""


# --- translations in request bodies -----------------------------------------------------------


def _error(kind: str, msg: str, loc: tuple[str | int, ...], value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, msg), loc=loc, input=value)


def _translations_validator(
    model: type[InputModel], fields: tuple[str, ...], *, patch: bool
) -> Callable[[Any], dict[str, Any] | None]:
    listed = ", ".join(fields)

    def validate(value: Any) -> dict[str, Any] | None:
        if value is None and patch:
            return None  # every translation removed
        if not isinstance(value, dict):
            raise PydanticCustomError("dict_type", "must be an object keyed by language")
        errors: list[InitErrorDetails] = []
        result: dict[str, Any] = {}
        for lang, item in value.items():
            if lang not in languages():
                msg = f"unsupported language {lang!r}; supported: {', '.join(languages())}"
                errors.append(_error("language", msg, (lang,), lang))
                continue
            if item is None:
                if patch:
                    result[lang] = None  # removes every field in that language
                else:
                    errors.append(_error("not_null", "may not be null", (lang,), item))
                continue
            if not isinstance(item, dict):
                msg = f"must be an object of translated fields ({listed})"
                errors.append(_error("dict_type", msg, (lang,), item))
                continue
            try:
                parsed = model.model_validate(item)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = (lang, *err["loc"])
                    if err["type"] == "extra_forbidden":
                        msg = f"not a translatable field (translatable: {listed})"
                        errors.append(_error("not_translatable", msg, loc, err["input"]))
                    else:
                        errors.append(_error(err["type"], err["msg"], loc, err["input"]))
                continue
            given = parsed.model_dump(exclude_unset=True)
            if not patch:
                if not given:
                    msg = f"an empty translation: give at least one of {listed}"
                    errors.append(_error("empty", msg, (lang,), item))
                for name, text in given.items():
                    if text is None:
                        errors.append(_error("not_null", "may not be null", (lang, name), text))
            result[lang] = given
        if errors:
            raise ValidationError.from_exception_data("translations", errors)
        return result

    return validate


class TranslationsOf:
    """``Annotated`` metadata of a ``translations`` field in a request body:
    ``translations: Annotated[TranslationsIn, TranslationsOf("Framework", name=Name)]``.

    The keyword arguments map each translatable field to its type (the field's own rules apply
    to its translations). With ``patch=True`` a language or a field may be ``null`` (removes
    it), and ``translations: null`` removes every translation.
    """

    def __init__(self, resource: str, *, patch: bool = False, **fields: Any) -> None:
        # every field may be left out; only a patch may send one as null (removes it)
        not_null: Any = NotNull
        optional = {
            name: ((kind | None) if patch else not_null[kind], None)
            for name, kind in fields.items()
        }
        self.model: type[InputModel] = create_model(  # type: ignore[call-overload]
            f"{resource}Translation",
            __base__=InputModel,
            # a new resource's language object names at least one field (a patch's may be {})
            __config__=None if patch else ConfigDict(json_schema_extra={"minProperties": 1}),
            **optional,
        )
        self.fields = tuple(fields)
        self.patch = patch
        self.validate = _translations_validator(self.model, self.fields, patch=patch)

    def __get_pydantic_core_schema__(
        self, _source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        item: Any = self.model | None if self.patch else self.model
        shape: Any = dict[str, item] | None if self.patch else dict[str, item]
        return core_schema.no_info_plain_validator_function(
            self.validate, json_schema_input_schema=handler.generate_schema(shape)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        result = handler(schema)
        names = ", ".join(f"`{name}`" for name in self.fields)
        description = (
            f"Other supported languages than `lang`, each an object of translated fields ({names})."
        )
        if self.patch:
            description += (
                " Merge patch inside: a field set to `null` removes that translation, a language"
                " set to `null` removes all its fields; absent languages and fields stay;"
                " `translations: null` removes every translation."
            )
        result["description"] = description
        result["propertyNames"] = {"enum": list(languages())}
        return result


TranslationsIn = dict[str, Any]
"""The type of a ``translations`` body field (``Annotated`` with ``TranslationsOf``)."""

Translations = dict[str, dict[str, str]]

TRANSLATIONS_READ = Field(
    description=(
        "The resource's text in other languages than `lang`: `{language: {field: text}}`;"
        " `{}` when there is none."
    )
)
LANG_READ = Field(description="The language of this resource's own text fields.")


def check_new(lang: str, translations: Mapping[str, Any]) -> None:
    """A create: no translation in the resource's own language."""
    if lang in translations:
        raise Invalid(
            ("body", "translations", lang),
            f"{lang} is this resource's own language (lang): its text is in the fields",
        )


def merge(obj: Any, values: dict[str, Any]) -> None:
    """Turn ``values`` (a merge patch's fields) into what to store: ``translations`` merged
    into ``obj``'s (empty languages dropped), and ``lang`` checked against the result.

    A key equal to the resulting ``lang`` → 422 naming it (``body.translations.<lang>`` when
    the patch sets it, ``body.lang`` when ``lang`` moves onto an existing translation).
    """
    current: Translations = dict(obj.translations or {})
    given = values.pop("translations", ...)
    new_lang: str = values.get("lang", obj.lang)
    merged = {lang: dict(fields) for lang, fields in current.items()}
    touched: set[str] = set()
    if given is None:
        merged = {}
    elif given is not ...:
        for lang, fields in given.items():
            if fields is None:
                merged.pop(lang, None)
                continue
            target = merged.setdefault(lang, {})
            for name, text in fields.items():
                touched.add(lang)
                if text is None:
                    target.pop(name, None)
                else:
                    target[name] = text
        merged = {lang: fields for lang, fields in merged.items() if fields}
    if new_lang in merged:
        if new_lang in touched:
            raise Invalid(
                ("body", "translations", new_lang),
                f"{new_lang} is this resource's own language (lang): its text is in the fields",
            )
        raise Invalid(
            ("body", "lang"),
            f"the resource has a {new_lang} translation: remove it (translations.{new_lang}:"
            " null) or move its text into the fields in the same PATCH",
        )
    if merged != current:
        values["translations"] = merged


# --- the language of rendered output ----------------------------------------------------------

_TAG = re.compile(r"^([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)$")
_QUALITY = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def _weighted(part: str) -> tuple[str, float] | None:
    """One ``Accept-Language`` item as (tag, q); None when it is malformed."""
    tag, *params = (piece.strip() for piece in part.split(";"))
    if not _TAG.match(tag):
        return None
    weight = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        if not _QUALITY.match(value):
            return None
        weight = float(value)
    return tag.lower(), weight


def negotiate(lang: str | None, accept_language: str | None) -> str:
    """The language of a rendered response: ``lang`` (must be supported, else 422), else the
    best supported match of ``Accept-Language`` (q-values rank, then the order given;
    ``ar-BH`` matches ``ar``; ``*`` the default; malformed items are ignored), else the default
    language. Never 406."""
    supported = languages()
    if lang is not None:
        if lang not in supported:
            raise Invalid(
                ("query", "lang"),
                f"unsupported language {lang!r}; supported: {', '.join(supported)}",
            )
        return lang
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((accept_language or "").split(",")[:50]):
        item = _weighted(part)
        if item is None or item[1] <= 0:
            continue
        tag, weight = item
        primary = supported[0] if tag == "*" else tag.split("-", 1)[0]
        if primary not in supported:
            continue
        if best is None or (weight, -index) > (best[0], best[1]):
            best = (weight, -index, primary)
    return best[2] if best is not None else supported[0]


# --- SQL: the text of a field in a language, and what is missing --------------------------------


def check_language(value: str, *, name: str = "missing_translation") -> str:
    """A language given in a query string: one of the supported ones, else 422 naming it."""
    if value not in languages():
        raise Invalid(
            ("query", name), f"unsupported language {value!r}; supported: {', '.join(languages())}"
        )
    return value


MissingTranslation = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=3,
        description=(
            "Only the resources with a translatable field that has text but none in this "
            "language (`en`, `fr` or `ar`): neither their own language nor a translation."
        ),
    ),
]
"""The ``missing_translation`` query parameter of a list."""


def _in(model: Any, lang: Any) -> Any:
    """``translations -> :lang`` as JSONB, ``{}`` when there is none."""
    return type_coerce(func.coalesce(model.translations.op("->")(lang), text("'{}'::jsonb")), JSONB)


def missing_translation(model: Any, name: str = "missing_translation") -> ColumnElement[bool]:
    """Rows of ``model`` where some translatable, non-null field has no text in the language
    of ``:name``: the row's ``lang`` is another, and its translation lacks that field."""
    lang: Any = bindparam(name, type_=String)
    missing = []
    for field in model.translatable:
        column = getattr(model, field)
        lacks = not_(_in(model, lang).has_key(field))
        missing.append(and_(column.is_not(None), lacks) if column.nullable else lacks)
    return and_(model.lang != lang, or_(*missing))


def localized(entity: Any, field: str, lang: Any) -> ColumnElement[str]:
    """ "The field in language ``lang``, else its own text", as SQL: ``coalesce(translations
    -> lang ->> field, field)`` (a row never holds a translation in its own ``lang``: a CHECK
    says so). ``entity`` is a model, an alias or a table's ``c``; ``lang`` a value or a bind
    parameter. Used by every rendered output (reports; exports)."""
    own: Any = getattr(entity, field)
    translated = entity.translations.op("->")(lang).op("->>")(literal(field))
    text_in_lang: ColumnElement[str] = func.coalesce(translated, own)
    return text_in_lang


ReportLang = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=3,
        description=(
            "The language of names and titles (`en`, `fr` or `ar`): each is its translation in"
            " that language, else its own text. Without it, the best match of"
            " `Accept-Language`, else English."
        ),
    ),
]
"""The ``lang`` query parameter of rendered output (reports)."""


def content_headers(lang: str) -> dict[str, str]:
    """``Content-Language`` and ``Vary`` of a response rendered in ``lang``."""
    return {"Content-Language": lang, "Vary": "Accept, Accept-Language"}
