"""Schemathesis hooks for .ci/fuzz.sh (named in schemathesis.toml).

A positive test case must be a request the API accepts. Three inputs are valid only as the
server issued them, which no schema can express; in positive test cases only, they are made
real instead of random:

- ``cursor`` is an opaque, signed token from a previous page's ``next_cursor``: any other
  value is 422 by contract (a forged or garbled cursor), so a generated one is dropped;
- ``If-Match`` holds the resource's current ETag: any other value is 412 by contract (and
  the write is never tried), so a generated one is dropped (the header is optional);
- ``Idempotency-Key`` reused with another body is 422 by contract: a generated key (the
  generator repeats short keys like "0") is replaced by a fresh one.

Negative test cases are sent as generated, forged cursors and all.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(_context: Any, case: Any, **_kwargs: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if case.query and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    if case.headers:
        for name in list(case.headers):
            if name.lower() == "if-match":
                del case.headers[name]
            elif name.lower() == "idempotency-key":
                case.headers[name] = uuid.uuid4().hex
