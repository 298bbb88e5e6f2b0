"""A first walk through the identity services with a real tenant."""

from __future__ import annotations

import grpc
import pytest
from grpc import aio
from interviewplatform.v1 import company_service_pb2, user_service_pb2

from tests.factories import Api, Tenant, auth


async def test_tenant_users_see_their_own_company_only(api: Api, tenant: Tenant,
                                                       root_token: str) -> None:
    other = await api.company(root_token)
    own = await api.companies.GetCompany(company_service_pb2.GetCompanyRequest(
        id=tenant.company.id), metadata=auth(tenant.admin.token))
    assert own.company.name == tenant.company.name
    with pytest.raises(aio.AioRpcError) as err:
        await api.companies.GetCompany(company_service_pb2.GetCompanyRequest(id=other.id),
                                       metadata=auth(tenant.admin.token))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await api.users.ListUsers(user_service_pb2.ListUsersRequest(),
                                       metadata=auth(tenant.members[0].token))
    assert {u.id for u in listed.users} == {tenant.members[0].user.id}
