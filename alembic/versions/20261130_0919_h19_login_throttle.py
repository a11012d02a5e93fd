"""Login throttle shared by every worker and replica (issue 19)

Revision ID: h19a1b2c3d4e
Revises: h14c0ffee001
Create Date: 2026-11-30 09:19:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h19a1b2c3d4e"
down_revision: str | None = "h14c0ffee001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("login_throttle_pkey")),
    )
    op.create_index(
        op.f("ix_login_throttle_expires_at"), "login_throttle", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttle_expires_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
