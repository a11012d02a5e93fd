"""Columns of every resource with human text: ``lang``, ``translations`` and ``search``.

``search`` is generated and stored by PostgreSQL: the folded (``ipcp_fold``, see
``common/search.py``) code, text fields and every translation of the row, one per line, with a
trigram GIN index that serves ``q`` as a substring match. The two SQL functions it uses are
created by the migration ``20261130_1500_languages_and_search``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Computed, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Unmapped, declared_attr, mapped_column, unmapped_column


def search_expression(columns: tuple[str, ...]) -> str:
    """The SQL of the generated ``search`` column over ``columns`` and ``translations``."""
    parts = [f"coalesce({name}, '')" for name in columns]
    parts.append("coalesce(ipcp_translated_text(translations), '')")
    return "ipcp_fold(" + " || E'\\n' || ".join(parts) + ")"


class Localized:
    """Mixin: ``lang`` and ``translations`` (JSONB), and the generated ``search`` column.

    A model sets ``translatable`` (its fields that take translations) and ``searchable`` (its
    own columns folded into ``search``, code first), and adds ``*localized_table_args()`` to
    its ``__table_args__``.
    """

    translatable: ClassVar[tuple[str, ...]] = ()
    searchable: ClassVar[tuple[str, ...]] = ()

    lang: Mapped[str] = mapped_column(String(8), server_default="en", sort_order=5)
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb"), sort_order=5
    )

    @declared_attr  # type: ignore[arg-type]  # (typed for Mapped[], not Unmapped[])
    def search(cls) -> Unmapped[str]:
        # A column of the table, not of the mapped class: the ORM never loads it, nor fetches
        # it back after INSERT/UPDATE (RETURNING). WHERE clauses read it as
        # ``search_column(Model)``.
        return unmapped_column(
            Text, Computed(search_expression(cls.searchable), persisted=True), sort_order=6
        )


def search_column(model: Any) -> Any:
    """The generated, folded ``search`` column of ``model``'s table."""
    return model.__table__.c.search


def localized_table_args() -> tuple[Any, ...]:
    """The CHECKs on ``lang`` and ``translations`` and the trigram index on ``search``."""
    return (
        CheckConstraint("lang ~ '^[a-z]{2,3}$'", name="lang"),
        CheckConstraint(
            "jsonb_typeof(translations) = 'object' AND NOT translations ? lang",
            name="translations",
        ),
        Index(None, "search", postgresql_using="gin", postgresql_ops={"search": "gin_trgm_ops"}),
    )
