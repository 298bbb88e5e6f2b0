"""DepartmentService against a real server and PostgreSQL, called by the company admin of a
fresh tenant: create, unique names per company, read, keyset pages, masked and etag-guarded
updates, deactivation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc import aio
from interviewplatform.v1 import company_pb2, user_pb2
from interviewplatform.v1 import company_service_pb2 as cpb
from interviewplatform.v1 import department_service_pb2 as pb
from interviewplatform.v1 import user_service_pb2 as upb
from sqlalchemy import text

from server.app import Platform
from tests.factories import Api, Tenant, auth
from tests.helpers import error_info, fails

ACTIVE = user_pb2.ENTITY_STATUS_ACTIVE
INACTIVE = user_pb2.ENTITY_STATUS_INACTIVE


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def create_call(api: Api, token: str, company_id: str, name: str, *, description: str = "",
                request_id: str = "") -> Awaitable[pb.CreateDepartmentResponse]:
    call: Awaitable[pb.CreateDepartmentResponse] = api.departments.CreateDepartment(
        pb.CreateDepartmentRequest(
            company_id=company_id, request_id=request_id,
            department=company_pb2.Department(name=name, description=description)),
        metadata=auth(token))
    return call


async def create(api: Api, token: str, company_id: str, name: str | None = None, *,
                 description: str = "", request_id: str = "") -> company_pb2.Department:
    response = await create_call(api, token, company_id, name or unique("Dept"),
                                 description=description, request_id=request_id)
    dept: company_pb2.Department = response.department
    return dept


async def get(api: Api, token: str, company_id: str, dept_id: str) -> company_pb2.Department:
    dept: company_pb2.Department = (await api.departments.GetDepartment(
        pb.GetDepartmentRequest(company_id=company_id, id=dept_id), metadata=auth(token))
    ).department
    return dept


async def list_all(api: Api, token: str, company_id: str,
                   **filters: object) -> list[company_pb2.Department]:
    response = await api.departments.ListDepartments(
        pb.ListDepartmentsRequest(company_id=company_id, page_size=500, **filters),
        metadata=auth(token))
    assert response.next_page_token == ""
    return list(response.departments)


def update_call(api: Api, token: str, body: company_pb2.Department,
                *paths: str) -> Awaitable[pb.UpdateDepartmentResponse]:
    call: Awaitable[pb.UpdateDepartmentResponse] = api.departments.UpdateDepartment(
        pb.UpdateDepartmentRequest(department=body, update_mask=mask(*paths)),
        metadata=auth(token))
    return call


# --- create and read ------------------------------------------------------------------------


async def test_company_admin_creates_a_department(api: Api, tenant: Tenant) -> None:
    name = unique("Engineering")
    dept = await create(api, tenant.admin.token, tenant.company.id, name,
                        description="Builds the product")
    assert uuid.UUID(dept.id)
    assert dept.company_id == tenant.company.id
    assert dept.name == name
    assert dept.description == "Builds the product"
    assert dept.status == ACTIVE
    assert dept.etag == "1"
    assert dept.create_time.seconds > 0
    assert dept.update_time == dept.create_time
    assert await get(api, tenant.admin.token, tenant.company.id, dept.id) == dept


async def test_duplicate_name_in_the_same_company_is_already_exists(api: Api,
                                                                    tenant: Tenant) -> None:
    name = unique("Sales")
    first = await create(api, tenant.admin.token, tenant.company.id, name)
    for duplicate in (name, name.upper(), name.lower(), f"  {name}  "):
        await fails(create_call(api, tenant.admin.token, tenant.company.id, duplicate),
                    grpc.StatusCode.ALREADY_EXISTS, "DEPARTMENT_NAME_TAKEN")
    names = [d.name for d in await list_all(api, tenant.admin.token, tenant.company.id)]
    assert names.count(first.name) == 1


async def test_same_name_in_another_company_is_fine(api: Api, tenant: Tenant,
                                                    root_token: str) -> None:
    name = unique("Support")
    mine = await create(api, tenant.admin.token, tenant.company.id, name)
    other_company = await api.company(root_token)
    theirs = await create(api, root_token, other_company.id, name)
    assert theirs.name == mine.name
    assert theirs.id != mine.id
    assert theirs.company_id == other_company.id


async def test_department_user_reads_its_own_department_only(api: Api, tenant: Tenant) -> None:
    member = tenant.members[0]
    own = await get(api, member.token, tenant.company.id, tenant.departments[0].id)
    assert own == tenant.departments[0]
    await fails(api.departments.GetDepartment(pb.GetDepartmentRequest(
        company_id=tenant.company.id, id=tenant.departments[1].id), metadata=auth(member.token)),
        grpc.StatusCode.NOT_FOUND, "DEPARTMENT_NOT_FOUND")
    listed = await list_all(api, member.token, tenant.company.id)
    assert [d.id for d in listed] == [tenant.departments[0].id]


async def test_another_company_is_not_found(api: Api, tenant: Tenant, root_token: str) -> None:
    other_company = await api.company(root_token)
    other_dept = await create(api, root_token, other_company.id)
    token = tenant.admin.token
    await fails(api.departments.GetDepartment(pb.GetDepartmentRequest(
        company_id=other_company.id, id=other_dept.id), metadata=auth(token)),
        grpc.StatusCode.NOT_FOUND, "DEPARTMENT_NOT_FOUND")
    # The department exists, but not in the tenant's company.
    await fails(api.departments.GetDepartment(pb.GetDepartmentRequest(
        company_id=tenant.company.id, id=other_dept.id), metadata=auth(token)),
        grpc.StatusCode.NOT_FOUND, "DEPARTMENT_NOT_FOUND")
    await fails(api.departments.ListDepartments(pb.ListDepartmentsRequest(
        company_id=other_company.id), metadata=auth(token)),
        grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")
    await fails(create_call(api, token, other_company.id, unique("Intruder")),
                grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")
    assert len(await list_all(api, root_token, other_company.id)) == 1


async def test_department_user_cannot_change_departments(api: Api, tenant: Tenant) -> None:
    member = tenant.members[0]
    await fails(create_call(api, member.token, tenant.company.id, unique("Mine")),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    body = company_pb2.Department(id=tenant.departments[0].id, company_id=tenant.company.id,
                                  name=unique("Renamed"))
    await fails(update_call(api, member.token, body, "name"),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    await fails(api.departments.DeactivateDepartment(pb.DeactivateDepartmentRequest(
        company_id=tenant.company.id, id=tenant.departments[0].id), metadata=auth(member.token)),
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    assert await get(api, tenant.admin.token, tenant.company.id, tenant.departments[0].id) == \
        tenant.departments[0]


async def test_invalid_ids_and_names_are_invalid_argument(api: Api, tenant: Tenant) -> None:
    await fails(create_call(api, tenant.admin.token, "nope", unique("X")),
                grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    await fails(api.departments.GetDepartment(pb.GetDepartmentRequest(
        company_id=tenant.company.id, id="123"), metadata=auth(tenant.admin.token)),
        grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    for name in ("", "  "):
        await fails(create_call(api, tenant.admin.token, tenant.company.id, name),
                    grpc.StatusCode.INVALID_ARGUMENT, "NAME_REQUIRED")


# --- idempotent create ----------------------------------------------------------------------


async def test_create_with_request_id_is_idempotent(api: Api, tenant: Tenant) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    request_id = str(uuid.uuid4())
    name = unique("Idem")
    first = await create(api, token, company_id, name, request_id=request_id)
    again = await create(api, token, company_id, name, request_id=request_id)
    assert again == first
    await fails(create_call(api, token, company_id, unique("Other"), request_id=request_id),
                grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")
    listed = await list_all(api, token, company_id)
    assert len(listed) == len(tenant.departments) + 1


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


async def test_concurrent_creates_with_one_name_make_one_department(
        api: Api, tenant: Tenant, platform: Platform) -> None:
    """Racing creates of one name: one wins, the others are told the name is taken (not an
    internal error from the unique index)."""
    token, company_id = tenant.admin.token, tenant.company.id
    name = unique("Race")
    async with inserts_held(platform, "departments"):
        calls = [asyncio.ensure_future(create_call(api, token, company_id, name))
                 for _ in range(4)]
        await asyncio.sleep(0.5)
    results = await asyncio.gather(*calls, return_exceptions=True)
    outcomes = sorted("OK" if isinstance(r, pb.CreateDepartmentResponse)
                      else f"{r.code().name} {error_info(r)[0]}"
                      if isinstance(r, aio.AioRpcError) else repr(r) for r in results)
    assert outcomes == ["ALREADY_EXISTS DEPARTMENT_NAME_TAKEN"] * 3 + ["OK"]
    assert [d.name for d in await list_all(api, token, company_id)].count(name) == 1


# --- list and keyset pages ------------------------------------------------------------------


async def test_list_pages_in_creation_order(api: Api, tenant: Tenant) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    created = [d.id for d in tenant.departments]
    created += [(await create(api, token, company_id, f"Page {i} {uuid.uuid4().hex[:6]}")).id
                for i in range(5)]
    seen: list[str] = []
    sizes: list[int] = []
    page_token = ""
    while True:
        page = await api.departments.ListDepartments(pb.ListDepartmentsRequest(
            company_id=company_id, page_size=3, page_token=page_token), metadata=auth(token))
        sizes.append(len(page.departments))
        seen += [d.id for d in page.departments]
        assert all(d.company_id == company_id for d in page.departments)
        page_token = page.next_page_token
        if not page_token:
            break
        assert len(sizes) < 5, "pagination does not end"
    assert sizes == [3, 3, 1]
    assert seen == created


async def test_page_token_is_bound_to_company_and_status(api: Api, tenant: Tenant,
                                                         root_token: str) -> None:
    first = await api.departments.ListDepartments(pb.ListDepartmentsRequest(
        company_id=tenant.company.id, page_size=1), metadata=auth(root_token))
    assert first.next_page_token
    other_company = await api.company(root_token)
    for changed in (pb.ListDepartmentsRequest(company_id=tenant.company.id, status=ACTIVE),
                    pb.ListDepartmentsRequest(company_id=other_company.id)):
        changed.page_token = first.next_page_token
        await fails(api.departments.ListDepartments(changed, metadata=auth(root_token)),
                    grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    await fails(api.departments.ListDepartments(pb.ListDepartmentsRequest(
        company_id=tenant.company.id, page_token="garbage"), metadata=auth(root_token)),
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


# --- update ---------------------------------------------------------------------------------


async def test_update_name_and_description_with_mask_and_etag(api: Api, tenant: Tenant) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    dept = await create(api, token, company_id, description="Old text")
    new_name = unique("Renamed")
    body = company_pb2.Department(id=dept.id, company_id=company_id, name=new_name,
                                  description="New text", etag=dept.etag)
    renamed = (await update_call(api, token, body, "name")).department
    assert renamed.name == new_name
    assert renamed.description == "Old text"  # not in the mask
    assert renamed.etag == "2"

    body.etag = renamed.etag
    described = (await update_call(api, token, body, "description")).department
    assert (described.name, described.description, described.etag) == \
        (new_name, "New text", "3")

    body.name, body.description, body.etag = unique("Both"), "Both changed", described.etag
    both = (await update_call(api, token, body, "name", "description")).department
    assert (both.name, both.description, both.etag) == (body.name, "Both changed", "4")
    assert both.update_time.ToDatetime() > dept.update_time.ToDatetime()
    assert both.create_time == dept.create_time
    assert await get(api, token, company_id, dept.id) == both


async def test_update_description_with_a_partial_body(api: Api, tenant: Tenant) -> None:
    """Only the masked field (and the ids) in the body: fields outside the mask are ignored,
    so the missing name must not fail validation."""
    dept = await create(api, tenant.admin.token, tenant.company.id)
    body = company_pb2.Department(id=dept.id, company_id=tenant.company.id,
                                  description="Only this", etag=dept.etag)
    updated = (await update_call(api, tenant.admin.token, body, "description")).department
    assert (updated.name, updated.description) == (dept.name, "Only this")


async def test_update_with_stale_etag_is_aborted(api: Api, tenant: Tenant) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    dept = await create(api, token, company_id)
    body = company_pb2.Department(id=dept.id, company_id=company_id, name=dept.name,
                                  description="first", etag="1")
    await update_call(api, token, body, "description")
    body.description = "second"
    exc = await fails(update_call(api, token, body, "description"),
                      grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    assert error_info(exc)[1] == {"current_etag": "2"}
    now = await get(api, token, company_id, dept.id)
    assert (now.description, now.etag) == ("first", "2")


async def test_rename_to_a_taken_name_is_already_exists(api: Api, tenant: Tenant) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    dept = await create(api, token, company_id)
    taken = tenant.departments[0].name
    body = company_pb2.Department(id=dept.id, company_id=company_id, name=taken.upper())
    await fails(update_call(api, token, body, "name"),
                grpc.StatusCode.ALREADY_EXISTS, "DEPARTMENT_NAME_TAKEN")
    assert (await get(api, token, company_id, dept.id)).name == dept.name
    # A department may change the case of its own name.
    body.name = dept.name.upper()
    assert (await update_call(api, token, body, "name")).department.name == dept.name.upper()


async def test_rename_trims_the_name_like_create(api: Api, tenant: Tenant) -> None:
    """Create stores a trimmed name and finds duplicates by the trimmed name; a rename must do
    the same, or "  Ops  " and "ops" end up side by side in one company."""
    token, company_id = tenant.admin.token, tenant.company.id
    name = f"Ops{uuid.uuid4().hex[:8]}"
    created = await create(api, token, company_id, f"  {name}x  ")
    assert created.name == f"{name}x"
    dept = tenant.departments[1]
    body = company_pb2.Department(id=dept.id, company_id=company_id, name=f"  {name}  ")
    renamed = (await update_call(api, token, body, "name")).department
    assert renamed.name == name
    await fails(create_call(api, token, company_id, name.lower()),
                grpc.StatusCode.ALREADY_EXISTS, "DEPARTMENT_NAME_TAKEN")


@pytest.mark.parametrize("paths", [["company_id"], ["status"], ["bogus"], ["name", "id"]])
async def test_update_with_bad_mask_is_invalid_argument(api: Api, tenant: Tenant,
                                                        paths: list[str]) -> None:
    dept = tenant.departments[0]
    body = company_pb2.Department(id=dept.id, company_id=tenant.company.id, name=unique("X"))
    await fails(update_call(api, tenant.admin.token, body, *paths),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK")
    assert await get(api, tenant.admin.token, tenant.company.id, dept.id) == dept


async def test_update_name_to_blank_is_invalid_argument(api: Api, tenant: Tenant) -> None:
    dept = tenant.departments[0]
    for name in ("", "   "):
        body = company_pb2.Department(id=dept.id, company_id=tenant.company.id, name=name)
        await fails(update_call(api, tenant.admin.token, body, "name"),
                    grpc.StatusCode.INVALID_ARGUMENT, "NAME_REQUIRED")
    assert await get(api, tenant.admin.token, tenant.company.id, dept.id) == dept


# --- deactivate and reactivate --------------------------------------------------------------


async def test_deactivate_and_reactivate(api: Api, tenant: Tenant) -> None:
    token, company_id = tenant.admin.token, tenant.company.id
    dept = await create(api, token, company_id)
    off = (await api.departments.DeactivateDepartment(pb.DeactivateDepartmentRequest(
        company_id=company_id, id=dept.id, etag=dept.etag), metadata=auth(token))).department
    assert (off.status, off.etag) == (INACTIVE, "2")
    assert (await get(api, token, company_id, dept.id)).status == INACTIVE
    inactive = await list_all(api, token, company_id, status=INACTIVE)
    assert [d.id for d in inactive] == [dept.id]
    active = await list_all(api, token, company_id, status=ACTIVE)
    assert dept.id not in {d.id for d in active}
    assert len(active) == len(tenant.departments)

    # No new users in an inactive department.
    await fails(api.users.CreateUser(upb.CreateUserRequest(
        user=user_pb2.User(email=f"late-{uuid.uuid4().hex[:10]}@example.com",
                           role=user_pb2.ROLE_DEPARTMENT_USER, company_id=company_id,
                           department_id=dept.id),
        password="a perfectly fine passphrase"), metadata=auth(token)),
        grpc.StatusCode.FAILED_PRECONDITION, "DEPARTMENT_INACTIVE")

    await fails(api.departments.ReactivateDepartment(pb.ReactivateDepartmentRequest(
        company_id=company_id, id=dept.id, etag="1"), metadata=auth(token)),
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    on = (await api.departments.ReactivateDepartment(pb.ReactivateDepartmentRequest(
        company_id=company_id, id=dept.id, etag=off.etag), metadata=auth(token))).department
    assert (on.status, on.etag) == (ACTIVE, "3")
    assert len(await list_all(api, token, company_id, status=ACTIVE)) == \
        len(tenant.departments) + 1


async def test_no_departments_in_an_inactive_company(api: Api, root_token: str) -> None:
    company = await api.company(root_token)
    await api.companies.DeactivateCompany(cpb.DeactivateCompanyRequest(id=company.id),
                                          metadata=auth(root_token))
    await fails(create_call(api, root_token, company.id, unique("Late")),
                grpc.StatusCode.FAILED_PRECONDITION, "COMPANY_INACTIVE")
    assert await list_all(api, root_token, company.id) == []
    await api.companies.ReactivateCompany(cpb.ReactivateCompanyRequest(id=company.id),
                                          metadata=auth(root_token))
    dept = await create(api, root_token, company.id)
    assert [d.id for d in await list_all(api, root_token, company.id)] == [dept.id]
