"""Who may do what. Visibility (which rows a caller can see at all) is enforced inside every
query by the storage layer; these rules decide, for a visible resource, whether the caller's
role is strong enough. A resource outside the caller's tenant is never visible, so it answers
NOT_FOUND before any of these checks can answer PERMISSION_DENIED."""

from __future__ import annotations

from uuid import UUID

from server.domain.errors import PermissionDenied, Unauthenticated
from server.domain.models import Caller, Principal, Role

ADMIN_ROLES = frozenset({Role.SUPER_ADMIN, Role.COMPANY_ADMIN})


def require_principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise Unauthenticated("authentication required")
    return caller.principal


def is_super(p: Principal) -> bool:
    return p.role is Role.SUPER_ADMIN


def require_super_admin(p: Principal) -> None:
    if not is_super(p):
        raise PermissionDenied("only a super admin may do this", reason="ROLE_TOO_WEAK")


def require_company_admin(p: Principal, company_id: UUID) -> None:
    """Super admins, or the admins of this very company."""
    if is_super(p):
        return
    if p.role is Role.COMPANY_ADMIN and p.company_id == company_id:
        return
    raise PermissionDenied("only an admin of this company may do this", reason="ROLE_TOO_WEAK")


def require_audit_reader(p: Principal) -> None:
    if p.role not in ADMIN_ROLES:
        raise PermissionDenied("only admins may read the audit log", reason="ROLE_TOO_WEAK")


def assignable_roles(p: Principal) -> frozenset[Role]:
    """Roles the caller may give to a user it creates or changes."""
    if is_super(p):
        return frozenset(Role)
    if p.role is Role.COMPANY_ADMIN:
        return frozenset({Role.COMPANY_ADMIN, Role.DEPARTMENT_USER})
    return frozenset()
