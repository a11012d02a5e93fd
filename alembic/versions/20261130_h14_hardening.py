"""Hardening (issue 14): finite dates, programme codes unique per partner, token versions

Revision ID: h14c0ffee001
Revises: cab33c716aee
Create Date: 2026-11-30 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h14c0ffee001"
down_revision: str | None = "cab33c716aee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every date column: (table, column).
DATE_COLUMNS = (
    ("frameworks", "launched_on"),
    ("framework_memberships", "joined_on"),
    ("programmes", "starts_on"),
    ("programmes", "ends_on"),
    ("programmes", "approved_on"),
    ("projects", "starts_on"),
    ("projects", "ends_on"),
    ("milestones", "due_on"),
    ("milestones", "completed_on"),
)


def upgrade() -> None:
    # Dates sent as 0001-01-01 / 9999-12-31 were stored as -infinity / infinity by asyncpg's
    # codec: give them back the value the client sent, then forbid infinite dates.
    for table, column in DATE_COLUMNS:
        op.execute(
            f"UPDATE {table} SET {column} = CASE WHEN {column} < '0001-01-01'"
            f" THEN DATE '0001-01-01' ELSE DATE '9999-12-31' END"
            f" WHERE NOT isfinite({column})"
        )
        op.create_check_constraint(
            op.f(f"{table}_{column}_finite_check"), table, f"isfinite({column})"
        )

    # Programme codes: unique among a partner's programmes (was: across all partners).
    op.drop_constraint(op.f("programmes_code_key"), "programmes", type_="unique")
    op.create_unique_constraint(
        op.f("programmes_partner_id_code_key"), "programmes", ["partner_id", "code"]
    )
    op.create_index(op.f("ix_programmes_code_id"), "programmes", ["code", "id"], unique=False)

    # users.token_version: in every access token; bumping it revokes the tokens issued before.
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("users", "token_version")
    # Fails (unique_violation) while two partners share a code: rename one first.
    op.drop_index(op.f("ix_programmes_code_id"), table_name="programmes")
    op.drop_constraint(op.f("programmes_partner_id_code_key"), "programmes", type_="unique")
    op.create_unique_constraint(op.f("programmes_code_key"), "programmes", ["code"])
    for table, column in reversed(DATE_COLUMNS):
        op.drop_constraint(op.f(f"{table}_{column}_finite_check"), table, type_="check")
