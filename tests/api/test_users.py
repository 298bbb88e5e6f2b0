"""UserService against a real server and PostgreSQL: who may create whom, unique emails, the
password policy, reads and keyset pages with filters, masked updates (moves, role changes,
self-service), deactivation ending sign-in and sessions, admin-issued password resets, and a
few REST/JSON checks through Envoy."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from interviewplatform.v1 import auth_service_pb2 as apb
from interviewplatform.v1 import department_service_pb2 as dpb
from interviewplatform.v1 import user_pb2
from interviewplatform.v1 import user_service_pb2 as pb
from sqlalchemy import text

from server.app import Platform
from tests.factories import Api, Tenant, auth, make_tenant
from tests.helpers import DEFAULT_PASSWORD, error_info, fails

ACTIVE = user_pb2.ENTITY_STATUS_ACTIVE
INACTIVE = user_pb2.ENTITY_STATUS_INACTIVE
SUPER = user_pb2.ROLE_SUPER_ADMIN
ADMIN = user_pb2.ROLE_COMPANY_ADMIN
MEMBER = user_pb2.ROLE_DEPARTMENT_USER
PASSWORD = "violet kettle under 9 stars"


def violated_fields(exc: aio.AioRpcError) -> set[str]:
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return {v.field for v in bad.field_violations}
    raise AssertionError(f"no BadRequest in {exc!r}")


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def new_email(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def create_call(api: Api, token: str, *, role: user_pb2.Role.ValueType = MEMBER,
                company_id: str = "", department_id: str = "", email: str | None = None,
                password: str = PASSWORD, full_name: str = "Test Person", phone: str = "",
                request_id: str = "") -> Awaitable[pb.CreateUserResponse]:
    call: Awaitable[pb.CreateUserResponse] = api.users.CreateUser(pb.CreateUserRequest(
        user=user_pb2.User(email=email or new_email(), full_name=full_name, role=role,
                           company_id=company_id, department_id=department_id, phone=phone),
        password=password, request_id=request_id), metadata=auth(token))
    return call


async def create(api: Api, token: str, **fields: object) -> user_pb2.User:
    user: user_pb2.User = (await create_call(api, token, **fields)).user  # type: ignore[arg-type]
    return user


async def member_of(api: Api, tenant: Tenant, index: int = 0, **fields: object) -> user_pb2.User:
    """A new department user in the tenant's department `index`, created by its admin."""
    return await create(api, tenant.admin.token, role=MEMBER, company_id=tenant.company.id,
                        department_id=tenant.departments[index].id, **fields)


async def get(api: Api, token: str, user_id: str) -> user_pb2.User:
    user: user_pb2.User = (await api.users.GetUser(pb.GetUserRequest(id=user_id),
                                                   metadata=auth(token))).user
    return user


async def list_all(api: Api, token: str, **filters: object) -> list[user_pb2.User]:
    response = await api.users.ListUsers(pb.ListUsersRequest(page_size=500, **filters),
                                         metadata=auth(token))
    assert response.next_page_token == ""
    return list(response.users)


def update_call(api: Api, token: str, body: user_pb2.User,
                *paths: str) -> Awaitable[pb.UpdateUserResponse]:
    call: Awaitable[pb.UpdateUserResponse] = api.users.UpdateUser(
        pb.UpdateUserRequest(user=body, update_mask=mask(*paths)), metadata=auth(token))
    return call


async def me(api: Api, token: str) -> apb.GetMeResponse:
    response: apb.GetMeResponse = await api.auth.GetMe(apb.GetMeRequest(), metadata=auth(token))
    return response


async def eventually(check: Callable[[], Awaitable[bool]], what: str,
                     seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"after {seconds} s: {what}"
        await asyncio.sleep(0.1)


async def wait_rejected(api: Api, token: str, reason: str) -> None:
    """GetMe with `token` becomes UNAUTHENTICATED with `reason` within ~3 s."""
    seen: list[str] = []

    async def rejected() -> bool:
        try:
            await me(api, token)
            seen.append("OK")
        except aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc.details()
            seen.append(error_info(exc)[0])
        return seen[-1] == reason

    await eventually(rejected, f"the token is not refused with {reason} (saw {seen[-3:]})")


# --- create ---------------------------------------------------------------------------------


async def test_company_admin_creates_a_department_user(api: Api, tenant: Tenant) -> None:
    email = new_email("recruiter")
    user = await member_of(api, tenant, 1, email=email, full_name="Rita Recruiter",
                           phone="+49 30 555")
    assert uuid.UUID(user.id)
    assert (user.email, user.full_name, user.phone) == (email, "Rita Recruiter", "+49 30 555")
    assert user.role == MEMBER
    assert user.company_id == tenant.company.id
    assert user.department_id == tenant.departments[1].id
    assert user.status == ACTIVE
    assert user.etag == "1"
    assert user.update_time == user.create_time
    assert await get(api, tenant.admin.token, user.id) == user

    login = await api.login(email, PASSWORD)
    assert login.user == user
    who = await me(api, login.tokens.access_token)
    assert (who.user_id, who.role, who.company_id, who.department_id) == \
        (user.id, MEMBER, tenant.company.id, tenant.departments[1].id)


async def test_company_admin_creates_a_company_admin(api: Api, tenant: Tenant) -> None:
    user = await create(api, tenant.admin.token, role=ADMIN, company_id=tenant.company.id)
    assert (user.role, user.company_id, user.department_id) == (ADMIN, tenant.company.id, "")
    token = await api.token(user.email, PASSWORD)
    # The new admin manages the company's users.
    colleague = await create(api, token, role=MEMBER, company_id=tenant.company.id,
                             department_id=tenant.departments[0].id)
    assert colleague.company_id == tenant.company.id


async def test_company_admin_cannot_create_a_super_admin(api: Api, tenant: Tenant) -> None:
    email = new_email("wannabe")
    for company_id in ("", tenant.company.id):
        await fails(create_call(api, tenant.admin.token, role=SUPER, company_id=company_id,
                                email=email),
                    grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    await fails(api.login(email, PASSWORD), grpc.StatusCode.UNAUTHENTICATED,
                "INVALID_CREDENTIALS")


async def test_department_user_cannot_create_users(api: Api, tenant: Tenant) -> None:
    await fails(create_call(api, tenant.members[0].token, role=MEMBER,
                            company_id=tenant.company.id,
                            department_id=tenant.departments[0].id),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")


async def test_role_and_scope_must_fit(api: Api, tenant: Tenant, root_token: str) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    # A department user needs a department; a company admin has none.
    await fails(create_call(api, token, role=MEMBER, company_id=company_id),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ROLE_SCOPE")
    await fails(create_call(api, token, role=ADMIN, company_id=company_id,
                            department_id=tenant.departments[0].id),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ROLE_SCOPE")
    await fails(create_call(api, root_token, role=MEMBER),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ROLE_SCOPE")
    # A super admin belongs to no company.
    await fails(create_call(api, root_token, role=SUPER, company_id=company_id),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ROLE_SCOPE")
    await fails(create_call(api, token, role=user_pb2.ROLE_UNSPECIFIED, company_id=company_id),
                grpc.StatusCode.INVALID_ARGUMENT, "ROLE_REQUIRED")


async def test_placement_in_another_company_is_not_found(api: Api, tenant: Tenant,
                                                         root_token: str) -> None:
    other = await make_tenant(api, root_token, departments=1)
    token = tenant.admin.token
    # Own company, but a department of another company.
    await fails(create_call(api, token, role=MEMBER, company_id=tenant.company.id,
                            department_id=other.departments[0].id),
                grpc.StatusCode.NOT_FOUND, "DEPARTMENT_NOT_FOUND")
    await fails(create_call(api, token, role=MEMBER, company_id=other.company.id,
                            department_id=other.departments[0].id),
                grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")
    await fails(create_call(api, token, role=ADMIN, company_id=other.company.id),
                grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")
    assert {u.id for u in await list_all(api, other.admin.token)} == \
        {other.admin.user.id, other.members[0].user.id}


async def test_duplicate_email_is_already_exists(api: Api, tenant: Tenant,
                                                 root_token: str) -> None:
    email = new_email("Dup")
    first = await member_of(api, tenant, email=email)
    for duplicate in (email, email.upper(), email.lower()):
        await fails(create_call(api, tenant.admin.token, role=MEMBER,
                                company_id=tenant.company.id,
                                department_id=tenant.departments[1].id, email=duplicate),
                    grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN")
    # Unique across companies too.
    other = await api.company(root_token)
    await fails(create_call(api, root_token, role=ADMIN, company_id=other.id,
                            email=email.upper()),
                grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN")
    found = await list_all(api, root_token, email_prefix=email.split("@")[0])
    assert [u.id for u in found] == [first.id]


@asynccontextmanager
async def inserts_held(platform: Platform, table: str) -> AsyncIterator[None]:
    """Hold back every INSERT into `table` (reads go on) until the block ends: requests that
    arrive meanwhile all pass their checks and then race at the insert."""
    async with platform.db.engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await transaction.rollback()


async def test_concurrent_creates_with_one_email_make_one_user(api: Api, tenant: Tenant,
                                                               platform: Platform) -> None:
    """Racing creates of one email: one wins, the others get EMAIL_TAKEN (not an internal
    error from the unique index)."""
    email = new_email("race")
    async with inserts_held(platform, "users"):
        calls = [asyncio.ensure_future(create_call(
            api, tenant.admin.token, role=ADMIN, company_id=tenant.company.id, email=email))
            for _ in range(4)]
        await asyncio.sleep(0.5)
    results = await asyncio.gather(*calls, return_exceptions=True)
    outcomes = sorted("OK" if isinstance(r, pb.CreateUserResponse)
                      else f"{r.code().name} {error_info(r)[0]}"
                      if isinstance(r, aio.AioRpcError) else repr(r) for r in results)
    assert outcomes == ["ALREADY_EXISTS EMAIL_TAKEN"] * 3 + ["OK"]
    assert len(await list_all(api, tenant.admin.token, email_prefix=email)) == 1


async def test_create_with_request_id_is_idempotent(api: Api, tenant: Tenant) -> None:
    request_id = str(uuid.uuid4())
    email = new_email("idem")
    fields: dict[str, object] = {"role": ADMIN, "company_id": tenant.company.id,
                                 "email": email, "request_id": request_id}
    first = await create(api, tenant.admin.token, **fields)
    again = await create(api, tenant.admin.token, **fields)
    assert again == first
    await fails(create_call(api, tenant.admin.token, role=ADMIN, company_id=tenant.company.id,
                            email=new_email("idem"), request_id=request_id),
                grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")


# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["short", "elevenchars"])
async def test_too_short_password_fails_validation(api: Api, tenant: Tenant,
                                                   password: str) -> None:
    exc = await fails(create_call(api, tenant.admin.token, role=ADMIN,
                                  company_id=tenant.company.id, password=password),
                      grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"password"}


@pytest.mark.parametrize("password", ["password12345", "qwertyuiop123", "Password2024!!",
                                      "PASSWORD123456789"])
async def test_common_password_is_refused(api: Api, tenant: Tenant, password: str) -> None:
    email = new_email("common")
    await fails(create_call(api, tenant.admin.token, role=ADMIN, company_id=tenant.company.id,
                            email=email, password=password),
                grpc.StatusCode.INVALID_ARGUMENT, "PASSWORD_TOO_COMMON")
    assert await list_all(api, tenant.admin.token, email_prefix=email.split("@")[0]) == []


async def test_password_containing_the_email_is_refused(api: Api, tenant: Tenant) -> None:
    local = f"jordan{uuid.uuid4().hex[:8]}"
    for password in (f"my {local} secret", f"My {local.upper()} secret"):
        await fails(create_call(api, tenant.admin.token, role=ADMIN,
                                company_id=tenant.company.id, email=f"{local}@example.com",
                                password=password),
                    grpc.StatusCode.INVALID_ARGUMENT, "PASSWORD_CONTAINS_EMAIL")


async def test_the_new_user_signs_in_with_its_password_only(api: Api, tenant: Tenant) -> None:
    password = f"lantern {uuid.uuid4().hex[:6]} orchard"
    user = await member_of(api, tenant, password=password)
    assert (await api.login(user.email.upper(), password)).user.id == user.id
    await fails(api.login(user.email, DEFAULT_PASSWORD), grpc.StatusCode.UNAUTHENTICATED,
                "INVALID_CREDENTIALS")


# --- read and list --------------------------------------------------------------------------


async def test_get_user_visibility(api: Api, tenant: Tenant, root_token: str) -> None:
    colleague = await member_of(api, tenant, 0)
    member = tenant.members[0]
    assert (await get(api, member.token, colleague.id)).email == colleague.email
    assert (await get(api, member.token, member.user.id)) == member.user
    # Another department of the same company, and another company: not found.
    await fails(api.users.GetUser(pb.GetUserRequest(id=tenant.members[1].user.id),
                                  metadata=auth(member.token)),
                grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    outsider = await create(api, root_token, role=ADMIN,
                            company_id=(await api.company(root_token)).id)
    for token in (tenant.admin.token, member.token):
        await fails(api.users.GetUser(pb.GetUserRequest(id=outsider.id), metadata=auth(token)),
                    grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await fails(api.users.GetUser(pb.GetUserRequest(id=str(uuid.uuid4())),
                                  metadata=auth(root_token)),
                grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await fails(api.users.GetUser(pb.GetUserRequest(id="x"), metadata=auth(root_token)),
                grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")


async def test_list_with_filters_and_pages(api: Api, tenant: Tenant, root_token: str) -> None:
    token = tenant.admin.token
    prefix = f"lst{uuid.uuid4().hex[:8]}"
    created = [await member_of(api, tenant, 0, email=f"{prefix}-{i}@example.com")
               for i in range(5)]
    ids = [u.id for u in created]

    # Email prefix, without regard to case; oldest first.
    assert [u.id for u in await list_all(api, token, email_prefix=prefix.upper())] == ids
    assert [u.id for u in await list_all(api, token, email_prefix=f"{prefix}-3")] == [ids[3]]

    dept0 = await list_all(api, token, department_id=tenant.departments[0].id)
    assert [u.id for u in dept0] == [tenant.members[0].user.id, *ids]
    dept1 = await list_all(api, token, department_id=tenant.departments[1].id)
    assert [u.id for u in dept1] == [tenant.members[1].user.id]
    everyone = await list_all(api, token)
    assert {u.id for u in everyone} == {tenant.admin.user.id, tenant.members[0].user.id,
                                        tenant.members[1].user.id, *ids}
    assert all(u.company_id == tenant.company.id for u in everyone)
    by_company = await list_all(api, root_token, company_id=tenant.company.id)
    assert [u.id for u in by_company] == [u.id for u in everyone]

    await api.users.DeactivateUser(pb.DeactivateUserRequest(id=ids[2]), metadata=auth(token))
    inactive = await list_all(api, token, status=INACTIVE)
    assert [u.id for u in inactive] == [ids[2]]
    active = await list_all(api, token, email_prefix=prefix, status=ACTIVE)
    assert [u.id for u in active] == [ids[0], ids[1], ids[3], ids[4]]

    # Keyset pages of two.
    seen: list[str] = []
    sizes: list[int] = []
    page_token = ""
    while True:
        page = await api.users.ListUsers(pb.ListUsersRequest(
            page_size=2, email_prefix=prefix, page_token=page_token), metadata=auth(token))
        sizes.append(len(page.users))
        seen += [u.id for u in page.users]
        page_token = page.next_page_token
        if not page_token:
            break
        assert len(sizes) < 5, "pagination does not end"
        second_token = page_token
    assert sizes == [2, 2, 1]
    assert seen == ids
    for changed in (pb.ListUsersRequest(email_prefix=prefix, status=ACTIVE),
                    pb.ListUsersRequest(email_prefix=prefix,
                                        department_id=tenant.departments[0].id),
                    pb.ListUsersRequest()):
        changed.page_token = second_token
        await fails(api.users.ListUsers(changed, metadata=auth(token)),
                    grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    await fails(api.users.ListUsers(pb.ListUsersRequest(page_token="garbage"),
                                    metadata=auth(token)),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


async def test_department_user_lists_its_department_only(api: Api, tenant: Tenant,
                                                         root_token: str) -> None:
    colleague = await member_of(api, tenant, 0)
    listed = await list_all(api, tenant.members[0].token)
    assert [u.id for u in listed] == [tenant.members[0].user.id, colleague.id]
    assert await list_all(api, tenant.members[0].token,
                          department_id=tenant.departments[1].id) == []
    other = await api.company(root_token)
    assert await list_all(api, tenant.admin.token, company_id=other.id) == []


async def test_page_size_over_500_is_invalid_argument(api: Api, tenant: Tenant) -> None:
    exc = await fails(api.users.ListUsers(pb.ListUsersRequest(page_size=501),
                                          metadata=auth(tenant.admin.token)),
                      grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"page_size"}


# --- update ---------------------------------------------------------------------------------


async def test_update_full_name_and_phone(api: Api, tenant: Tenant) -> None:
    token = tenant.admin.token
    user = await member_of(api, tenant, full_name="Old Name", phone="111")
    body = user_pb2.User(id=user.id, full_name="New Name", phone="222", email=new_email(),
                         role=ADMIN, etag=user.etag)
    named = (await update_call(api, token, body, "full_name")).user
    assert (named.full_name, named.phone, named.email, named.role) == \
        ("New Name", "111", user.email, MEMBER)  # only the masked field changed
    assert named.etag == "2"
    body.etag = named.etag
    phoned = (await update_call(api, token, body, "phone")).user
    assert (phoned.full_name, phoned.phone, phoned.etag) == ("New Name", "222", "3")
    assert phoned.update_time.ToDatetime() > user.update_time.ToDatetime()
    assert await get(api, token, user.id) == phoned

    body.full_name, body.etag = "Lost Update", "2"
    exc = await fails(update_call(api, token, body, "full_name"),
                      grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    assert error_info(exc)[1] == {"current_etag": "3"}
    assert (await get(api, token, user.id)).full_name == "New Name"


@pytest.mark.parametrize("paths", [["status"], ["company_id"], ["password"], ["etag"]])
async def test_update_with_bad_mask_is_invalid_argument(api: Api, tenant: Tenant,
                                                        paths: list[str]) -> None:
    user = tenant.members[0].user
    body = user_pb2.User(id=user.id, status=INACTIVE, full_name="X")
    await fails(update_call(api, tenant.admin.token, body, *paths),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK")
    assert await get(api, tenant.admin.token, user.id) == user


async def test_update_email_to_a_taken_one_is_already_exists(api: Api, tenant: Tenant) -> None:
    user = await member_of(api, tenant)
    body = user_pb2.User(id=user.id, email=tenant.members[1].user.email.upper())
    await fails(update_call(api, tenant.admin.token, body, "email"),
                grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN")
    body.email = new_email("moved")
    changed = (await update_call(api, tenant.admin.token, body, "email")).user
    assert changed.email == body.email
    assert (await api.login(body.email, PASSWORD)).user.id == user.id


async def test_move_between_departments_of_the_company(api: Api, tenant: Tenant,
                                                       root_token: str) -> None:
    token = tenant.admin.token
    user = await member_of(api, tenant, 0)
    body = user_pb2.User(id=user.id, department_id=tenant.departments[1].id)
    moved = (await update_call(api, token, body, "department_id")).user
    assert (moved.department_id, moved.role, moved.etag) == \
        (tenant.departments[1].id, MEMBER, "2")
    dept1 = await list_all(api, token, department_id=tenant.departments[1].id)
    assert user.id in {u.id for u in dept1}
    dept0 = await list_all(api, token, department_id=tenant.departments[0].id)
    assert user.id not in {u.id for u in dept0}
    # Signing in again gives the new department.
    assert (await me(api, await api.token(user.email, PASSWORD))).department_id == \
        tenant.departments[1].id

    other = await make_tenant(api, root_token, departments=1)
    body.department_id = other.departments[0].id
    await fails(update_call(api, token, body, "department_id"),
                grpc.StatusCode.NOT_FOUND, "DEPARTMENT_NOT_FOUND")
    body.department_id = ""
    await fails(update_call(api, token, body, "department_id"),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ROLE_SCOPE")
    assert (await get(api, token, user.id)).department_id == tenant.departments[1].id


async def test_a_moved_user_loses_its_former_department(api: Api, tenant: Tenant) -> None:
    """After a move, the access token issued before it must stop granting the former
    department (as a role change does by ending the sessions)."""
    member = tenant.members[0]
    former = tenant.departments[0]
    await api.departments.GetDepartment(dpb.GetDepartmentRequest(
        company_id=tenant.company.id, id=former.id), metadata=auth(member.token))
    await update_call(api, tenant.admin.token,
                      user_pb2.User(id=member.user.id, department_id=tenant.departments[1].id),
                      "department_id")

    async def former_department_closed() -> bool:
        try:
            await api.departments.GetDepartment(dpb.GetDepartmentRequest(
                company_id=tenant.company.id, id=former.id), metadata=auth(member.token))
        except aio.AioRpcError as exc:
            return exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND)
        return False

    await eventually(former_department_closed,
                     "the token issued before the move still reads the former department")


async def test_role_change_ends_the_sessions(api: Api, tenant: Tenant) -> None:
    token = tenant.admin.token
    user = await member_of(api, tenant, 0)
    user_token = await api.token(user.email, PASSWORD)
    promoted = (await update_call(api, token, user_pb2.User(id=user.id, role=ADMIN),
                                  "role")).user
    assert (promoted.role, promoted.department_id, promoted.company_id) == \
        (ADMIN, "", tenant.company.id)
    await wait_rejected(api, user_token, "SESSION_REVOKED")
    assert (await me(api, await api.token(user.email, PASSWORD))).role == ADMIN

    # Back to a department user: the department comes with it.
    await fails(update_call(api, token, user_pb2.User(id=user.id, role=MEMBER), "role"),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ROLE_SCOPE")
    demoted = (await update_call(api, token, user_pb2.User(
        id=user.id, role=MEMBER, department_id=tenant.departments[1].id),
        "role", "department_id")).user
    assert (demoted.role, demoted.department_id) == (MEMBER, tenant.departments[1].id)
    # A company admin cannot make anyone a super admin.
    await fails(update_call(api, token, user_pb2.User(id=user.id, role=SUPER), "role"),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    assert (await get(api, token, user.id)).role == MEMBER


async def test_self_service_updates(api: Api, tenant: Tenant) -> None:
    member = tenant.members[0]
    mine = (await update_call(api, member.token, user_pb2.User(
        id=member.user.id, full_name="Renamed Myself", phone="999"),
        "full_name", "phone")).user
    assert (mine.full_name, mine.phone) == ("Renamed Myself", "999")
    # Role, department and email are for an admin: the department user is not one.
    for body, path in ((user_pb2.User(id=member.user.id, role=ADMIN), "role"),
                       (user_pb2.User(id=member.user.id,
                                      department_id=tenant.departments[1].id), "department_id"),
                       (user_pb2.User(id=member.user.id, email=new_email()), "email")):
        await fails(update_call(api, member.token, body, path),
                    grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    # Nor may it change a colleague.
    colleague = await member_of(api, tenant, 0)
    await fails(update_call(api, member.token, user_pb2.User(id=colleague.id, full_name="X"),
                            "full_name"),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    # A company admin may manage users, but not its own role.
    await fails(update_call(api, tenant.admin.token,
                            user_pb2.User(id=tenant.admin.user.id, role=MEMBER,
                                          department_id=tenant.departments[0].id),
                            "role", "department_id"),
                grpc.StatusCode.FAILED_PRECONDITION, "SELF_CHANGE_FORBIDDEN")
    now = await get(api, tenant.admin.token, member.user.id)
    assert (now.role, now.department_id, now.full_name) == \
        (MEMBER, tenant.departments[0].id, "Renamed Myself")
    assert (await get(api, tenant.admin.token, tenant.admin.user.id)).role == ADMIN


# --- deactivate and reactivate --------------------------------------------------------------


async def test_deactivation_ends_sign_in_and_sessions(api: Api, tenant: Tenant) -> None:
    token = tenant.admin.token
    user = await member_of(api, tenant, 1)
    user_token = await api.token(user.email, PASSWORD)
    await me(api, user_token)
    off = (await api.users.DeactivateUser(pb.DeactivateUserRequest(id=user.id, etag="1"),
                                          metadata=auth(token))).user
    assert (off.status, off.etag) == (INACTIVE, "2")
    await fails(api.login(user.email, PASSWORD), grpc.StatusCode.UNAUTHENTICATED,
                "INVALID_CREDENTIALS")
    await wait_rejected(api, user_token, "USER_INACTIVE")

    await fails(api.users.ReactivateUser(pb.ReactivateUserRequest(id=user.id, etag="1"),
                                         metadata=auth(token)),
                grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    on = (await api.users.ReactivateUser(pb.ReactivateUserRequest(id=user.id, etag="2"),
                                         metadata=auth(token))).user
    assert (on.status, on.etag) == (ACTIVE, "3")
    fresh = await api.login(user.email, PASSWORD)
    assert fresh.user.status == ACTIVE
    assert (await me(api, fresh.tokens.access_token)).user_id == user.id


async def test_admin_cannot_deactivate_itself(api: Api, tenant: Tenant) -> None:
    await fails(api.users.DeactivateUser(pb.DeactivateUserRequest(id=tenant.admin.user.id),
                                         metadata=auth(tenant.admin.token)),
                grpc.StatusCode.FAILED_PRECONDITION, "SELF_CHANGE_FORBIDDEN")
    assert (await get(api, tenant.admin.token, tenant.admin.user.id)).status == ACTIVE
    await fails(api.users.DeactivateUser(pb.DeactivateUserRequest(id=tenant.members[0].user.id),
                                         metadata=auth(tenant.members[1].token)),
                grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await fails(api.users.DeactivateUser(pb.DeactivateUserRequest(id=tenant.members[0].user.id),
                                         metadata=auth(tenant.members[0].token)),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")


# --- password reset -------------------------------------------------------------------------


async def test_admin_issued_password_reset(api: Api, tenant: Tenant) -> None:
    user = await member_of(api, tenant, 0)
    old_token = await api.token(user.email, PASSWORD)
    issued = await api.users.ResetUserPassword(pb.ResetUserPasswordRequest(id=user.id),
                                               metadata=auth(tenant.admin.token))
    assert len(issued.reset_token) >= 32
    ttl = issued.expire_time.ToDatetime(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(hours=23) < ttl <= timedelta(hours=24)
    # Issuing alone changes nothing.
    await me(api, old_token)
    assert (await api.login(user.email, PASSWORD)).user.id == user.id

    # A new password that breaks the policy does not use the token up.
    await fails(api.auth.ResetPassword(apb.ResetPasswordRequest(
        reset_token=issued.reset_token, new_password="password12345")),
        grpc.StatusCode.INVALID_ARGUMENT, "PASSWORD_TOO_COMMON")

    new_password = f"copper {uuid.uuid4().hex[:6]} meadow"
    await api.auth.ResetPassword(apb.ResetPasswordRequest(reset_token=issued.reset_token,
                                                          new_password=new_password))
    assert (await api.login(user.email, new_password)).user.id == user.id
    await fails(api.login(user.email, PASSWORD), grpc.StatusCode.UNAUTHENTICATED,
                "INVALID_CREDENTIALS")
    await fails(api.auth.ResetPassword(apb.ResetPasswordRequest(
        reset_token=issued.reset_token, new_password=f"another {uuid.uuid4().hex[:6]} one")),
        grpc.StatusCode.UNAUTHENTICATED, "INVALID_RESET_TOKEN")
    assert (await api.login(user.email, new_password)).user.id == user.id
    await wait_rejected(api, old_token, "SESSION_REVOKED")


async def test_password_reset_permissions(api: Api, tenant: Tenant, root_token: str) -> None:
    await fails(api.users.ResetUserPassword(pb.ResetUserPasswordRequest(
        id=tenant.admin.user.id), metadata=auth(tenant.admin.token)),
        grpc.StatusCode.FAILED_PRECONDITION, "SELF_CHANGE_FORBIDDEN")
    colleague = await member_of(api, tenant, 0)
    await fails(api.users.ResetUserPassword(pb.ResetUserPasswordRequest(id=colleague.id),
                                            metadata=auth(tenant.members[0].token)),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    outsider = await create(api, root_token, role=ADMIN,
                            company_id=(await api.company(root_token)).id)
    await fails(api.users.ResetUserPassword(pb.ResetUserPasswordRequest(id=outsider.id),
                                            metadata=auth(tenant.admin.token)),
                grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND")
    await fails(api.auth.ResetPassword(apb.ResetPasswordRequest(
        reset_token="x" * 43, new_password="a fine new passphrase")),
        grpc.StatusCode.UNAUTHENTICATED, "INVALID_RESET_TOKEN")


# --- REST through Envoy ---------------------------------------------------------------------


def reason_of(body: dict[str, object]) -> str:
    details = body["details"]
    assert isinstance(details, list)
    for d in details:
        if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo":
            return str(d["reason"])
    raise AssertionError(f"no ErrorInfo in {body}")


async def test_rest_users(http: httpx.AsyncClient, api: Api, tenant: Tenant,
                          root_token: str) -> None:
    root = {"authorization": f"Bearer {root_token}"}
    admin = {"authorization": f"Bearer {tenant.admin.token}"}
    member = {"authorization": f"Bearer {tenant.members[0].token}"}

    listed = await http.get(f"/v1/users?companyId={tenant.company.id}", headers=root)
    assert listed.status_code == 200, listed.text
    users = listed.json()["users"]
    assert {u["id"] for u in users} == {tenant.admin.user.id, tenant.members[0].user.id,
                                        tenant.members[1].user.id}
    assert {u["role"] for u in users} == {"ROLE_COMPANY_ADMIN", "ROLE_DEPARTMENT_USER"}
    assert listed.json()["nextPageToken"] == ""

    created = await http.post("/v1/users", headers=admin, json={
        "user": {"email": new_email("rest"), "fullName": "Rest Person",
                 "role": "ROLE_DEPARTMENT_USER", "companyId": tenant.company.id,
                 "departmentId": tenant.departments[0].id},
        "password": PASSWORD, "requestId": str(uuid.uuid4())})
    assert created.status_code == 200, created.text
    user_id = created.json()["user"]["id"]
    patched = await http.patch(f"/v1/users/{user_id}?updateMask=fullName,phone", headers=admin,
                               json={"fullName": "Patched Person", "phone": "42"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["user"]["fullName"], patched.json()["user"]["phone"]) == \
        ("Patched Person", "42")

    other = await make_tenant(api, root_token, departments=1)
    foreign = await http.get(f"/v1/users/{other.admin.user.id}", headers=admin)
    assert foreign.status_code == 404
    assert reason_of(foreign.json()) == "USER_NOT_FOUND"

    weak = await http.post(f"/v1/users/{user_id}:deactivate", headers=member, json={})
    assert weak.status_code == 403
    assert reason_of(weak.json()) == "ROLE_TOO_WEAK"
    weak_audit = await http.get("/v1/audit-events", headers=member)
    assert weak_audit.status_code == 403

    bad = await http.get("/v1/users?pageSize=501", headers=admin)
    assert bad.status_code == 400
    assert reason_of(bad.json()) == "VALIDATION_FAILED"

    off = await http.post(f"/v1/users/{user_id}:deactivate", headers=admin, json={"etag": "1"})
    assert off.status_code == 409  # the PATCH made it "2"
    assert reason_of(off.json()) == "ETAG_MISMATCH"
    off = await http.post(f"/v1/users/{user_id}:deactivate", headers=admin, json={})
    assert off.status_code == 200
    assert off.json()["user"]["status"] == "ENTITY_STATUS_INACTIVE"
