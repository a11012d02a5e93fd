"""Hardening (issue 14): finite dates

Revision ID: h14c0ffee001
Revises: cab33c716aee
Create Date: 2026-11-30 09:50:00
"""

from collections.abc import Sequence

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


def downgrade() -> None:
    for table, column in reversed(DATE_COLUMNS):
        op.drop_constraint(op.f(f"{table}_{column}_finite_check"), table, type_="check")
