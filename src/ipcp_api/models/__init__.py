"""All ORM classes; importing this package registers every table on ``Base.metadata``."""

from ipcp_api.db.base import Base
from ipcp_api.models.action_item import ActionItem
from ipcp_api.models.audit_event import AuditEvent
from ipcp_api.models.baseline import Baseline, BaselineMilestone, BaselineProject
from ipcp_api.models.committee import Committee
from ipcp_api.models.data_import import DataImport
from ipcp_api.models.decision import Decision
from ipcp_api.models.framework import Framework
from ipcp_api.models.framework_membership import FrameworkMembership
from ipcp_api.models.idempotency_key import IdempotencyKey
from ipcp_api.models.login_throttle import LoginThrottleEntry
from ipcp_api.models.milestone import Milestone
from ipcp_api.models.partner import Partner
from ipcp_api.models.pillar import Pillar
from ipcp_api.models.programme import Programme
from ipcp_api.models.project import Project
from ipcp_api.models.review import Review
from ipcp_api.models.user import User

__all__ = [
    "ActionItem",
    "AuditEvent",
    "Base",
    "Baseline",
    "BaselineMilestone",
    "BaselineProject",
    "Committee",
    "DataImport",
    "Decision",
    "Framework",
    "FrameworkMembership",
    "IdempotencyKey",
    "LoginThrottleEntry",
    "Milestone",
    "Partner",
    "Pillar",
    "Programme",
    "Project",
    "Review",
    "User",
]
