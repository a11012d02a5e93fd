"""Languages and search: lang, translations and a folded, trigram-indexed search column

Every resource with human text gets ``lang`` and ``translations`` (JSONB); every searchable
table a generated ``search`` column, ``ipcp_fold`` of its code, texts and translations, with a
trigram GIN index (``pg_trgm``). The three standard pillars get their French and Arabic names.

Revision ID: i15_languages_search
Revises: h19a1b2c3d4e
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "i15_languages_search"
down_revision: str | None = "h19a1b2c3d4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of common/search.py's FOLD_FUNCTION (a test keeps them equal).
FOLD_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ipcp_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN normalize(lower(translate(
    regexp_replace(normalize(t, NFKD), '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]', '', 'g'),
    'ٱىة٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹', 'ايه01234567890123456789')), NFC)
"""

# Every translated text of a row, one per line (declared IMMUTABLE: it reads only its input).
TRANSLATED_TEXT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ipcp_translated_text(t jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (
    SELECT string_agg(field.value, E'\n')
    FROM jsonb_each(t) AS language, jsonb_each_text(language.value) AS field
    WHERE jsonb_typeof(t) = 'object' AND jsonb_typeof(language.value) = 'object'
)
"""

# table -> the columns folded into `search` (code first); milestones have no code.
SEARCHABLE = {
    "frameworks": ("code", "name", "description"),
    "partners": ("code", "name"),
    "pillars": ("code", "name", "description"),
    "programmes": ("code", "title", "description"),
    "projects": ("code", "title", "description", "lead"),
    "milestones": ("title",),
}

PILLARS = {
    "political-diplomatic": {
        "fr": "Coopération politique et diplomatique",
        "ar": "التعاون السياسي والدبلوماسي",
    },
    "defence-security-expertise": {
        "fr": "Échange d'expertise en matière de défense et de sécurité",
        "ar": "تبادل الخبرات في مجالي الدفاع والأمن",
    },
    "emerging-challenges": {
        "fr": "Coopération face aux nouveaux défis civils et sécuritaires",
        "ar": "التعاون في مواجهة التحديات المدنية والأمنية الناشئة",
    },
}


def _search_expression(columns: tuple[str, ...]) -> str:
    parts = [f"coalesce({name}, '')" for name in columns]
    parts.append("coalesce(ipcp_translated_text(translations), '')")
    return "ipcp_fold(" + " || E'\\n' || ".join(parts) + ")"


def _check_ctype(bind: sa.engine.Connection) -> None:
    """Folding needs a database whose ctype knows more than ASCII (not ``C``/``POSIX``)."""
    row = bind.execute(
        sa.text(
            "SELECT current_database(), datctype, pg_encoding_to_char(encoding),"
            " lower('ÉΣД') = 'éσд' FROM pg_database WHERE datname = current_database()"
        )
    ).one()
    name, ctype, encoding, folds = row
    if encoding != "UTF8" or not folds:
        raise RuntimeError(
            f"database {name!r} (encoding {encoding}, LC_CTYPE {ctype!r}) cannot fold case "
            "beyond ASCII: recreate it with ENCODING 'UTF8' and LC_CTYPE 'C.UTF-8' (or another "
            f"UTF-8 locale), e.g. CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
        )


def _create_trigram_extension(bind: sa.engine.Connection) -> None:
    present = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if present.first() is not None:
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        raise RuntimeError(
            "cannot create the extension pg_trgm (search indexes need it): have a superuser "
            "run CREATE EXTENSION pg_trgm in this database, or install PostgreSQL's contrib "
            f"package ({str(exc.orig).splitlines()[0]})"
        ) from None


def upgrade() -> None:
    bind = op.get_bind()
    _check_ctype(bind)
    _create_trigram_extension(bind)
    op.execute(FOLD_FUNCTION)
    op.execute(TRANSLATED_TEXT_FUNCTION)
    for table, columns in SEARCHABLE.items():
        op.add_column(
            table, sa.Column("lang", sa.String(length=8), server_default="en", nullable=False)
        )
        op.add_column(
            table,
            sa.Column(
                "translations",
                postgresql.JSONB(astext_type=sa.Text()),
                server_default=sa.text("'{}'::jsonb"),
                nullable=False,
            ),
        )
        op.add_column(
            table,
            sa.Column(
                "search",
                sa.Text(),
                sa.Computed(_search_expression(columns), persisted=True),
                nullable=True,
            ),
        )
        op.create_check_constraint(op.f(f"{table}_lang_check"), table, "lang ~ '^[a-z]{2,3}$'")
        op.create_check_constraint(
            op.f(f"{table}_translations_check"),
            table,
            "jsonb_typeof(translations) = 'object' AND NOT translations ? lang",
        )
        op.create_index(
            op.f(f"ix_{table}_search"),
            table,
            ["search"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
        )
    pillars = sa.table(
        "pillars",
        sa.column("code", sa.String),
        sa.column("translations", postgresql.JSONB),
    )
    for code, names in PILLARS.items():
        op.execute(
            pillars.update()
            .where(pillars.c.code == code, pillars.c.translations == sa.text("'{}'::jsonb"))
            .values(translations={lang: {"name": name} for lang, name in names.items()})
        )


def downgrade() -> None:
    # pg_trgm stays: other objects of the database may use it.
    for table in reversed(SEARCHABLE):
        op.drop_index(op.f(f"ix_{table}_search"), table_name=table)
        op.drop_constraint(op.f(f"{table}_translations_check"), table, type_="check")
        op.drop_constraint(op.f(f"{table}_lang_check"), table, type_="check")
        op.drop_column(table, "search")
        op.drop_column(table, "translations")
        op.drop_column(table, "lang")
    op.execute("DROP FUNCTION IF EXISTS ipcp_translated_text(jsonb)")
    op.execute("DROP FUNCTION IF EXISTS ipcp_fold(text)")
