"""CompanyService and DepartmentService: proto -> use-case -> proto."""

from __future__ import annotations

from typing import Any

from grpc import aio
from interviewplatform.v1 import company_service_pb2 as cpb
from interviewplatform.v1 import company_service_pb2_grpc, department_service_pb2_grpc
from interviewplatform.v1 import department_service_pb2 as dpb

from server.api import convert
from server.context import caller
from server.domain.directory import DirectoryUseCases
from server.domain.models import EntityStatus

Ctx = aio.ServicerContext[Any, Any]


class CompanyService(company_service_pb2_grpc.CompanyServiceServicer):
    def __init__(self, directory: DirectoryUseCases) -> None:
        self._d = directory

    async def CreateCompany(self, request: cpb.CreateCompanyRequest,
                            context: Ctx) -> cpb.CreateCompanyResponse:
        c = request.company
        company = await self._d.create_company(
            caller(), name=c.name, email=c.email, phone=c.phone, address=c.address,
            request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return cpb.CreateCompanyResponse(company=convert.company(company))

    async def GetCompany(self, request: cpb.GetCompanyRequest,
                         context: Ctx) -> cpb.GetCompanyResponse:
        company = await self._d.get_company(caller(), convert.req_uuid(request.id))
        return cpb.GetCompanyResponse(company=convert.company(company))

    async def ListCompanies(self, request: cpb.ListCompaniesRequest,
                            context: Ctx) -> cpb.ListCompaniesResponse:
        page = await self._d.list_companies(
            caller(), status=convert.status_filter(request.status),
            name_prefix=request.name_prefix or None, size=request.page_size,
            token=request.page_token)
        return cpb.ListCompaniesResponse(companies=[convert.company(c) for c in page.items],
                                         next_page_token=page.next_page_token)

    async def UpdateCompany(self, request: cpb.UpdateCompanyRequest,
                            context: Ctx) -> cpb.UpdateCompanyResponse:
        company = await self._d.update_company(
            caller(), convert.req_uuid(request.company.id, "company.id"),
            convert.masked(request.company, request.update_mask), request.company.etag)
        return cpb.UpdateCompanyResponse(company=convert.company(company))

    async def DeactivateCompany(self, request: cpb.DeactivateCompanyRequest,
                                context: Ctx) -> cpb.DeactivateCompanyResponse:
        company = await self._d.set_company_status(caller(), convert.req_uuid(request.id),
                                                   EntityStatus.INACTIVE, request.etag)
        return cpb.DeactivateCompanyResponse(company=convert.company(company))

    async def ReactivateCompany(self, request: cpb.ReactivateCompanyRequest,
                                context: Ctx) -> cpb.ReactivateCompanyResponse:
        company = await self._d.set_company_status(caller(), convert.req_uuid(request.id),
                                                   EntityStatus.ACTIVE, request.etag)
        return cpb.ReactivateCompanyResponse(company=convert.company(company))


class DepartmentService(department_service_pb2_grpc.DepartmentServiceServicer):
    def __init__(self, directory: DirectoryUseCases) -> None:
        self._d = directory

    async def CreateDepartment(self, request: dpb.CreateDepartmentRequest,
                               context: Ctx) -> dpb.CreateDepartmentResponse:
        dept = await self._d.create_department(
            caller(), convert.req_uuid(request.company_id, "company_id"),
            name=request.department.name, description=request.department.description,
            request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return dpb.CreateDepartmentResponse(department=convert.department(dept))

    async def GetDepartment(self, request: dpb.GetDepartmentRequest,
                            context: Ctx) -> dpb.GetDepartmentResponse:
        dept = await self._d.get_department(
            caller(), convert.req_uuid(request.company_id, "company_id"),
            convert.req_uuid(request.id))
        return dpb.GetDepartmentResponse(department=convert.department(dept))

    async def ListDepartments(self, request: dpb.ListDepartmentsRequest,
                              context: Ctx) -> dpb.ListDepartmentsResponse:
        page = await self._d.list_departments(
            caller(), convert.req_uuid(request.company_id, "company_id"),
            status=convert.status_filter(request.status), size=request.page_size,
            token=request.page_token)
        return dpb.ListDepartmentsResponse(
            departments=[convert.department(d) for d in page.items],
            next_page_token=page.next_page_token)

    async def UpdateDepartment(self, request: dpb.UpdateDepartmentRequest,
                               context: Ctx) -> dpb.UpdateDepartmentResponse:
        d = request.department
        dept = await self._d.update_department(
            caller(), convert.req_uuid(d.company_id, "department.company_id"),
            convert.req_uuid(d.id, "department.id"), convert.masked(d, request.update_mask),
            d.etag)
        return dpb.UpdateDepartmentResponse(department=convert.department(dept))

    async def DeactivateDepartment(self, request: dpb.DeactivateDepartmentRequest,
                                   context: Ctx) -> dpb.DeactivateDepartmentResponse:
        dept = await self._d.set_department_status(
            caller(), convert.req_uuid(request.company_id, "company_id"),
            convert.req_uuid(request.id), EntityStatus.INACTIVE, request.etag)
        return dpb.DeactivateDepartmentResponse(department=convert.department(dept))

    async def ReactivateDepartment(self, request: dpb.ReactivateDepartmentRequest,
                                   context: Ctx) -> dpb.ReactivateDepartmentResponse:
        dept = await self._d.set_department_status(
            caller(), convert.req_uuid(request.company_id, "company_id"),
            convert.req_uuid(request.id), EntityStatus.ACTIVE, request.etag)
        return dpb.ReactivateDepartmentResponse(department=convert.department(dept))
