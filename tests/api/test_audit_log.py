"""The audit log through AuditService: every mutation and sign-in writes one event with the actor,
tenant, request and changed values (never secrets); tenants see their own events; filters and
keyset pages, newest first; the table is append-only; a failed mutation leaves no event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy.exc
from google.protobuf import field_mask_pb2, timestamp_pb2
from interviewplatform.v1 import audit_service_pb2 as pb
from interviewplatform.v1 import company_pb2, user_pb2
from interviewplatform.v1 import company_service_pb2 as cpb
from interviewplatform.v1 import department_service_pb2 as dpb
from interviewplatform.v1 import user_service_pb2 as upb
from sqlalchemy import text

from server.app import Platform
from tests.factories import Api, Tenant, auth, make_tenant
from tests.helpers import fails

PASSWORD = "saffron lighthouse 42 tide"
MEMBER = user_pb2.ROLE_DEPARTMENT_USER


def with_request_id(token: str, request_id: str) -> tuple[tuple[str, str], ...]:
    return (*auth(token), ("x-request-id", request_id))


def ts(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def changes_of(event: pb.AuditEvent) -> dict[str, tuple[str, str]]:
    return {c.field: (c.before, c.after) for c in event.changes}


async def events(api: Api, token: str, **filters: object) -> list[pb.AuditEvent]:
    response = await api.audit.ListAuditEvents(pb.ListAuditEventsRequest(page_size=500,
                                                                         **filters),
                                               metadata=auth(token))
    assert response.next_page_token == "", "more than one page"
    return list(response.audit_events)


async def new_member(api: Api, tenant: Tenant, request_id: str = "",
                     email: str | None = None) -> user_pb2.User:
    response = await api.users.CreateUser(upb.CreateUserRequest(user=user_pb2.User(
        email=email or f"aud-{uuid.uuid4().hex[:12]}@example.com", full_name="Audit Person",
        role=MEMBER, company_id=tenant.company.id, department_id=tenant.departments[0].id,
        phone="+1 555 0101"), password=PASSWORD),
        metadata=with_request_id(tenant.admin.token, request_id or str(uuid.uuid4())))
    user: user_pb2.User = response.user
    return user


async def rename(api: Api, token: str, user_id: str, full_name: str,
                 request_id: str = "") -> user_pb2.User:
    response = await api.users.UpdateUser(upb.UpdateUserRequest(
        user=user_pb2.User(id=user_id, full_name=full_name),
        update_mask=field_mask_pb2.FieldMask(paths=["full_name"])),
        metadata=with_request_id(token, request_id or str(uuid.uuid4())))
    user: user_pb2.User = response.user
    return user


def assert_newest_first(found: list[pb.AuditEvent]) -> None:
    keys = [(e.time.ToDatetime(), int(e.id)) for e in found]
    assert keys == sorted(keys, reverse=True)


# --- what an event records ------------------------------------------------------------------


async def test_user_create_update_deactivate_are_audited(api: Api, tenant: Tenant,
                                                         root_token: str) -> None:
    rids = [f"audit-{uuid.uuid4()}" for _ in range(3)]
    user = await new_member(api, tenant, rids[0])
    await rename(api, tenant.admin.token, user.id, "Renamed Person", rids[1])
    await api.users.DeactivateUser(upb.DeactivateUserRequest(id=user.id),
                                   metadata=with_request_id(tenant.admin.token, rids[2]))

    found = await events(api, root_token, resource=f"users/{user.id}")
    assert [e.action for e in found] == ["user.deactivate", "user.update", "user.create"]
    assert_newest_first(found)
    admin = tenant.admin.user
    for event, rid in zip(found, reversed(rids), strict=True):
        assert event.actor_id == admin.id
        assert event.actor_email == admin.email
        assert event.actor_role == user_pb2.ROLE_COMPANY_ADMIN
        assert event.company_id == tenant.company.id
        assert event.resource == f"users/{user.id}"
        assert event.request_id == rid
        assert event.client_address == "127.0.0.1"
        assert event.time.ToDatetime(tzinfo=UTC) > datetime.now(UTC) - timedelta(minutes=1)

    deactivate, update, create = found
    assert changes_of(create) == {
        "email": ("", user.email), "full_name": ("", "Audit Person"),
        "phone": ("", "+1 555 0101"), "role": ("", "department_user"),
        "company_id": ("", tenant.company.id), "department_id": ("", tenant.departments[0].id),
        "status": ("", "Active")}
    assert changes_of(update) == {"full_name": ("Audit Person", "Renamed Person")}
    assert changes_of(deactivate) == {"status": ("Active", "Inactive")}
    # The company admin reads the same events of its company.
    assert await events(api, tenant.admin.token, resource=f"users/{user.id}") == found


async def test_user_create_event_never_holds_the_password(api: Api, tenant: Tenant,
                                                          root_token: str) -> None:
    user = await new_member(api, tenant)
    (create,) = await events(api, root_token, resource=f"users/{user.id}",
                             action_prefix="user.create")
    dumped = str(create).lower()
    assert PASSWORD.lower() not in dumped
    assert "argon2" not in dumped
    assert "password" not in dumped
    for change in create.changes:
        assert "password" not in change.field
        assert "$" not in change.after


async def test_request_id_is_generated_when_the_caller_sends_none(api: Api, tenant: Tenant,
                                                                   root_token: str) -> None:
    dept = (await api.departments.CreateDepartment(dpb.CreateDepartmentRequest(
        company_id=tenant.company.id, department=company_pb2.Department(name="No rid")),
        metadata=auth(tenant.admin.token))).department
    (event,) = await events(api, root_token,
                            resource=f"companies/{tenant.company.id}/departments/{dept.id}")
    assert event.action == "department.create"
    assert event.request_id
    assert changes_of(event)["name"] == ("", "No rid")


async def test_company_lifecycle_is_audited(api: Api, root_token: str) -> None:
    company = await api.company(root_token)
    await api.companies.UpdateCompany(cpb.UpdateCompanyRequest(
        company=company_pb2.Company(id=company.id, name=company.name, phone="123"),
        update_mask=field_mask_pb2.FieldMask(paths=["phone"])), metadata=auth(root_token))
    await api.companies.DeactivateCompany(cpb.DeactivateCompanyRequest(id=company.id),
                                          metadata=auth(root_token))
    await api.companies.ReactivateCompany(cpb.ReactivateCompanyRequest(id=company.id),
                                          metadata=auth(root_token))
    found = await events(api, root_token, resource=f"companies/{company.id}")
    assert [e.action for e in found] == ["company.reactivate", "company.deactivate",
                                         "company.update", "company.create"]
    assert all(e.company_id == company.id for e in found)
    assert all(e.actor_role == user_pb2.ROLE_SUPER_ADMIN for e in found)
    assert changes_of(found[0]) == {"status": ("Inactive", "Active")}
    assert changes_of(found[1]) == {"status": ("Active", "Inactive")}
    assert changes_of(found[2]) == {"phone": ("", "123")}
    assert changes_of(found[3])["name"] == ("", company.name)


async def test_sign_ins_are_audited(api: Api, tenant: Tenant, root_token: str) -> None:
    user = await new_member(api, tenant)
    await api.login(user.email, PASSWORD)
    await fails(api.login(user.email.upper(), "not the password"),
                grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    failure, success = await events(api, root_token, resource=f"users/{user.id}",
                                    action_prefix="auth.login")
    assert success.action == "auth.login.success"
    assert (success.actor_id, success.actor_email, success.actor_role) == \
        (user.id, user.email, MEMBER)
    assert success.company_id == tenant.company.id
    assert success.client_address == "127.0.0.1"
    assert success.request_id
    assert failure.action == "auth.login.failure"
    assert failure.actor_id == ""
    assert failure.company_id == tenant.company.id
    assert changes_of(failure) == {"email": ("", user.email.lower())}
    assert "not the password" not in str(failure)
    # The company admin sees the sign-ins of its users.
    mine = await events(api, tenant.admin.token, resource=f"users/{user.id}",
                        action_prefix="auth.login")
    assert [e.id for e in mine] == [failure.id, success.id]


async def test_failed_sign_in_with_an_unknown_email_is_audited(api: Api,
                                                               root_token: str) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    email = f"Nobody-{uuid.uuid4().hex[:10]}@Example.com"
    await fails(api.login(email, "whatever it is"), grpc.StatusCode.UNAUTHENTICATED,
                "INVALID_CREDENTIALS")
    found = [e for e in await events(api, root_token, action_prefix="auth.login.failure",
                                     resource="users/-", start_time=ts(since))
             if changes_of(e)["email"] == ("", email.lower())]
    assert len(found) == 1
    assert (found[0].actor_id, found[0].company_id) == ("", "")


# --- who sees what --------------------------------------------------------------------------


async def test_company_admin_sees_its_company_events_only(api: Api, tenant: Tenant,
                                                          root_token: str) -> None:
    other = await make_tenant(api, root_token, departments=1)
    await new_member(api, tenant)
    mine = await events(api, tenant.admin.token)
    assert mine
    assert {e.company_id for e in mine} == {tenant.company.id}
    assert {"company.create", "department.create", "user.create",
            "auth.login.success"} <= {e.action for e in mine}
    assert_newest_first(mine)
    # The super admin sees the same for this company, and the other company's too.
    assert [e.id for e in await events(api, root_token, company_id=tenant.company.id)] == \
        [e.id for e in mine]
    theirs = await events(api, root_token, company_id=other.company.id)
    assert theirs
    assert not {e.id for e in theirs} & {e.id for e in mine}
    # Asking for another company's events gives nothing.
    assert await events(api, tenant.admin.token, company_id=other.company.id) == []
    await fails(api.audit.ListAuditEvents(pb.ListAuditEventsRequest(),
                                          metadata=auth(tenant.members[0].token)),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")


# --- filters and pages ----------------------------------------------------------------------


async def test_filters(api: Api, tenant: Tenant, root_token: str) -> None:
    user = await new_member(api, tenant)
    await rename(api, tenant.admin.token, user.id, "Second")
    await rename(api, tenant.admin.token, user.id, "Third")
    company = tenant.company.id

    users_only = await events(api, root_token, company_id=company, action_prefix="user.")
    assert users_only
    assert all(e.action.startswith("user.") for e in users_only)
    assert {e.action for e in users_only} == {"user.create", "user.update"}
    # The prefix is literal: "_" and "%" are not wildcards.
    assert await events(api, root_token, company_id=company, action_prefix="user_") == []
    assert await events(api, root_token, company_id=company, action_prefix="%") == []

    by_admin = await events(api, root_token, company_id=company,
                            actor_id=tenant.admin.user.id)
    assert by_admin
    assert {e.actor_id for e in by_admin} == {tenant.admin.user.id}
    by_root = await events(api, root_token, company_id=company, action_prefix="user.create",
                           actor_id=by_admin[0].actor_id)
    assert [e.resource for e in by_root] == [f"users/{user.id}"]

    third, second, first = await events(api, root_token, resource=f"users/{user.id}")
    resource = f"users/{user.id}"
    assert [e.id for e in await events(api, root_token, resource=resource,
                                       start_time=second.time)] == [third.id, second.id]
    assert [e.id for e in await events(api, root_token, resource=resource,
                                       end_time=second.time)] == [first.id]
    assert [e.id for e in await events(api, root_token, resource=resource,
                                       start_time=first.time, end_time=third.time)] == \
        [second.id, first.id]
    later = ts(datetime.now(UTC) + timedelta(minutes=1))
    assert await events(api, root_token, resource=resource, start_time=later) == []


async def test_pages_newest_first(api: Api, tenant: Tenant, root_token: str) -> None:
    user = await new_member(api, tenant)
    for i in range(4):
        await rename(api, tenant.admin.token, user.id, f"Name {i}")
    resource = f"users/{user.id}"
    everything = await events(api, root_token, resource=resource)
    assert len(everything) == 5

    seen: list[str] = []
    sizes: list[int] = []
    token = ""
    while True:
        page = await api.audit.ListAuditEvents(pb.ListAuditEventsRequest(
            resource=resource, page_size=2, page_token=token), metadata=auth(root_token))
        sizes.append(len(page.audit_events))
        seen += [e.id for e in page.audit_events]
        token = page.next_page_token
        if not token:
            break
        assert len(sizes) < 5, "pagination does not end"
        last_token = token
    assert sizes == [2, 2, 1]
    assert seen == [e.id for e in everything]
    assert [e.action for e in everything] == ["user.update"] * 4 + ["user.create"]
    assert [changes_of(e)["full_name"][1] for e in everything[:4]] == \
        ["Name 3", "Name 2", "Name 1", "Name 0"]

    await fails(api.audit.ListAuditEvents(pb.ListAuditEventsRequest(
        resource=resource, action_prefix="user.", page_token=last_token),
        metadata=auth(root_token)), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    await fails(api.audit.ListAuditEvents(pb.ListAuditEventsRequest(page_token="garbage"),
                                          metadata=auth(root_token)),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    await fails(api.audit.ListAuditEvents(pb.ListAuditEventsRequest(page_size=501),
                                          metadata=auth(root_token)),
                grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")


# --- append-only ----------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'x'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
])
async def test_audit_table_is_append_only(platform: Platform, api: Api, tenant: Tenant,
                                          root_token: str, statement: str) -> None:
    before = await events(api, root_token, company_id=tenant.company.id)
    assert before
    async with platform.db.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
                await conn.execute(text(statement))
        finally:
            await transaction.rollback()  # never commit, whatever happened
    assert await events(api, root_token, company_id=tenant.company.id) == before


# --- a failed mutation leaves no event ------------------------------------------------------


async def test_failed_mutations_leave_no_event(api: Api, tenant: Tenant,
                                               root_token: str) -> None:
    company_id = tenant.company.id
    name = f"Atomic {uuid.uuid4().hex[:8]}"
    await api.departments.CreateDepartment(dpb.CreateDepartmentRequest(
        company_id=company_id, department=company_pb2.Department(name=name)),
        metadata=auth(tenant.admin.token))
    await fails(api.departments.CreateDepartment(dpb.CreateDepartmentRequest(
        company_id=company_id, department=company_pb2.Department(name=name.upper())),
        metadata=auth(tenant.admin.token)),
        grpc.StatusCode.ALREADY_EXISTS, "DEPARTMENT_NAME_TAKEN")
    created = [e for e in await events(api, root_token, company_id=company_id,
                                       action_prefix="department.create")
               if changes_of(e)["name"][1].lower() == name.lower()]
    assert len(created) == 1

    resource = f"companies/{company_id}"
    await api.companies.UpdateCompany(cpb.UpdateCompanyRequest(
        company=company_pb2.Company(id=company_id, name=tenant.company.name, phone="1",
                                    etag=tenant.company.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["phone"])), metadata=auth(root_token))
    updates = await events(api, root_token, resource=resource, action_prefix="company.update")
    assert len(updates) == 1
    await fails(api.companies.UpdateCompany(cpb.UpdateCompanyRequest(
        company=company_pb2.Company(id=company_id, name=tenant.company.name, phone="2",
                                    etag=tenant.company.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["phone"])), metadata=auth(root_token)),
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    assert await events(api, root_token, resource=resource,
                        action_prefix="company.update") == updates

    user = await new_member(api, tenant)
    await fails(new_member(api, tenant, email=user.email.upper()),
                grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN")
    await fails(api.users.DeactivateUser(upb.DeactivateUserRequest(id=user.id),
                                         metadata=auth(tenant.members[0].token)),
                grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    creates = [e for e in await events(api, root_token, company_id=company_id,
                                       action_prefix="user.create")
               if changes_of(e)["email"][1].lower() == user.email.lower()]
    assert len(creates) == 1
    assert [e.action for e in await events(api, root_token, resource=f"users/{user.id}")] == \
        ["user.create"]
