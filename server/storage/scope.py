"""Tenant scoping, applied inside every query: what a principal can see at all.

super_admin: everything. company_admin: its company. department_user: its company (the
company row), its own department, and the users, jobs and interviews of that department. Rows
outside the scope are simply not returned, so the caller cannot tell them from rows that do not
exist.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from server.domain.models import Principal, Role
from server.storage.orm import (
    AuditEventRow,
    CompanyRow,
    DecisionRow,
    DepartmentRow,
    EvaluationRow,
    InterviewRow,
    JobRow,
    UserRow,
)

# A row's company or department column (users of a super admin have neither: nullable).
TenantColumn = InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[uuid.UUID | None]


def _tenant(p: Principal, company: TenantColumn,
            department: TenantColumn) -> ColumnElement[bool]:
    """The usual scope of department-owned rows: all for a super admin, the company for a
    company admin, the own department for a department user."""
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return company == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return department == p.department_id
    return false()


def companies(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.SUPER_ADMIN:
        return true()
    return CompanyRow.id == p.company_id if p.company_id else false()


def departments(p: Principal) -> ColumnElement[bool]:
    return _tenant(p, DepartmentRow.company_id, DepartmentRow.id)


def users(p: Principal) -> ColumnElement[bool]:
    return _tenant(p, UserRow.company_id, UserRow.department_id)


def jobs(p: Principal) -> ColumnElement[bool]:
    """Jobs: a company admin's company, a department user's own department."""
    return _tenant(p, JobRow.company_id, JobRow.department_id)


def interviews(p: Principal) -> ColumnElement[bool]:
    """Interviews: like their jobs, a company admin's company, a department user's own
    department."""
    return _tenant(p, InterviewRow.company_id, InterviewRow.department_id)


def audit_events(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return AuditEventRow.company_id == p.company_id
    return false()


def evaluations(p: Principal) -> ColumnElement[bool]:
    """Evaluations: like their interviews."""
    return _tenant(p, EvaluationRow.company_id, EvaluationRow.department_id)


def decisions(p: Principal) -> ColumnElement[bool]:
    """AI decision records: like the interviews and jobs they are about."""
    return _tenant(p, DecisionRow.company_id, DecisionRow.department_id)
