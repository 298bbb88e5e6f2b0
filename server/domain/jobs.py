"""Jobs of a department and their versioned, immutable question sets.

Who: department users manage the jobs of their own department, company admins those of their
company, super admins all. Visibility is the storage scope (a job outside it is NOT_FOUND); within
it, every role may manage, so there is no PERMISSION_DENIED here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from server.domain import access, paging
from server.domain.ai_gateway import CallRecord, new_decisions
from server.domain.audit import changes, record
from server.domain.documents import DocumentReader
from server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from server.domain.models import (
    LANGUAGES,
    Caller,
    EntityStatus,
    Job,
    JobFile,
    KeyConcept,
    Page,
    Question,
    QuestionSet,
    QuestionType,
)
from server.domain.ports import UnitOfWork, UowFactory
from server.domain.support import (
    check_etag,
    check_mask,
    fields_of,
    idempotent,
    keyset_page,
    page_of,
)

JOB_FIELDS = frozenset({"title", "description", "required_skills", "domain", "seniority",
                        "required_languages"})
# What the audit log records of a job: never the file's bytes or its extracted text.
AUDITED = JOB_FIELDS | {"department_id", "status", "jd_file_name", "jd_media_type", "jd_sha256"}
MAX_QUESTIONS = 100


def job_not_found() -> NotFound:
    return NotFound("job not found", reason="JOB_NOT_FOUND")


def resource(job: Job) -> str:
    return f"jobs/{job.id}"


def clean_values(values: dict[str, object]) -> dict[str, object]:
    """Trimmed title (required), trimmed optional texts, skills without blanks or repeats."""
    out = dict(values)
    if "title" in out:
        title = str(out["title"] or "").strip()
        if not title:
            raise InvalidArgument("title is required", reason="TITLE_REQUIRED")
        out["title"] = title
    for name in ("description", "domain"):
        if name in out:
            out[name] = str(out[name] or "").strip() or None
    if "required_skills" in out:
        seen: dict[str, str] = {}
        for skill in out["required_skills"] or ():  # type: ignore[attr-defined]
            text = str(skill).strip()
            if text and text.lower() not in seen:
                seen[text.lower()] = text
        out["required_skills"] = tuple(seen.values())
    return out


def check_questions(questions: tuple[Question, ...], default_language: str) -> tuple[Question,
                                                                                      ...]:
    """Ids assigned (q1, q2, ...) where empty and unique; texts in known languages including the
    default one; coding material only on coding questions, and hidden tests on every one."""
    if not questions:
        raise InvalidArgument("a question set needs at least one question",
                              reason="QUESTIONS_REQUIRED")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidArgument(f"at most {MAX_QUESTIONS} questions", reason="TOO_MANY_QUESTIONS")
    if default_language not in LANGUAGES:
        raise InvalidArgument("unknown default language", reason="UNSUPPORTED_LANGUAGE")
    out: list[Question] = []
    ids: set[str] = set()
    for index, q in enumerate(questions, start=1):
        qid = q.id or f"q{index}"
        where = {"question": qid}
        if qid in ids:
            raise InvalidArgument(f"question id {qid} is used twice",
                                  reason="DUPLICATE_QUESTION_ID", metadata=where)
        ids.add(qid)
        if any(lang not in LANGUAGES for lang in q.texts):
            raise InvalidArgument("unknown language", reason="UNSUPPORTED_LANGUAGE",
                                  metadata=where)
        if not (q.texts.get(default_language) or "").strip():
            raise InvalidArgument(f"question {qid} has no text in {default_language}",
                                  reason="DEFAULT_LANGUAGE_TEXT_MISSING", metadata=where)
        if q.type is QuestionType.CODING:
            if not q.hidden_tests:
                raise InvalidArgument(f"coding question {qid} needs hidden test cases",
                                      reason="HIDDEN_TESTS_REQUIRED", metadata=where)
        elif q.starter_code or q.code_language or q.hidden_tests or q.examples:
            raise InvalidArgument(
                f"question {qid} is not a coding question: no starter code, code language, "
                "tests or examples", reason="CODING_FIELDS_NOT_ALLOWED", metadata=where)
        # Keywords without concepts: each keyword is a concept of its own (in any language),
        # so that answers to recruiter-written questions are scored on coverage too.
        concepts = q.concepts or tuple(KeyConcept(name=k, terms={"*": (k,)})
                                       for k in q.keywords)
        out.append(replace(q, id=qid, texts=dict(q.texts), concepts=concepts))
    return tuple(out)


class JobUseCases:
    def __init__(self, uow: UowFactory, documents: DocumentReader) -> None:
        self._uow = uow
        self._documents = documents

    async def _file(self, data: bytes, name: str | None) -> JobFile | None:
        if not data:
            if name:
                raise InvalidArgument("jd_file_name given without a file",
                                      reason="JD_FILE_MISSING")
            return None
        found = await self._documents.read(data)
        return JobFile(data=data, name=(name or "").strip() or None,
                       media_type=found.media_type, sha256=hashlib.sha256(data).hexdigest(),
                       text=found.text)

    async def create_job(self, caller: Caller, department_id: UUID, values: dict[str, object],
                         *, jd_file: bytes, jd_file_name: str | None,
                         request_id: UUID | None, fingerprint: bytes) -> Job:
        p = access.require_principal(caller)
        values = clean_values({**values, "title": values.get("title")})
        if not values.get("description") and not jd_file:
            raise InvalidArgument("a description or a JD file is required",
                                  reason="DESCRIPTION_REQUIRED")
        file = await self._file(jd_file, jd_file_name)

        async def create(uow: UnitOfWork) -> Job:
            dept = await uow.departments.find(p, department_id)
            if dept is None:
                raise NotFound("department not found", reason="DEPARTMENT_NOT_FOUND")
            if dept.status is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the department is inactive",
                                         reason="DEPARTMENT_INACTIVE")
            if await uow.companies.status_of(dept.company_id) is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the company is inactive", reason="COMPANY_INACTIVE")
            job = await uow.jobs.create(company_id=dept.company_id, department_id=dept.id,
                                        values=values, file=file, actor_id=p.user_id)
            await uow.audit.append(record(caller, "job.create", resource(job), job.company_id,
                                          changes(None, fields_of(job, AUDITED))))
            return job

        async def load(uow: UnitOfWork, job_id: UUID) -> Job | None:
            return await uow.jobs.get(p, job_id)

        return await idempotent(self._uow, caller, operation="CreateJob", request_id=request_id,
                                fingerprint=fingerprint, create=create, load=load,
                                ident=lambda j: j.id)

    async def get_job(self, caller: Caller, job_id: UUID) -> Job:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            job = await uow.jobs.get(p, job_id)
        if job is None:
            raise job_not_found()
        return job

    async def list_jobs(self, caller: Caller, *, company_id: UUID | None,
                        department_id: UUID | None, status: EntityStatus | None,
                        title_prefix: str | None, size: int, token: str) -> Page[Job]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {"company_id": company_id, "department_id": department_id,
                                      "status": status, "title_prefix": title_prefix}

        async def fetch(uow: UnitOfWork, after: paging.Cursor | None, limit: int) -> list[Job]:
            return await uow.jobs.list(p, company_id=company_id, department_id=department_id,
                                       status=status, title_prefix=title_prefix, after=after,
                                       limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda j: paging.Cursor(j.created_at, str(j.id)))

    async def update_job(self, caller: Caller, job_id: UUID, values: dict[str, object],
                         etag: str) -> Job:
        p = access.require_principal(caller)
        check_mask(values, JOB_FIELDS)
        values = clean_values(values)
        async with self._uow() as uow:
            before = await uow.jobs.get(p, job_id, for_update=True)
            if before is None:
                raise job_not_found()
            check_etag(etag, before.version)
            after = await uow.jobs.update(job_id, values, p.user_id)
            await uow.audit.append(record(caller, "job.update", resource(after),
                                          after.company_id,
                                          changes(fields_of(before, JOB_FIELDS),
                                                  fields_of(after, JOB_FIELDS))))
            return after

    async def set_job_status(self, caller: Caller, job_id: UUID, status: EntityStatus,
                             etag: str) -> Job:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            before = await uow.jobs.get(p, job_id, for_update=True)
            if before is None:
                raise job_not_found()
            check_etag(etag, before.version)
            if before.status is status:
                return before
            after = await uow.jobs.update(job_id, {"status": status}, p.user_id)
            action = "job.deactivate" if status is EntityStatus.INACTIVE else "job.reactivate"
            await uow.audit.append(record(caller, action, resource(after), after.company_id,
                                          changes({"status": before.status},
                                                  {"status": after.status})))
            return after

    # --- question sets -----------------------------------------------------------------

    async def create_question_set(self, caller: Caller, job_id: UUID,
                                  questions: tuple[Question, ...], default_language: str, *,
                                  request_id: UUID | None, fingerprint: bytes,
                                  records: Sequence[CallRecord] = (),
                                  stored_ids: list[UUID] | None = None) -> QuestionSet:
        """Store the next version. `records` are the AI calls that made the questions: stored
        as decision records in the same transaction (their ids appended to `stored_ids`)."""
        p = access.require_principal(caller)
        checked = check_questions(questions, default_language)

        async def create(uow: UnitOfWork) -> QuestionSet:
            # The job's row lock serialises concurrent versions of the same job.
            job = await uow.jobs.get(p, job_id, for_update=True)
            if job is None:
                raise job_not_found()
            if job.status is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the job is inactive", reason="JOB_INACTIVE")
            version = job.question_set_version + 1
            created = await uow.question_sets.create(
                job_id=job_id, version=version, default_language=default_language,
                questions=checked, actor_id=p.user_id)
            await uow.jobs.update(job_id, {"question_set_version": version}, p.user_id,
                                  bump=False)
            if records:
                ids = await uow.decisions.add_many(new_decisions(
                    records, company_id=job.company_id, department_id=job.department_id,
                    job_id=job.id))
                if stored_ids is not None:
                    stored_ids[:] = ids
            await uow.audit.append(record(
                caller, "question_set.create", f"jobs/{job_id}/questionSets/{version}",
                job.company_id, changes(None, {"version": version,
                                               "questions": len(checked),
                                               "default_language": default_language})))
            return created

        async def load(uow: UnitOfWork, key: UUID) -> QuestionSet | None:
            if await uow.jobs.get(p, job_id) is None:
                return None
            # The idempotency table keeps a UUID: the version is its low bits.
            return await uow.question_sets.get(job_id, key.int & 0xFFFFFFFF)

        return await idempotent(self._uow, caller, operation=f"CreateQuestionSet:{job_id}",
                                request_id=request_id, fingerprint=fingerprint, create=create,
                                load=load, ident=lambda s: UUID(int=s.version))

    async def get_question_set(self, caller: Caller, job_id: UUID, version: int) -> QuestionSet:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            job = await uow.jobs.get(p, job_id)
            if job is None:
                raise job_not_found()
            wanted = version or job.question_set_version
            found = await uow.question_sets.get(job_id, wanted) if wanted else None
        if found is None:
            raise NotFound("question set not found", reason="QUESTION_SET_NOT_FOUND")
        return found

    async def list_question_sets(self, caller: Caller, job_id: UUID, *, size: int,
                                 token: str) -> Page[QuestionSet]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {"job_id": job_id}
        after = paging.decode(token, filters)
        try:
            after_version = int(after.key) if after else 0
        except ValueError as exc:
            raise InvalidArgument("page_token is not valid",
                                  reason="INVALID_PAGE_TOKEN") from exc
        limit = paging.page_size(size)
        async with self._uow() as uow:
            if await uow.jobs.get(p, job_id) is None:
                raise job_not_found()
            rows = await uow.question_sets.list(job_id, after_version=after_version,
                                                limit=limit + 1)
        return page_of(rows, limit, filters,
                       lambda s: paging.Cursor(s.created_at, str(s.version)))
