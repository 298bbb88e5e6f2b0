"""Users and refresh sessions, and the unit of work that commits all repositories together."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import TracebackType

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.domain.errors import AlreadyExists
from server.domain.models import EntityStatus, Principal, RefreshSession, Role, User
from server.domain.paging import Cursor, uuid_key
from server.storage import scope
from server.storage.audit_repo import SqlAuditRepository
from server.storage.candidate_repo import SqlCandidateRepository
from server.storage.directory_repo import SqlCompanyRepository, SqlDepartmentRepository
from server.storage.evaluation_repo import (
    SqlDecisionRepository,
    SqlEvaluationRepository,
    SqlInterviewQuestionRepository,
)
from server.storage.interview_repo import SqlCandidateTokenRepository, SqlInterviewRepository
from server.storage.job_repo import SqlJobRepository, SqlQuestionSetRepository
from server.storage.orm import RefreshTokenRow, UserRow
from server.storage.outbox_repo import SqlOutboxRepository
from server.storage.security_repo import (
    SqlIdempotencyRepository,
    SqlLoginAttemptRepository,
    SqlResetTokenRepository,
)
from server.storage.sql import like_prefix, plain_values, unique_violations


def _email_taken() -> dict[str, AlreadyExists]:
    return {"users_email_lower_key": AlreadyExists("a user with this email exists",
                                                   reason="EMAIL_TAKEN")}


def _user(row: UserRow) -> User:
    return User(
        id=row.id, email=row.email, full_name=row.full_name, role=Role(row.role),
        company_id=row.company_id, department_id=row.department_id,
        status=EntityStatus(row.status), password_hash=row.password_hash,
        created_at=row.created_at, updated_at=row.updated_at, phone=row.phone,
        version=row.version,
    )


def _session(row: RefreshTokenRow) -> RefreshSession:
    return RefreshSession(id=row.id, family_id=row.family_id, user_id=row.user_id,
                          expires_at=row.expires_at, used_at=row.used_at,
                          revoked_at=row.revoked_at)


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get_by_email(self, email: str) -> User | None:
        row = await self._s.scalar(
            select(UserRow).where(func.lower(UserRow.email) == email.strip().lower())
        )
        return _user(row) if row else None

    async def get_by_id(self, user_id: uuid.UUID) -> User | None:
        row = await self._s.get(UserRow, user_id)
        return _user(row) if row else None

    async def get(self, scope_of: Principal, user_id: uuid.UUID, *,
                  for_update: bool = False) -> User | None:
        query = select(UserRow).where(UserRow.id == user_id, scope.users(scope_of))
        if for_update:
            query = query.with_for_update()
        row = await self._s.scalar(query)
        return _user(row) if row else None

    async def email_taken(self, email: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(UserRow.id).where(func.lower(UserRow.email) == email.strip().lower())
        if except_id is not None:
            query = query.where(UserRow.id != except_id)
        return await self._s.scalar(query.limit(1)) is not None

    async def create(self, *, email: str, full_name: str, role: Role, password_hash: str,
                     company_id: uuid.UUID | None = None,
                     department_id: uuid.UUID | None = None, phone: str | None = None,
                     created_by: uuid.UUID | None = None) -> User:
        row = UserRow(email=email.strip(), full_name=full_name or "", role=role.value,
                      password_hash=password_hash, company_id=company_id,
                      department_id=department_id, phone=phone or None,
                      created_by=created_by, updated_by=created_by)
        self._s.add(row)
        with unique_violations(_email_taken()):
            await self._s.flush()
        await self._s.refresh(row)
        return _user(row)

    async def update(self, user_id: uuid.UUID, values: dict[str, object],
                     actor_id: uuid.UUID | None) -> User:
        columns = plain_values(values)
        if "full_name" in columns and columns["full_name"] is None:
            columns["full_name"] = ""
        if "email" in columns and isinstance(columns["email"], str):
            columns["email"] = columns["email"].strip()
        with unique_violations(_email_taken()):
            row = (await self._s.execute(
                update(UserRow).where(UserRow.id == user_id)
                .values(**columns, version=UserRow.version + 1, updated_at=func.now(),
                        updated_by=actor_id)
                .returning(UserRow))).scalar_one()
        return _user(row)

    async def list(self, scope_of: Principal, *, company_id: uuid.UUID | None,
                   department_id: uuid.UUID | None, status: EntityStatus | None,
                   email_prefix: str | None, after: Cursor | None, limit: int) -> list[User]:
        query = select(UserRow).where(scope.users(scope_of))
        if company_id is not None:
            query = query.where(UserRow.company_id == company_id)
        if department_id is not None:
            query = query.where(UserRow.department_id == department_id)
        if status is not None:
            query = query.where(UserRow.status == status.value)
        if email_prefix:
            query = query.where(func.lower(UserRow.email).like(like_prefix(email_prefix)))
        key = uuid_key(after)
        if key is not None:
            query = query.where(tuple_(UserRow.created_at, UserRow.id) > key)
        query = query.order_by(UserRow.created_at, UserRow.id).limit(limit)
        return [_user(r) for r in (await self._s.scalars(query)).all()]

    async def exists_with_role(self, role: Role) -> bool:
        found = await self._s.scalar(select(UserRow.id).where(UserRow.role == role.value).limit(1))
        return found is not None


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, family_id: uuid.UUID, user_id: uuid.UUID, token_hash: bytes,
                     expires_at: datetime) -> RefreshSession:
        row = RefreshTokenRow(family_id=family_id, user_id=user_id, token_hash=token_hash,
                              expires_at=expires_at)
        self._s.add(row)
        await self._s.flush()
        return _session(row)

    async def get_for_update(self, token_hash: bytes) -> RefreshSession | None:
        row = await self._s.scalar(
            select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            .with_for_update()
        )
        return _session(row) if row else None

    async def mark_used(self, session_id: uuid.UUID, at: datetime) -> None:
        await self._s.execute(
            update(RefreshTokenRow).where(RefreshTokenRow.id == session_id).values(used_at=at)
        )

    async def revoke_family(self, family_id: uuid.UUID, at: datetime) -> int:
        result = await self._s.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def revoke_user(self, user_id: uuid.UUID, at: datetime, *,
                          except_family: uuid.UUID | None = None) -> int:
        query = update(RefreshTokenRow).where(RefreshTokenRow.user_id == user_id,
                                              RefreshTokenRow.revoked_at.is_(None))
        if except_family is not None:
            query = query.where(RefreshTokenRow.family_id != except_family)
        result = await self._s.execute(query.values(revoked_at=at))
        return int(getattr(result, "rowcount", 0) or 0)

    async def revoke_company(self, company_id: uuid.UUID, at: datetime) -> int:
        members = select(UserRow.id).where(UserRow.company_id == company_id)
        result = await self._s.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.user_id.in_(members), RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at))
        return int(getattr(result, "rowcount", 0) or 0)


class SqlUnitOfWork:
    """One transaction per use-case call: commit on clean exit, roll back on any error."""

    users: SqlUserRepository
    sessions: SqlSessionRepository
    companies: SqlCompanyRepository
    departments: SqlDepartmentRepository
    jobs: SqlJobRepository
    question_sets: SqlQuestionSetRepository
    interviews: SqlInterviewRepository
    candidate_tokens: SqlCandidateTokenRepository
    candidates: SqlCandidateRepository
    audit: SqlAuditRepository
    attempts: SqlLoginAttemptRepository
    idempotency: SqlIdempotencyRepository
    resets: SqlResetTokenRepository
    outbox: SqlOutboxRepository
    evaluations: SqlEvaluationRepository
    decisions: SqlDecisionRepository
    asked_questions: SqlInterviewQuestionRepository

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        s = self._factory()
        self._session = s
        await s.begin()
        self.users = SqlUserRepository(s)
        self.sessions = SqlSessionRepository(s)
        self.companies = SqlCompanyRepository(s)
        self.departments = SqlDepartmentRepository(s)
        self.jobs = SqlJobRepository(s)
        self.question_sets = SqlQuestionSetRepository(s)
        self.interviews = SqlInterviewRepository(s)
        self.candidate_tokens = SqlCandidateTokenRepository(s)
        self.candidates = SqlCandidateRepository(s)
        self.audit = SqlAuditRepository(s)
        self.attempts = SqlLoginAttemptRepository(s)
        self.idempotency = SqlIdempotencyRepository(s)
        self.resets = SqlResetTokenRepository(s)
        self.outbox = SqlOutboxRepository(s)
        self.evaluations = SqlEvaluationRepository(s)
        self.decisions = SqlDecisionRepository(s)
        self.asked_questions = SqlInterviewQuestionRepository(s)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._session is not None
        try:
            if exc_type is None:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None
