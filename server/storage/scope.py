"""Tenant scoping, applied inside every query: what a principal can see at all.

super_admin: everything. company_admin: its company. department_user: its company (the
company row), its own department, and the users, jobs and interviews of that department. Rows
outside the scope are simply not returned, so the caller cannot tell them from rows that do not
exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

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


def companies(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.SUPER_ADMIN:
        return true()
    return CompanyRow.id == p.company_id if p.company_id else false()


def departments(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return DepartmentRow.company_id == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return DepartmentRow.id == p.department_id
    return false()


def users(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return UserRow.company_id == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return UserRow.department_id == p.department_id
    return false()


def jobs(p: Principal) -> ColumnElement[bool]:
    """Jobs: a company admin's company, a department user's own department."""
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return JobRow.company_id == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return JobRow.department_id == p.department_id
    return false()


def interviews(p: Principal) -> ColumnElement[bool]:
    """Interviews: like their jobs, a company admin's company, a department user's own
    department."""
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return InterviewRow.company_id == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return InterviewRow.department_id == p.department_id
    return false()


def audit_events(p: Principal) -> ColumnElement[bool]:
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return AuditEventRow.company_id == p.company_id
    return false()


def evaluations(p: Principal) -> ColumnElement[bool]:
    """Evaluations: like their interviews."""
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return EvaluationRow.company_id == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return EvaluationRow.department_id == p.department_id
    return false()


def decisions(p: Principal) -> ColumnElement[bool]:
    """AI decision records: like the interviews and jobs they are about."""
    if p.role is Role.SUPER_ADMIN:
        return true()
    if p.role is Role.COMPANY_ADMIN and p.company_id:
        return DecisionRow.company_id == p.company_id
    if p.role is Role.DEPARTMENT_USER and p.department_id:
        return DecisionRow.department_id == p.department_id
    return false()
