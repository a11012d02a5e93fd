"""Folding for ``q``: the SQL function ``ipcp_fold`` and its Python twin ``fold``."""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from ipcp_api.common.search import FOLD_FUNCTION, fold

# Every assigned, printable character of the scripts the service is used with: ASCII, Latin-1
# and Latin Extended-A/B, Greek, Cyrillic, the Arabic block with its presentation forms A and B
# (ligatures such as ﻻ and ﷲ), Latin ligatures (ﬁ), full-width forms, Persian digits.
RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x300, 0x36F),
    (0x370, 0x3FF),
    (0x400, 0x4FF),
    (0x600, 0x6FF),
    (0x1E00, 0x1EFF),
    (0xFB00, 0xFB06),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFC),
    (0xFF01, 0xFF5E),
]
ALPHABET = [
    chr(code)
    for low, high in RANGES
    for code in range(low, high + 1)
    if unicodedata.category(chr(code)) not in {"Cn", "Cs", "Co", "Cc"}
]


async def _sql_fold(connection: AsyncConnection, texts: list[str]) -> list[str]:
    result = await connection.execute(
        text(
            "SELECT ipcp_fold(t)"
            " FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS u(t, n) ORDER BY n"
        ),
        {"texts": texts},
    )
    return [row[0] for row in result]


async def test_every_character_folds_alike_in_sql_and_python(connection: AsyncConnection) -> None:
    assert len(ALPHABET) > 2000
    folded = await _sql_fold(connection, ALPHABET)
    differ = [
        (f"U+{ord(c):04X}", sql, fold(c))
        for c, sql in zip(ALPHABET, folded, strict=True)
        if sql != fold(c)
    ]
    assert differ == []


async def test_generated_text_folds_alike(connection: AsyncConnection) -> None:
    """Random strings over the alphabet (marks, ligatures and letters mixed), fixed seed."""
    rng = random.Random(20160601)
    texts = ["".join(rng.choices(ALPHABET, k=rng.randint(1, 40))) for _ in range(3000)]
    folded = await _sql_fold(connection, texts)
    differ = [(t, sql, fold(t)) for t, sql in zip(texts, folded, strict=True) if sql != fold(t)]
    assert differ == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("البحريـن", "البحرين"),  # tatweel
        ("ٱلبحرين", "البحرين"),  # alef wasla
        ("امن", "الأَمْنُ"),  # hamza and diacritics
        ("الامن", "الأَمْنُ"),
        ("امن", "أمن"),
        ("منظمه", "منظمة"),  # teh marbuta
        ("مكافحة الارهاب", "مكافحة الإرهاب"),  # hamza below
        ("2016", "٢٠١٦"),  # Arabic-Indic digits
        ("2016", "۲۰۱۶"),  # Persian digits
        ("مستشفي", "مستشفى"),  # alef maqsura
        ("مسوول", "مسؤول"),  # waw with hamza
        ("رييس", "رئيس"),  # yeh with hamza
        ("القران", "القرآن"),  # alef with madda
        ("cooperation", "Coopération"),
        ("ECOLE", "école"),
        ("file", "ﬁle"),  # ligature
        ("لا", "ﻻ"),  # lam-alef presentation form
        ("بحر", "ﺑﺤﺮ"),  # presentation forms
        ("abc", "ＡＢＣ"),  # full width
    ],
)
async def test_rules(connection: AsyncConnection, typed: str, stored: str) -> None:
    [sql_typed, sql_stored] = await _sql_fold(connection, [typed, stored])
    assert sql_typed in sql_stored
    assert fold(typed) in fold(stored)


def test_migration_holds_the_same_function() -> None:
    """The migration keeps a frozen copy of ``FOLD_FUNCTION``; they must be the same SQL."""
    migration = next(
        Path(__file__).resolve().parents[2].glob("alembic/versions/*_languages_and_search.py")
    )
    source = migration.read_text(encoding="utf-8")
    copy = re.search(r'FOLD_FUNCTION = r"""(.*?)"""', source, re.S)
    assert copy is not None
    assert copy.group(1).split() == FOLD_FUNCTION.split()


async def test_migration_stops_on_a_database_that_cannot_fold(server_url: str) -> None:
    """A database with LC_CTYPE C does not lower-case É: the migration says what to change."""
    import asyncio

    from sqlalchemy.engine import make_url

    from ipcp_api.db.migrations import upgrade
    from tests.conftest import _admin

    name = f"ipcp_ctype_{uuid.uuid4().hex[:8]}"
    await _admin(
        server_url,
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
        "LC_COLLATE 'C' LC_CTYPE 'C'",
    )
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with pytest.raises(RuntimeError, match=r"LC_CTYPE 'C'.*C\.UTF-8") as info:
            await asyncio.to_thread(upgrade, url)
        assert "\n" not in str(info.value)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
