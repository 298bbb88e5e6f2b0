"""The matcher on real files read by the real reader: ordering (fitting > partial > unrelated),
hidden stuffing and AI-directed text never helping, experience bands, semantic spread,
determinism."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from server.domain.models import EntityStatus, Job, Seniority
from server.domain.resume_models import ResumeDocument, ResumeMatch, ResumeProfile
from server.providers.resume.extract import extract_profile
from server.providers.resume.matcher import BANDS, ResumeMatcher, experience_fit
from server.providers.resume.reader import ResumeReader
from tests import resume_files as rf
from tests.api.test_resumes import PARTIAL

SKILLS = ("Python", "Kubernetes", "PostgreSQL", "AWS", "Docker", "Go")


def job(*, skills: Sequence[str] = ("python", "k8s", "Postgres", "AWS", "Docker", "golang"),
        seniority: Seniority | None = Seniority.SENIOR, title: str = "Senior Backend Engineer",
        description: str = "Build and run Python backend services on Kubernetes.") -> Job:
    now = datetime.now(UTC)
    return Job(id=uuid.uuid4(), company_id=uuid.uuid4(), department_id=uuid.uuid4(),
               title=title, description=description, required_skills=tuple(skills),
               domain=None, seniority=seniority, status=EntityStatus.ACTIVE, version=1,
               question_set_version=1, created_at=now, updated_at=now)


@pytest.fixture(scope="module")
def matcher() -> ResumeMatcher:
    return ResumeMatcher()


async def read(data: bytes) -> tuple[ResumeProfile, ResumeDocument]:
    document = await ResumeReader().read(data)
    return extract_profile(document), document


async def scores(matcher: ResumeMatcher, target: Job,
                 files: dict[str, bytes]) -> dict[str, ResumeMatch]:
    items = [await read(data) for data in files.values()]
    return dict(zip(files, await matcher.match_many(target, items), strict=True))


async def test_fitting_above_partial_above_unrelated(matcher: ResumeMatcher) -> None:
    found = await scores(matcher, job(), {
        "fitting": rf.text_pdf(rf.ENGLISH_ENGINEER), "spanish": rf.docx_resume(
            rf.SPANISH_ENGINEER), "partial": rf.txt_resume(PARTIAL),
        "unrelated": rf.txt_resume(rf.UNRELATED_CHEF), "weak": rf.weak_stuffed_pdf()})
    s = {k: v.score for k, v in found.items()}
    assert s["fitting"] > s["partial"] > s["unrelated"], s
    assert s["spanish"] > s["partial"], s
    assert s["fitting"] > s["weak"] + 50, s
    assert found["weak"].flagged and not found["fitting"].flagged
    assert found["fitting"].matched_skills == SKILLS and not found["fitting"].missing_skills
    assert set(found["partial"].matched_skills) == {"Python", "Docker"}
    sem = {k: v.semantic_similarity for k, v in found.items()}
    assert sem["fitting"] > sem["partial"] > sem["unrelated"] + 20, sem
    assert all(0 <= v.score <= 100 for v in found.values())


async def test_hidden_keyword_stuffing_never_counts(matcher: ResumeMatcher) -> None:
    """The weak resume's white text lists every required skill: the score is that of the
    visible resume alone, minus the penalty for content aimed at the score."""
    target = job()
    weak = await scores(matcher, target, {
        "stuffed": rf.weak_stuffed_pdf(), "plain": rf.text_pdf(rf.WEAK_VISIBLE)})
    assert weak["stuffed"].matched_skills == () and weak["plain"].matched_skills == ()
    assert weak["stuffed"].score <= weak["plain"].score - 15
    assert "hidden" in weak["stuffed"].explanation.lower()
    assert not weak["plain"].flagged


async def test_instructions_to_an_ai_lower_the_score(matcher: ResumeMatcher) -> None:
    found = await scores(matcher, job(), {
        "honest": rf.text_pdf(rf.UNRELATED_CHEF),
        "injected": rf.text_pdf(rf.UNRELATED_CHEF, injection=rf.INJECTION_EN)})
    assert found["injected"].flagged
    assert found["injected"].score < found["honest"].score or found["honest"].score < 20


async def test_job_skills_from_the_description_when_none_are_listed(
        matcher: ResumeMatcher) -> None:
    target = job(skills=(), description="We need Python, Django and PostgreSQL experience.")
    found = await scores(matcher, target, {"es": rf.txt_resume(rf.SPANISH_ENGINEER),
                                           "chef": rf.txt_resume(rf.UNRELATED_CHEF)})
    assert set(found["es"].matched_skills) >= {"Python", "Django", "PostgreSQL"}
    assert "job skills" in found["es"].explanation
    assert found["es"].score > found["chef"].score + 40


@pytest.mark.parametrize(("years", "seniority", "fit"), [
    (0.0, Seniority.INTERN, 100), (1.5, Seniority.JUNIOR, 100), (6.0, Seniority.JUNIOR, 60),
    (1.0, Seniority.MID, 50), (3.0, Seniority.MID, 100), (2.5, Seniority.SENIOR, 50),
    (12.0, Seniority.SENIOR, 100), (7.0, Seniority.LEAD, 100), (5.0, Seniority.PRINCIPAL, 50),
    (20.0, Seniority.MID, 50),
])
def test_experience_bands(years: float, seniority: Seniority, fit: float) -> None:
    assert experience_fit(years, BANDS[seniority]) == pytest.approx(fit)


async def test_experience_fit_follows_the_seniority(matcher: ResumeMatcher) -> None:
    document = await read(rf.txt_resume(rf.ENGLISH_ENGINEER))
    [junior] = await matcher.match_many(job(seniority=Seniority.JUNIOR), [document])
    [principal] = await matcher.match_many(job(seniority=Seniority.PRINCIPAL), [document])
    assert junior.experience_fit == 50.0     # 10.5 years for 0-2
    assert principal.experience_fit == 100.0


async def test_matching_is_deterministic(matcher: ResumeMatcher) -> None:
    target = job()
    files = {"a": rf.txt_resume(rf.ENGLISH_ENGINEER), "b": rf.txt_resume(PARTIAL)}
    first = await scores(matcher, target, files)
    second = await scores(ResumeMatcher(), target, files)
    assert first == second
