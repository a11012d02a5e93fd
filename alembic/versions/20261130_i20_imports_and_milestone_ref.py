"""Imports (issue 20): milestone ``ref`` (unique within its project, searched by ``q``) and the
``imports`` table (parsed rows, plan and errors as JSONB, kept 7 days)

Revision ID: i20_imports_ref
Revises: i15_languages_search
Create Date: 2026-11-30 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "i20_imports_ref"
down_revision: str | None = "i15_languages_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _search_expression(columns: tuple[str, ...]) -> str:
    # a frozen copy of db/localized.py's search_expression
    parts = [f"coalesce({name}, '')" for name in columns]
    parts.append("coalesce(ipcp_translated_text(translations), '')")
    return "ipcp_fold(" + " || E'\\n' || ".join(parts) + ")"


def _search_column(columns: tuple[str, ...]) -> None:
    op.drop_index(op.f("ix_milestones_search"), table_name="milestones")
    op.drop_column("milestones", "search")
    op.add_column(
        "milestones",
        sa.Column(
            "search",
            sa.Text(),
            sa.Computed(_search_expression(columns), persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        op.f("ix_milestones_search"),
        "milestones",
        ["search"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search": "gin_trgm_ops"},
    )


def upgrade() -> None:
    op.add_column("milestones", sa.Column("ref", sa.String(length=32), nullable=True))
    op.create_check_constraint(
        op.f("milestones_ref_check"), "milestones", "char_length(ref) BETWEEN 1 AND 32"
    )
    op.create_unique_constraint(
        op.f("milestones_project_id_ref_key"), "milestones", ["project_id", "ref"]
    )
    _search_column(("ref", "title"))
    op.create_table(
        "imports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("plan", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rows", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now() + interval '7 days'"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "status IN ('valid', 'invalid', 'committed')", name=op.f("imports_status_check")
        ),
        sa.CheckConstraint("char_length(sha256) = 64", name=op.f("imports_sha256_check")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("imports_programme_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("imports_user_id_fkey"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("imports_pkey")),
    )
    op.create_index(op.f("ix_imports_expires_at"), "imports", ["expires_at"], unique=False)
    op.create_index(op.f("ix_imports_programme_id"), "imports", ["programme_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_imports_programme_id"), table_name="imports")
    op.drop_index(op.f("ix_imports_expires_at"), table_name="imports")
    op.drop_table("imports")
    _search_column(("title",))
    op.drop_constraint(op.f("milestones_project_id_ref_key"), "milestones", type_="unique")
    op.drop_constraint(op.f("milestones_ref_check"), "milestones", type_="check")
    op.drop_column("milestones", "ref")
