"""Refuse logins for a username after repeated failures (429 with Retry-After).

Kept in the process's memory: each worker counts on its own, so with N workers an attacker
gets at most N times ``MAX_FAILURES`` guesses per window. Argon2 makes each guess slow too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 5 * 60


@dataclass
class _Entry:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        lock: float = LOCK_SECONDS,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lock = lock
        self._entries: dict[str, _Entry] = {}

    def retry_after(self, username: str) -> int:
        """Seconds until ``username`` may try again; 0 when it may try now."""
        entry = self._entries.get(username)
        if entry is None:
            return 0
        remaining = entry.locked_until - time.monotonic()
        return int(remaining) + 1 if remaining > 0 else 0

    def failed(self, username: str) -> None:
        now = time.monotonic()
        if len(self._entries) > 100_000:  # bounded memory under a spray of usernames
            self._entries.clear()
        entry = self._entries.setdefault(username, _Entry())
        entry.failures = [t for t in entry.failures if now - t < self.window] + [now]
        if len(entry.failures) >= self.max_failures:
            entry.locked_until = now + self.lock
            entry.failures.clear()

    def succeeded(self, username: str) -> None:
        self._entries.pop(username, None)
