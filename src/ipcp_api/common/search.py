"""``q``: a substring of a resource's code, text fields and translations, after folding.

Folding (API.md, Conventions → Search) is one IMMUTABLE SQL function, ``ipcp_fold(text)``,
created by the migration; every searchable table stores ``ipcp_fold(<code, texts,
translations>)`` in a generated ``search`` column with a trigram GIN index (``pg_trgm``), and
``q`` becomes ``search LIKE '%' || <ipcp_fold(q), LIKE-escaped> || '%'``. ``fold()`` below is
its Python twin (tests hold the two to the same answers); the service folds ``q`` in SQL, so
the two sides of a match are always folded by the same code.

Not PostgreSQL's ``arabic`` stemmer: it stems البحرين (Bahrain) to بحر (sea).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, func

from ipcp_api.errors import Invalid

# Combining marks dropped after NFKD: Latin (and other) accents, Arabic diacritics (harakat,
# tanwin, shadda, sukun, the hamza and madda that NFKD splits off أ إ آ ؤ ئ, superscript
# alef, Quranic marks) and tatweel.
MARKS = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
)
# alef wasla, alef maqsura, teh marbuta; Arabic-Indic and Persian (Extended) digits
TRANSLATE_FROM = "ٱىة٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"
TRANSLATE_TO = "ايه01234567890123456789"

FOLD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ipcp_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN normalize(lower(translate(
    regexp_replace(normalize(t, NFKD), '[{MARKS.encode("unicode_escape").decode()}]', '', 'g'),
    '{TRANSLATE_FROM}', '{TRANSLATE_TO}')), NFC)
"""
"""The SQL of ``ipcp_fold`` (the migration holds its own copy; a test compares them)."""

_MARKS = re.compile(f"[{MARKS}]")
_TABLE = str.maketrans(TRANSLATE_FROM, TRANSLATE_TO)

MAX_Q = 200


def fold(text: str) -> str:
    """The Python twin of ``ipcp_fold``: NFKD, marks and tatweel removed, Arabic letter
    variants and digits mapped, lower case (character by character, as PostgreSQL's
    ``lower`` does: no final-sigma rule), NFC."""
    decomposed = _MARKS.sub("", unicodedata.normalize("NFKD", text)).translate(_TABLE)
    return unicodedata.normalize("NFC", "".join(char.lower() for char in decomposed))


def check_q(q: str) -> str:
    """422 for a ``q`` that folds to nothing (only accents or tatweel): it would match all."""
    if q == "":
        raise Invalid(("query", "q"), "must not be empty (1–200 characters)")
    if fold(q) == "":
        raise Invalid(("query", "q"), "nothing to search for once accents and marks are removed")
    return q


def term(name: str = "q") -> Any:
    """``q`` in a statement: rendered as a literal when the statement runs (SQLAlchemy's
    ``literal_execute``; quoted by its string literal rules), not sent as a parameter.

    Why: with a parameter, PostgreSQL may cache a *generic* plan of the list (after five runs
    of a prepared statement), which cannot know how selective the term is: measured on
    200,000 projects, it walked the ``code`` index and folded the pattern again for every row
    (1.8 s for a term that matches 20 rows, against 1.5 ms with the trigram index). A literal
    ``ipcp_fold('…')`` is folded once at planning, and each term gets the plan its own
    selectivity calls for."""
    return bindparam(name, type_=String, literal_execute=True)


def _const(value: str) -> Any:
    """A constant of the pattern, written into the statement (see ``term``)."""
    return bindparam(None, value, type_=String, literal_execute=True)


def like_pattern(q: Any) -> ColumnElement[str]:
    """``'%' || <ipcp_fold(q) with \\ % _ escaped> || '%'``: with ``q = term()``, a constant
    expression that PostgreSQL computes once, at planning."""
    folded: Any = func.ipcp_fold(q)
    for special in ("\\", "%", "_"):
        folded = func.replace(folded, _const(special), _const("\\" + special))
    result: ColumnElement[str] = _const("%") + folded + _const("%")
    return result


_WORD = re.compile(r"[^\W_]{3}")


def shape(q: str) -> str:
    """``"short"`` when the folded ``q`` has no three word characters in a row (no trigram
    for the index to look up), else ``""``."""
    return "" if _WORD.search(fold(q)) else "short"


def contains(search_column: Any, q: Any) -> ColumnElement[bool]:
    """``search_column`` contains ``q`` folded (``strpos``: no pattern, no index)."""
    result: ColumnElement[bool] = func.strpos(search_column, func.ipcp_fold(q)) > 0
    return result


def matches(search_column: Any, q: Any) -> ColumnElement[bool]:
    """``search_column`` (a folded ``search`` column) contains ``q`` folded, literally."""
    result: ColumnElement[bool] = search_column.like(like_pattern(q), escape="\\")
    return result
