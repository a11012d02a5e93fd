from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Base


class LoginThrottleEntry(Base):
    """Recent failed logins of one username, shared by every worker and replica.

    ``key`` is the SHA-256 of the normalised username (NFKC, case folded), so a row has a
    fixed size whatever a client sends. ``attempts`` counts the attempts of the current window
    that were not followed by a success; ``locked_until`` is set once they reach the bound.
    ``expires_at`` is when the row stops mattering (window over and lock over): the purge
    deletes by it.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (Index(None, "expires_at"),)

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
