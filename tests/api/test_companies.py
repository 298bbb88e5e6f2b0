"""CompanyService against a real server and PostgreSQL: create, read, keyset pages, masked and
etag-guarded updates, idempotent creates, deactivation ending sign-in and live sessions, and the
REST/JSON mapping through Envoy."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import grpc
import httpx
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from interviewplatform.v1 import auth_service_pb2, company_pb2, user_pb2
from interviewplatform.v1 import company_service_pb2 as pb
from sqlalchemy import text

from server.app import Platform
from tests.factories import Api, Tenant, auth
from tests.helpers import DEFAULT_PASSWORD, error_info, fails

ACTIVE = user_pb2.ENTITY_STATUS_ACTIVE
INACTIVE = user_pb2.ENTITY_STATUS_INACTIVE


def violated_fields(exc: aio.AioRpcError) -> set[str]:
    """The fields named by the google.rpc.BadRequest detail of a failed call."""
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return {v.field for v in bad.field_violations}
    raise AssertionError(f"no BadRequest in {exc!r}")


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


async def create(api: Api, token: str, request_id: str = "",
                 **fields: str) -> company_pb2.Company:
    fields.setdefault("name", unique("Co"))
    response = await api.companies.CreateCompany(
        pb.CreateCompanyRequest(company=company_pb2.Company(**fields), request_id=request_id),
        metadata=auth(token))
    company: company_pb2.Company = response.company
    return company


async def get(api: Api, token: str, company_id: str) -> company_pb2.Company:
    company: company_pb2.Company = (await api.companies.GetCompany(
        pb.GetCompanyRequest(id=company_id), metadata=auth(token))).company
    return company


async def list_all(api: Api, token: str, **filters: object) -> list[company_pb2.Company]:
    response = await api.companies.ListCompanies(
        pb.ListCompaniesRequest(page_size=500, **filters), metadata=auth(token))
    assert response.next_page_token == ""
    return list(response.companies)


async def wait_rejected(api: Api, token: str, reason: str, seconds: float = 3.0) -> None:
    """Poll GetMe with an access token until it is refused with `reason`."""
    deadline = time.monotonic() + seconds
    last = "accepted"
    while time.monotonic() < deadline:
        try:
            await api.auth.GetMe(auth_service_pb2.GetMeRequest(), metadata=auth(token))
        except aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc.details()
            last = error_info(exc)[0]
            if last == reason:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"after {seconds} s the token is {last}, not refused with {reason}")


# --- create and read ------------------------------------------------------------------------


async def test_create_company_with_all_fields(api: Api, root_token: str) -> None:
    name = unique("Acme")
    company = await create(api, root_token, name=name, email="hr@acme.example.com",
                           phone="+49 30 1234567", address="Hauptstr. 1, Berlin")
    assert uuid.UUID(company.id)
    assert company.name == name
    assert company.email == "hr@acme.example.com"
    assert company.phone == "+49 30 1234567"
    assert company.address == "Hauptstr. 1, Berlin"
    assert company.status == ACTIVE
    assert company.etag == "1"
    assert company.create_time.seconds > 0
    assert company.update_time == company.create_time
    assert await get(api, root_token, company.id) == company


async def test_create_company_with_only_a_name(api: Api, root_token: str) -> None:
    company = await create(api, root_token)
    assert (company.email, company.phone, company.address) == ("", "", "")
    assert company.status == ACTIVE


async def test_get_unknown_company_is_not_found(api: Api, root_token: str) -> None:
    await fails(api.companies.GetCompany(pb.GetCompanyRequest(id=str(uuid.uuid4())),
                                         metadata=auth(root_token)),
                grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")


async def test_only_a_super_admin_creates_companies(api: Api, tenant: Tenant) -> None:
    for token in (tenant.admin.token, tenant.members[0].token):
        await fails(api.companies.CreateCompany(
            pb.CreateCompanyRequest(company=company_pb2.Company(name=unique("Co"))),
            metadata=auth(token)), grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")


async def test_company_admin_reads_its_own_company_only(api: Api, tenant: Tenant,
                                                        root_token: str) -> None:
    other = await create(api, root_token)
    assert (await get(api, tenant.admin.token, tenant.company.id)).id == tenant.company.id
    await fails(api.companies.GetCompany(pb.GetCompanyRequest(id=other.id),
                                         metadata=auth(tenant.admin.token)),
                grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")
    listed = await list_all(api, tenant.admin.token)
    assert [c.id for c in listed] == [tenant.company.id]


# --- invalid input --------------------------------------------------------------------------


async def test_bad_uuid_is_invalid_argument_with_field_violation(api: Api,
                                                                 root_token: str) -> None:
    exc = await fails(api.companies.GetCompany(pb.GetCompanyRequest(id="not-a-uuid"),
                                               metadata=auth(root_token)),
                      grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"id"}


async def test_page_size_over_500_is_invalid_argument(api: Api, root_token: str) -> None:
    exc = await fails(api.companies.ListCompanies(pb.ListCompaniesRequest(page_size=501),
                                                  metadata=auth(root_token)),
                      grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"page_size"}
    ok = await api.companies.ListCompanies(pb.ListCompaniesRequest(page_size=500),
                                           metadata=auth(root_token))
    assert len(ok.companies) <= 500


async def test_bad_email_is_invalid_argument(api: Api, root_token: str) -> None:
    name = unique("BadMail")
    exc = await fails(api.companies.CreateCompany(pb.CreateCompanyRequest(
        company=company_pb2.Company(name=name, email="not-an-email")),
        metadata=auth(root_token)), grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"company.email"}
    assert await list_all(api, root_token, name_prefix=name) == []


async def test_missing_or_blank_name_is_invalid_argument(api: Api, root_token: str) -> None:
    for name in ("", "   "):
        await fails(api.companies.CreateCompany(pb.CreateCompanyRequest(
            company=company_pb2.Company(name=name, email="a@example.com")),
            metadata=auth(root_token)), grpc.StatusCode.INVALID_ARGUMENT, "NAME_REQUIRED")
    exc = await fails(api.companies.CreateCompany(pb.CreateCompanyRequest(
        company=company_pb2.Company(name="n" * 256)), metadata=auth(root_token)),
        grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"company.name"}


async def test_bad_request_id_is_invalid_argument(api: Api, root_token: str) -> None:
    exc = await fails(api.companies.CreateCompany(pb.CreateCompanyRequest(
        company=company_pb2.Company(name=unique("Co")), request_id="retry-1"),
        metadata=auth(root_token)), grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert violated_fields(exc) == {"request_id"}


# --- list and keyset pages ------------------------------------------------------------------


async def test_list_pages_by_creation_order_with_name_prefix(api: Api, root_token: str) -> None:
    prefix = unique("Paged")
    created = [(await create(api, root_token, name=f"{prefix} {i}")).id for i in range(7)]
    await create(api, root_token, name=unique("Unrelated"))

    seen: list[str] = []
    sizes: list[int] = []
    token = ""
    while True:
        page = await api.companies.ListCompanies(
            pb.ListCompaniesRequest(page_size=3, name_prefix=prefix, page_token=token),
            metadata=auth(root_token))
        sizes.append(len(page.companies))
        seen += [c.id for c in page.companies]
        token = page.next_page_token
        if not token:
            break
        assert len(sizes) < 5, "pagination does not end"
    assert sizes == [3, 3, 1]
    assert seen == created  # oldest first, no duplicates, nothing missing
    # The prefix matches without regard to case.
    assert [c.id for c in await list_all(api, root_token, name_prefix=prefix.upper())] == created


async def test_page_token_is_bound_to_its_filters(api: Api, root_token: str) -> None:
    prefix = unique("Bound")
    for i in range(3):
        await create(api, root_token, name=f"{prefix} {i}")
    first = await api.companies.ListCompanies(
        pb.ListCompaniesRequest(page_size=2, name_prefix=prefix), metadata=auth(root_token))
    assert first.next_page_token
    for changed in (pb.ListCompaniesRequest(page_size=2, name_prefix=prefix + "x"),
                    pb.ListCompaniesRequest(page_size=2),
                    pb.ListCompaniesRequest(page_size=2, name_prefix=prefix, status=ACTIVE)):
        changed.page_token = first.next_page_token
        await fails(api.companies.ListCompanies(changed, metadata=auth(root_token)),
                    grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    # The same filters with another page size are fine.
    rest = await api.companies.ListCompanies(
        pb.ListCompaniesRequest(page_size=5, name_prefix=prefix,
                                page_token=first.next_page_token), metadata=auth(root_token))
    assert len(rest.companies) == 1


@pytest.mark.parametrize("token", ["garbage", "bm90IGpzb24", "eyJ0IjogMX0", "%%%"])
async def test_garbage_page_token_is_invalid_argument(api: Api, root_token: str,
                                                      token: str) -> None:
    await fails(api.companies.ListCompanies(pb.ListCompaniesRequest(page_token=token),
                                            metadata=auth(root_token)),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


async def test_status_filter(api: Api, root_token: str) -> None:
    prefix = unique("Status")
    companies = [await create(api, root_token, name=f"{prefix} {i}") for i in range(3)]
    await api.companies.DeactivateCompany(pb.DeactivateCompanyRequest(id=companies[1].id),
                                          metadata=auth(root_token))
    inactive = await list_all(api, root_token, name_prefix=prefix, status=INACTIVE)
    active = await list_all(api, root_token, name_prefix=prefix, status=ACTIVE)
    every = await list_all(api, root_token, name_prefix=prefix)
    assert [c.id for c in inactive] == [companies[1].id]
    assert inactive[0].status == INACTIVE
    assert [c.id for c in active] == [companies[0].id, companies[2].id]
    assert [c.id for c in every] == [c.id for c in companies]


# --- update ---------------------------------------------------------------------------------


async def test_update_changes_only_masked_fields(api: Api, root_token: str) -> None:
    company = await create(api, root_token, email="old@example.com", phone="111",
                           address="Old street")
    new_name = unique("Renamed")
    body = company_pb2.Company(id=company.id, name=new_name, email="new@example.com",
                               phone="222", address="New street", etag=company.etag)
    updated = (await api.companies.UpdateCompany(
        pb.UpdateCompanyRequest(company=body, update_mask=mask("phone", "address")),
        metadata=auth(root_token))).company
    assert updated.phone == "222"
    assert updated.address == "New street"
    assert updated.name == company.name  # in the body, not in the mask: ignored
    assert updated.email == "old@example.com"
    assert updated.etag == "2"
    assert updated.create_time == company.create_time
    assert updated.update_time.ToDatetime() > company.update_time.ToDatetime()
    assert await get(api, root_token, company.id) == updated

    body.etag = updated.etag
    renamed = (await api.companies.UpdateCompany(
        pb.UpdateCompanyRequest(company=body, update_mask=mask("name")),
        metadata=auth(root_token))).company
    assert renamed.name == new_name
    assert renamed.phone == "222"
    assert renamed.etag == "3"


async def test_update_without_etag_is_not_guarded(api: Api, root_token: str) -> None:
    company = await create(api, root_token)
    body = company_pb2.Company(id=company.id, name=company.name, phone="333")
    for expected in ("2", "3"):
        updated = (await api.companies.UpdateCompany(
            pb.UpdateCompanyRequest(company=body, update_mask=mask("phone")),
            metadata=auth(root_token))).company
        assert updated.etag == expected


async def test_update_with_only_the_masked_field_in_the_body(api: Api, root_token: str) -> None:
    """A partial body (id, etag and the masked field only) is the usual PATCH: fields outside
    the mask are ignored, so their absence must not fail validation."""
    company = await create(api, root_token)
    response = await api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=company_pb2.Company(id=company.id, phone="+1 555 0100", etag=company.etag),
        update_mask=mask("phone")), metadata=auth(root_token))
    assert response.company.phone == "+1 555 0100"
    assert response.company.name == company.name


async def test_update_with_stale_etag_is_aborted_and_changes_nothing(api: Api,
                                                                     root_token: str) -> None:
    company = await create(api, root_token, phone="100")
    first = company_pb2.Company(id=company.id, name=company.name, phone="200", etag="1")
    await api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=first, update_mask=mask("phone")), metadata=auth(root_token))
    stale = company_pb2.Company(id=company.id, name=company.name, phone="300", etag="1")
    exc = await fails(api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=stale, update_mask=mask("phone")), metadata=auth(root_token)),
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    assert error_info(exc)[1] == {"current_etag": "2"}
    now = await get(api, root_token, company.id)
    assert (now.phone, now.etag) == ("200", "2")


@pytest.mark.parametrize("paths", [["nonexistent"], ["status"], ["id"], ["name", "etag"],
                                   ["company.name"], []])
async def test_update_with_bad_mask_is_invalid_argument(api: Api, root_token: str,
                                                        paths: list[str]) -> None:
    company = await create(api, root_token)
    body = company_pb2.Company(id=company.id, name=unique("X"), status=INACTIVE)
    await fails(api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=body, update_mask=mask(*paths)), metadata=auth(root_token)),
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK")
    assert await get(api, root_token, company.id) == company


async def test_update_name_to_empty_is_invalid_argument(api: Api, root_token: str) -> None:
    company = await create(api, root_token)
    for name in ("", "   "):
        await fails(api.companies.UpdateCompany(pb.UpdateCompanyRequest(
            company=company_pb2.Company(id=company.id, name=name), update_mask=mask("name")),
            metadata=auth(root_token)), grpc.StatusCode.INVALID_ARGUMENT, "NAME_REQUIRED")
    assert await get(api, root_token, company.id) == company


async def test_update_trims_the_name_like_create(api: Api, root_token: str) -> None:
    name = unique("Trimmed")
    company = await create(api, root_token, name=f"  {name}  ")
    assert company.name == name
    renamed = (await api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=company_pb2.Company(id=company.id, name=f"  {name} 2  "),
        update_mask=mask("name")), metadata=auth(root_token))).company
    assert renamed.name == f"{name} 2"


async def test_update_unknown_company_is_not_found(api: Api, root_token: str) -> None:
    await fails(api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=company_pb2.Company(id=str(uuid.uuid4()), name="X"), update_mask=mask("name")),
        metadata=auth(root_token)), grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")


async def test_company_admin_cannot_update_its_company(api: Api, tenant: Tenant) -> None:
    await fails(api.companies.UpdateCompany(pb.UpdateCompanyRequest(
        company=company_pb2.Company(id=tenant.company.id, name="Mine now"),
        update_mask=mask("name")), metadata=auth(tenant.admin.token)),
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")


# --- idempotent create ----------------------------------------------------------------------


async def test_same_request_id_and_body_returns_the_same_company(api: Api,
                                                                 root_token: str) -> None:
    name = unique("Idem")
    request_id = str(uuid.uuid4())
    first = await create(api, root_token, request_id, name=name, email="a@example.com")
    again = await create(api, root_token, request_id, name=name, email="a@example.com")
    assert again.id == first.id
    assert again == first
    assert [c.id for c in await list_all(api, root_token, name_prefix=name)] == [first.id]


async def test_same_request_id_with_another_body_is_refused(api: Api, root_token: str) -> None:
    name = unique("Reuse")
    request_id = str(uuid.uuid4())
    first = await create(api, root_token, request_id, name=name)
    await fails(api.companies.CreateCompany(pb.CreateCompanyRequest(
        company=company_pb2.Company(name=name, email="other@example.com"),
        request_id=request_id), metadata=auth(root_token)),
        grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")
    assert [c.id for c in await list_all(api, root_token, name_prefix=name)] == [first.id]


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


async def test_concurrent_creates_with_the_same_request_id_make_one_company(
        api: Api, root_token: str, platform: Platform) -> None:
    name = unique("Concurrent")
    request_id = str(uuid.uuid4())
    # Unsynchronised, and then all past the idempotency lookup before any of them commits.
    results = list(await asyncio.gather(*(create(api, root_token, request_id, name=name)
                                          for _ in range(3))))
    raced = unique("Raced")
    raced_id = str(uuid.uuid4())
    async with inserts_held(platform, "companies"):
        calls = [asyncio.ensure_future(create(api, root_token, raced_id, name=raced))
                 for _ in range(3)]
        await asyncio.sleep(0.5)
    held = await asyncio.gather(*calls)
    for group, group_name in ((results, name), (held, raced)):
        assert len({c.id for c in group}) == 1
        assert [c.id for c in await list_all(api, root_token, name_prefix=group_name)] == \
            [group[0].id]


async def test_without_request_id_every_create_is_new(api: Api, root_token: str) -> None:
    name = unique("NoKey")
    a = await create(api, root_token, name=name)
    b = await create(api, root_token, name=name)
    assert a.id != b.id
    assert len(await list_all(api, root_token, name_prefix=name)) == 2


# --- deactivate and reactivate --------------------------------------------------------------


async def test_deactivation_ends_sign_in_and_sessions_and_reactivation_restores_sign_in(
        api: Api, root_token: str, tenant: Tenant) -> None:
    tokens = [tenant.admin.token, tenant.members[0].token]
    for token in tokens:  # the tokens work before
        await api.auth.GetMe(auth_service_pb2.GetMeRequest(), metadata=auth(token))

    deactivated = (await api.companies.DeactivateCompany(
        pb.DeactivateCompanyRequest(id=tenant.company.id, etag=tenant.company.etag),
        metadata=auth(root_token))).company
    assert deactivated.status == INACTIVE
    assert deactivated.etag == str(int(tenant.company.etag) + 1)
    assert (await get(api, root_token, tenant.company.id)).status == INACTIVE

    for member in (tenant.admin, tenant.members[0]):
        await fails(api.auth.Login(auth_service_pb2.LoginRequest(
            email=member.user.email, password=DEFAULT_PASSWORD)),
            grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    await asyncio.gather(*(wait_rejected(api, t, "COMPANY_INACTIVE") for t in tokens))

    # Deactivating again changes nothing.
    again = (await api.companies.DeactivateCompany(
        pb.DeactivateCompanyRequest(id=tenant.company.id), metadata=auth(root_token))).company
    assert again == deactivated

    reactivated = (await api.companies.ReactivateCompany(
        pb.ReactivateCompanyRequest(id=tenant.company.id), metadata=auth(root_token))).company
    assert reactivated.status == ACTIVE
    assert reactivated.etag == str(int(deactivated.etag) + 1)
    login = await api.login(tenant.admin.user.email)
    assert login.user.id == tenant.admin.user.id
    me = await api.auth.GetMe(auth_service_pb2.GetMeRequest(),
                              metadata=auth(login.tokens.access_token))
    assert me.company_id == tenant.company.id
    # The sessions ended by the deactivation stay ended.
    await wait_rejected(api, tenant.members[0].token, "SESSION_REVOKED")


async def test_deactivate_with_stale_etag_is_aborted(api: Api, root_token: str) -> None:
    company = await create(api, root_token)
    await fails(api.companies.DeactivateCompany(
        pb.DeactivateCompanyRequest(id=company.id, etag="7"), metadata=auth(root_token)),
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    assert (await get(api, root_token, company.id)).status == ACTIVE


async def test_company_admin_cannot_deactivate_its_company(api: Api, tenant: Tenant,
                                                           root_token: str) -> None:
    await fails(api.companies.DeactivateCompany(
        pb.DeactivateCompanyRequest(id=tenant.company.id), metadata=auth(tenant.admin.token)),
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_TOO_WEAK")
    assert (await get(api, root_token, tenant.company.id)).status == ACTIVE


# --- REST through Envoy ---------------------------------------------------------------------


def reason_of(body: dict[str, object]) -> str:
    details = body["details"]
    assert isinstance(details, list)
    for d in details:
        if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo":
            return str(d["reason"])
    raise AssertionError(f"no ErrorInfo in {body}")


@pytest.mark.parametrize("param", ["requestId", "request_id"])
async def test_rest_create_with_request_id_is_idempotent(http: httpx.AsyncClient,
                                                         root_token: str, param: str) -> None:
    headers = {"authorization": f"Bearer {root_token}"}
    name = unique("Rest")
    body = {"name": name, "email": "rest@example.com", "phone": "+1 555 0199"}
    url = f"/v1/companies?{param}={uuid.uuid4()}"
    first = await http.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    company = first.json()["company"]
    assert company["name"] == name
    assert company["email"] == "rest@example.com"
    assert company["status"] == "ENTITY_STATUS_ACTIVE"
    assert company["etag"] == "1"
    again = await http.post(url, json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["company"]["id"] == company["id"]
    listed = await http.get(f"/v1/companies?namePrefix={quote(name)}", headers=headers)
    assert [c["id"] for c in listed.json()["companies"]] == [company["id"]]
    reused = await http.post(url, json={**body, "phone": "0"}, headers=headers)
    assert reused.status_code == 400  # FAILED_PRECONDITION
    assert reason_of(reused.json()) == "REQUEST_ID_REUSED"


async def test_rest_patch_with_update_mask_and_stale_etag(http: httpx.AsyncClient,
                                                         root_token: str) -> None:
    headers = {"authorization": f"Bearer {root_token}"}
    created = await http.post("/v1/companies", json={"name": unique("Patch"), "phone": "1"},
                              headers=headers)
    company = created.json()["company"]
    new_name = unique("Patched")
    patched = await http.patch(f"/v1/companies/{company['id']}?updateMask=name",
                               json={"name": new_name, "phone": "ignored", "etag": "1"},
                               headers=headers)
    assert patched.status_code == 200, patched.text
    after = patched.json()["company"]
    assert (after["name"], after["phone"], after["etag"]) == (new_name, "1", "2")

    both = await http.patch(f"/v1/companies/{company['id']}?updateMask=phone,address",
                            json={"name": new_name, "phone": "2", "address": "Street 2"},
                            headers=headers)
    assert both.status_code == 200, both.text
    assert (both.json()["company"]["phone"], both.json()["company"]["address"]) == \
        ("2", "Street 2")

    stale = await http.patch(f"/v1/companies/{company['id']}?updateMask=name",
                             json={"name": unique("Lost"), "etag": "1"}, headers=headers)
    assert stale.status_code == 409
    assert reason_of(stale.json()) == "ETAG_MISMATCH"
    current = await http.get(f"/v1/companies/{company['id']}", headers=headers)
    assert current.json()["company"]["name"] == new_name
    assert current.json()["company"]["etag"] == "3"


async def test_rest_errors(http: httpx.AsyncClient, root_token: str, tenant: Tenant) -> None:
    root = {"authorization": f"Bearer {root_token}"}
    weak = await http.post("/v1/companies", json={"name": unique("Weak")},
                           headers={"authorization": f"Bearer {tenant.admin.token}"})
    assert weak.status_code == 403
    assert reason_of(weak.json()) == "ROLE_TOO_WEAK"
    missing = await http.get(f"/v1/companies/{uuid.uuid4()}", headers=root)
    assert missing.status_code == 404
    assert reason_of(missing.json()) == "COMPANY_NOT_FOUND"
    bad = await http.get("/v1/companies", params={"pageSize": 501}, headers=root)
    assert bad.status_code == 400
    assert reason_of(bad.json()) == "VALIDATION_FAILED"
    anonymous = await http.get("/v1/companies")
    assert anonymous.status_code == 401
