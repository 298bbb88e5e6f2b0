"""Building tenants through the real API: companies, departments and users in every role, each
with a signed-in token. Keyword defaults, unique names; no shared global world."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from grpc import aio
from interviewplatform.v1 import (
    audit_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    candidate_service_pb2_grpc,
    company_pb2,
    company_service_pb2,
    company_service_pb2_grpc,
    department_service_pb2,
    department_service_pb2_grpc,
    evaluation_service_pb2_grpc,
    interview_pb2,
    interview_service_pb2,
    interview_service_pb2_grpc,
    job_pb2,
    job_service_pb2,
    job_service_pb2_grpc,
    user_pb2,
    user_service_pb2,
    user_service_pb2_grpc,
)

from server.app import Platform
from server.domain.models import Role
from server.security.passwords import Argon2PasswordHasher
from server.storage.repositories import SqlUnitOfWork
from tests.helpers import DEFAULT_PASSWORD

ROLE = {Role.SUPER_ADMIN: user_pb2.ROLE_SUPER_ADMIN,
        Role.COMPANY_ADMIN: user_pb2.ROLE_COMPANY_ADMIN,
        Role.DEPARTMENT_USER: user_pb2.ROLE_DEPARTMENT_USER}


def auth(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


@dataclass
class Api:
    """Stubs for every service on one channel."""

    channel: aio.Channel
    auth: auth_service_pb2_grpc.AuthServiceStub = field(init=False)
    companies: company_service_pb2_grpc.CompanyServiceStub = field(init=False)
    departments: department_service_pb2_grpc.DepartmentServiceStub = field(init=False)
    users: user_service_pb2_grpc.UserServiceStub = field(init=False)
    audit: audit_service_pb2_grpc.AuditServiceStub = field(init=False)
    jobs: job_service_pb2_grpc.JobServiceStub = field(init=False)
    interviews: interview_service_pb2_grpc.InterviewServiceStub = field(init=False)
    candidate: candidate_service_pb2_grpc.CandidateServiceStub = field(init=False)
    evaluations: evaluation_service_pb2_grpc.EvaluationServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.auth = auth_service_pb2_grpc.AuthServiceStub(self.channel)
        self.companies = company_service_pb2_grpc.CompanyServiceStub(self.channel)
        self.departments = department_service_pb2_grpc.DepartmentServiceStub(self.channel)
        self.users = user_service_pb2_grpc.UserServiceStub(self.channel)
        self.audit = audit_service_pb2_grpc.AuditServiceStub(self.channel)
        self.jobs = job_service_pb2_grpc.JobServiceStub(self.channel)
        self.interviews = interview_service_pb2_grpc.InterviewServiceStub(self.channel)
        self.candidate = candidate_service_pb2_grpc.CandidateServiceStub(self.channel)
        self.evaluations = evaluation_service_pb2_grpc.EvaluationServiceStub(self.channel)

    async def login(self, email: str, password: str = DEFAULT_PASSWORD
                    ) -> auth_service_pb2.LoginResponse:
        response: auth_service_pb2.LoginResponse = await self.auth.Login(
            auth_service_pb2.LoginRequest(email=email, password=password))
        return response

    async def token(self, email: str, password: str = DEFAULT_PASSWORD) -> str:
        return (await self.login(email, password)).tokens.access_token

    async def company(self, admin_token: str, *, name: str | None = None
                      ) -> company_pb2.Company:
        response = await self.companies.CreateCompany(
            company_service_pb2.CreateCompanyRequest(company=company_pb2.Company(
                name=name or f"Company {uuid.uuid4().hex[:8]}", email="hr@example.com")),
            metadata=auth(admin_token))
        company: company_pb2.Company = response.company
        return company

    async def department(self, token: str, company_id: str, *, name: str | None = None
                         ) -> company_pb2.Department:
        response = await self.departments.CreateDepartment(
            department_service_pb2.CreateDepartmentRequest(
                company_id=company_id, department=company_pb2.Department(
                    name=name or f"Dept {uuid.uuid4().hex[:8]}")),
            metadata=auth(token))
        dept: company_pb2.Department = response.department
        return dept

    async def user(self, token: str, *, role: Role, company_id: str = "",
                   department_id: str = "", email: str | None = None,
                   password: str = DEFAULT_PASSWORD) -> user_pb2.User:
        response = await self.users.CreateUser(
            user_service_pb2.CreateUserRequest(
                user=user_pb2.User(email=email or f"u-{uuid.uuid4().hex[:10]}@example.com",
                                   full_name="Test Person", role=ROLE[role],
                                   company_id=company_id, department_id=department_id),
                password=password),
            metadata=auth(token))
        user: user_pb2.User = response.user
        return user

    async def job(self, token: str, department_id: str, *, title: str | None = None,
                  description: str = "Builds and runs the platform.") -> job_pb2.Job:
        response = await self.jobs.CreateJob(
            job_service_pb2.CreateJobRequest(job=job_pb2.Job(
                department_id=department_id, title=title or f"Job {uuid.uuid4().hex[:8]}",
                description=description)),
            metadata=auth(token))
        job: job_pb2.Job = response.job
        return job

    async def job_with_questions(self, token: str, department_id: str) -> job_pb2.Job:
        """A job with one question set version (what scheduling an interview needs)."""
        job = await self.job(token, department_id)
        await self.jobs.CreateQuestionSet(job_service_pb2.CreateQuestionSetRequest(
            job_id=job.id, questions=[job_pb2.Question(
                type=job_pb2.QUESTION_TYPE_TECHNICAL, difficulty=job_pb2.DIFFICULTY_EASY,
                texts=[job_pb2.LocalizedText(language="en", text="Why?")])]),
            metadata=auth(token))
        found: job_pb2.Job = (await self.jobs.GetJob(job_service_pb2.GetJobRequest(id=job.id),
                                                     metadata=auth(token))).job
        return found

    async def interview(self, token: str, job_id: str, *, language: str = "en",
                        start: datetime | None = None, end: datetime | None = None,
                        name: str = "Cand Idate",
                        email: str | None = None) -> interview_pb2.Interview:
        """Schedule an interview for a job (starting in a day unless `start` says)."""
        when = interview_pb2.Interview()
        when.scheduled_time.FromDatetime(start or datetime.now(UTC) + timedelta(days=1))
        if end is not None:
            when.window_end_time.FromDatetime(end)
        response = await self.interviews.ScheduleInterview(
            interview_service_pb2.ScheduleInterviewRequest(interview=interview_pb2.Interview(
                job_id=job_id, language=language, mode=interview_pb2.INTERVIEW_MODE_STATIC,
                scheduled_time=when.scheduled_time,
                window_end_time=when.window_end_time if end is not None else None,
                candidate=interview_pb2.Candidate(
                    full_name=name,
                    email=email or f"cand-{uuid.uuid4().hex[:10]}@example.com"))),
            metadata=auth(token))
        created: interview_pb2.Interview = response.interview
        return created


@dataclass
class Member:
    user: user_pb2.User
    token: str


@dataclass
class Tenant:
    company: company_pb2.Company
    departments: list[company_pb2.Department]
    admin: Member
    members: list[Member]  # department users, members[i] in departments[i]


async def make_tenant(api: Api, root_token: str, *, departments: int = 2) -> Tenant:
    """A company with departments, one company admin and one department user per department."""
    company = await api.company(root_token)
    depts = [await api.department(root_token, company.id) for _ in range(departments)]
    admin = await api.user(root_token, role=Role.COMPANY_ADMIN, company_id=company.id)
    members = []
    for dept in depts:
        member = await api.user(root_token, role=Role.DEPARTMENT_USER, company_id=company.id,
                                department_id=dept.id)
        members.append(Member(member, await api.token(member.email)))
    return Tenant(company=company, departments=depts,
                  admin=Member(admin, await api.token(admin.email)), members=members)


async def tenant_on(platform: Platform, api: Api) -> Tenant:
    """A fresh tenant on a platform of its own (a test's second server with other settings):
    a super admin written straight to that platform's database, then the tenant via the API."""
    s = platform.settings
    hasher = Argon2PasswordHasher(time_cost=s.argon2_time_cost,
                                  memory_cost_kib=s.argon2_memory_cost_kib,
                                  parallelism=s.argon2_parallelism)
    async with SqlUnitOfWork(platform.db.sessions) as uow:
        root = await uow.users.create(email=f"root-{uuid.uuid4().hex[:6]}@example.com",
                                      full_name="Root", role=Role.SUPER_ADMIN,
                                      password_hash=await hasher.hash(DEFAULT_PASSWORD))
    return await make_tenant(api, await api.token(root.email))
