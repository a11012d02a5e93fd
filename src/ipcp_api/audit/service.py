"""The audit trail: one row per create, update and delete, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.actor import SYSTEM_USER_ID, Actor
from ipcp_api.enums import AuditAction
from ipcp_api.models import AuditEvent


def _json(value: Any) -> Any:
    if isinstance(value, datetime) and value.utcoffset() == timedelta(0):
        return value.isoformat().replace("+00:00", "Z")  # as the API writes timestamps
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def snapshot(obj: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The audited fields of ``obj`` as JSON values (memberships and the like included)."""
    extra = getattr(obj, "audit_extra", None)
    values: dict[str, Any] = {}
    for name in fields or obj.audited_fields:
        if extra is not None and name in extra:
            values[name] = _json(extra[name])
        else:
            values[name] = _json(getattr(obj, name))
    return values


def _entity(obj: Any) -> str:
    """The collection name: the table's, with ``-`` for ``_`` (``action_items`` ->
    ``action-items``, as in the URL)."""
    return str(obj.__tablename__).replace("_", "-")


def record(
    session: AsyncSession,
    actor: Actor | None,
    action: AuditAction,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Add the audit row for one change; an update that changed nothing records nothing."""
    values = event_values(actor, action, obj, before=before, after=after)
    if values is None:
        return None
    event = AuditEvent(**values)
    session.add(event)
    return event


def event_values(
    actor: Actor | None,
    action: AuditAction,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The columns of the audit row ``record`` adds (None when an update changed nothing);
    for writers that insert many rows in one statement (imports)."""
    old = before or {}
    new = after or {}
    if action is AuditAction.create:
        changes = {k: [None, v] for k, v in new.items()}
    elif action is AuditAction.delete:
        changes = {k: [v, None] for k, v in old.items()}
    else:
        changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
        if not changes:
            return None
    return {
        "user_id": actor.user_id if actor is not None and actor.user_id != SYSTEM_USER_ID else None,
        "action": action,
        "entity": _entity(obj),
        "entity_id": obj.id,
        "changes": changes,
    }


def created(session: AsyncSession, actor: Actor | None, obj: Any) -> None:
    record(session, actor, AuditAction.create, obj, after=snapshot(obj))


def updated(session: AsyncSession, actor: Actor | None, obj: Any, before: dict[str, Any]) -> None:
    record(session, actor, AuditAction.update, obj, before=before, after=snapshot(obj))


def deleted(session: AsyncSession, actor: Actor | None, obj: Any, before: dict[str, Any]) -> None:
    record(session, actor, AuditAction.delete, obj, before=before)


HIDDEN = "(hidden)"
"""What the trail records for a secret field such as a password: that it changed, not its value."""


def updated_hidden(
    session: AsyncSession,
    actor: Actor | None,
    obj: Any,
    before: dict[str, Any],
    hidden: Iterable[str],
) -> None:
    """Like ``updated``, and each field in ``hidden`` is recorded as ``[HIDDEN, HIDDEN]``.

    For secrets that changed (a new password): the trail shows the change, never a value or
    a hash. With nothing else changed the event holds only the hidden fields.
    """
    secret = {name: [HIDDEN, HIDDEN] for name in hidden}
    event = record(session, actor, AuditAction.update, obj, before=before, after=snapshot(obj))
    if not secret:
        return
    if event is None:
        session.add(
            AuditEvent(
                user_id=actor.user_id
                if actor is not None and actor.user_id != SYSTEM_USER_ID
                else None,
                action=AuditAction.update,
                entity=_entity(obj),
                entity_id=obj.id,
                changes=secret,
            )
        )
    else:
        event.changes = {**event.changes, **secret}


# The collection names an audit event's ``entity`` can hold (the audited tables).
ENTITIES = (
    "frameworks",
    "partners",
    "pillars",
    "programmes",
    "projects",
    "milestones",
    "users",
    "baselines",
    "committees",
    "reviews",
    "decisions",
    "action-items",
)
