"""The curated question bank of the local AI provider (server/providers/ai/bank/*.json).

Every file is one domain ("python", "system-design", ...) with questions written in all 12
interview languages: text, expected answer, key concepts with their words per language, a
rubric and, for coding questions, starter code, examples and hidden tests per code language.
`load_bank()` reads them once through importlib.resources, checks each entry
(`check_entry` - the same rules the bank test enforces) and indexes the usable ones by domain,
difficulty and skill. Entries with problems are left out and listed in `Bank.problems`, so a
broken file never takes the provider down.

`domains_for()` maps what a recruiter wrote (skills such as "TypeScript" or "k8s", a job title
such as "Senior Data Scientist") to bank domains through a synonym table plus the skills each
bank file declares. `to_question()` turns an entry into a domain `Question` for the languages of
a question set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from server.domain.models import (
    LANGUAGES,
    Difficulty,
    KeyConcept,
    Question,
    QuestionType,
    RubricCriterion,
    TestCase,
)
from server.providers.ai import textmatch

RUBRIC = (("technical_accuracy", 50.0), ("depth", 30.0), ("clarity", 20.0))
CODE_LANGUAGES = ("python", "javascript")
BEHAVIORAL = "behavioral"
CODING = "coding"

# Free-text skill / title words -> bank domains (lower case; matched on word boundaries).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "python": ("python", "py", "django", "flask", "fastapi", "asyncio", "pytest", "cpython"),
    "javascript": (
        "javascript",
        "js",
        "typescript",
        "ts",
        "ecmascript",
        "es6",
        "frontend",
        "front-end",
        "front end",
        "web developer",
    ),
    "nodejs": ("node", "nodejs", "node.js", "express", "nestjs", "npm", "deno", "backend js"),
    "react": ("react", "reactjs", "react.js", "next.js", "nextjs", "redux", "react native"),
    "java": ("java", "spring", "spring boot", "jvm", "kotlin", "hibernate", "maven", "gradle"),
    "devops": (
        "devops",
        "docker",
        "kubernetes",
        "k8s",
        "terraform",
        "ci/cd",
        "cicd",
        "aws",
        "gcp",
        "azure",
        "sre",
        "site reliability",
        "linux",
        "ansible",
        "helm",
        "cloud",
        "platform engineer",
    ),
    "system-design": (
        "system design",
        "architecture",
        "architect",
        "distributed systems",
        "microservices",
        "scalability",
        "backend",
        "back-end",
        "back end",
        "caching",
        "databases",
        "sql",
    ),
    "data-science": (
        "data science",
        "data scientist",
        "machine learning",
        "ml",
        "pandas",
        "numpy",
        "statistics",
        "data analysis",
        "data analyst",
        "scikit-learn",
        "sklearn",
        "deep learning",
        "pytorch",
        "tensorflow",
        "analytics",
        "ai engineer",
    ),
    BEHAVIORAL: (
        "behavioral",
        "behavioural",
        "soft skills",
        "leadership",
        "communication",
        "teamwork",
        "management",
        "manager",
    ),
    CODING: ("algorithms", "data structures", "coding", "problem solving", "leetcode"),
}
JS_DOMAINS = frozenset({"javascript", "nodejs", "react"})


class BankError(Exception):
    """The bank cannot be read at all (no files)."""


@dataclass(frozen=True, slots=True)
class BankEntry:
    domain: str
    id: str
    difficulty: Difficulty
    type: QuestionType
    skills: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(slots=True)
class Bank:
    entries: dict[str, BankEntry]
    by_domain: dict[str, list[BankEntry]]
    domain_skills: dict[str, tuple[str, ...]]
    problems: list[str]

    def in_domain(self, domain: str, difficulty: Difficulty | None = None) -> list[BankEntry]:
        found = self.by_domain.get(domain, [])
        return [e for e in found if difficulty is None or e.difficulty == difficulty]

    def with_skill(self, skill: str) -> list[BankEntry]:
        wanted = skill.strip().lower()
        return [e for e in self.entries.values() if wanted in e.skills]


# --- loading ----------------------------------------------------------------------------------


def bank_files() -> dict[str, dict[str, Any]]:
    """Every bank/*.json as parsed JSON, by file name."""
    folder = resources.files("server.providers.ai").joinpath("bank")
    files: dict[str, dict[str, Any]] = {}
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith(".json"):
            files[item.name] = json.loads(item.read_text("utf-8"))
    return files


@lru_cache(maxsize=1)
def load_bank() -> Bank:
    """Read, check and index the bank (once per process)."""
    files = bank_files()
    if not files:
        raise BankError("no question bank files")
    bank = Bank(entries={}, by_domain={}, domain_skills={}, problems=[])
    for name, data in files.items():
        domain = str(data.get("domain", name.removesuffix(".json")))
        bank.domain_skills[domain] = tuple(str(s).lower() for s in data.get("skills", ()))
        for raw in data.get("questions", ()):
            _add(bank, name, domain, raw)
    return bank


def _add(bank: Bank, name: str, domain: str, raw: dict[str, Any]) -> None:
    problems = check_entry(raw)
    qid = str(raw.get("id", "?"))
    if qid in bank.entries:
        problems.append("duplicate id")
    if problems:
        bank.problems.extend(f"{name}: {qid}: {p}" for p in problems)
        return
    entry = BankEntry(
        domain=domain,
        id=qid,
        difficulty=Difficulty(raw["difficulty"]),
        type=QuestionType(raw["type"]),
        skills=tuple(str(s).lower() for s in raw.get("skills", ())),
        raw=raw,
    )
    bank.entries[qid] = entry
    bank.by_domain.setdefault(domain, []).append(entry)


def check_entry(raw: dict[str, Any]) -> list[str]:
    """Everything wrong with one bank entry (empty when it is fine)."""
    problems: list[str] = []
    if raw.get("difficulty") not in {d.value for d in Difficulty}:
        problems.append(f"difficulty {raw.get('difficulty')!r}")
    if raw.get("type") not in {t.value for t in QuestionType}:
        problems.append(f"type {raw.get('type')!r}")
    for key in ("text", "expected_answer"):
        problems += [f"{key}[{lang}] empty" for lang in _missing_languages(raw.get(key))]
    problems += _check_rubric(raw.get("rubric"))
    problems += _check_concepts(raw)
    if raw.get("type") == "coding":
        problems += _check_coding(raw)
    return problems


def _missing_languages(texts: object) -> list[str]:
    if not isinstance(texts, dict):
        return list(LANGUAGES)
    return [lang for lang in LANGUAGES if not str(texts.get(lang, "")).strip()]


def _check_rubric(rubric: object) -> list[str]:
    if not isinstance(rubric, list):
        return ["rubric missing"]
    got = tuple((str(c.get("name")), float(c.get("weight", 0))) for c in rubric)
    problems = [] if got == RUBRIC else [f"rubric {got} is not {RUBRIC}"]
    for criterion in rubric:
        missing = _missing_languages(criterion.get("description"))
        problems += [
            f"rubric {criterion.get('name')} description[{lang}] empty" for lang in missing
        ]
    return problems


def _check_concepts(raw: dict[str, Any]) -> list[str]:
    concepts = raw.get("concepts")
    if not isinstance(concepts, list):
        return ["concepts missing"]
    low, high = (2, 4) if raw.get("type") == "coding" else (3, 6)
    problems = (
        [] if low <= len(concepts) <= high else [f"{len(concepts)} concepts, want {low}-{high}"]
    )
    given = raw.get("expected_answer")
    expected: dict[str, Any] = given if isinstance(given, dict) else {}
    for concept in concepts:
        terms = concept.get("terms", {})
        for lang in LANGUAGES:
            words = list(terms.get(lang, ())) + list(terms.get("*", ()))
            if textmatch.find_term(str(expected.get(lang, "")), words) is None:
                problems.append(
                    f"concept {concept.get('name')!r} not found in expected_answer[{lang}] "
                    f"(terms {words})"
                )
    return problems


def _check_coding(raw: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    starter = raw.get("starter_code") or {}
    problems += [
        f"starter_code[{lang}] missing" for lang in CODE_LANGUAGES if not starter.get(lang)
    ]
    if len(raw.get("examples") or ()) < 1:
        problems.append("no examples")
    if len(raw.get("hidden_tests") or ()) < 3:
        problems.append("fewer than 3 hidden tests")
    return problems


# --- mapping job words to domains -------------------------------------------------------------


def domains_for(
    skills: Iterable[str], title: str = "", domain: str | None = None, bank: Bank | None = None
) -> list[str]:
    """Bank domains for a job, most specific first (explicit domain, then skills, then title).
    Behavioral and coding are never returned unless asked for by name."""
    known = set((bank or load_bank()).by_domain)
    found: list[str] = []
    if domain and domain.strip().lower() in known:
        found.append(domain.strip().lower())
    for text in [*skills, title]:
        for name in _match_domains(text, bank or load_bank()):
            if name in known and name not in found:
                found.append(name)
    return found


def _match_domains(text: str, bank: Bank) -> list[str]:
    lowered = " ".join(text.lower().split())
    if not lowered:
        return []
    found: list[str] = []
    for name, words in SYNONYMS.items():
        if any(_has_phrase(lowered, w) for w in words):
            found.append(name)
    for name, words in bank.domain_skills.items():
        if name not in found and any(_has_phrase(lowered, w) for w in words):
            found.append(name)
    return found


def _has_phrase(text: str, phrase: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(phrase) + r"(?![\w])", text) is not None


def code_language_for(skills: Iterable[str], domains: Iterable[str]) -> str:
    """javascript when the job is about JavaScript / TypeScript / Node / React, else python."""
    doms = set(domains)
    words = " ".join(skills).lower()
    if doms & JS_DOMAINS:
        return "javascript"
    js_words = ("javascript", "typescript", "js", "ts", "node")
    if "python" not in doms and any(_has_phrase(words, w) for w in js_words):
        return "javascript"
    return "python"


# --- entry -> Question ------------------------------------------------------------------------


def to_question(entry: BankEntry, languages: tuple[str, ...], code_language: str = "") -> Question:
    """The entry as a domain Question in `languages` (the first is the set's default)."""
    raw = entry.raw
    langs = tuple(lang for lang in languages if lang in raw["text"]) or ("en",)
    default = langs[0]
    concepts = tuple(
        KeyConcept(
            name=str(c["name"]),
            terms={k: tuple(v) for k, v in c.get("terms", {}).items() if k == "*" or k in langs},
        )
        for c in raw.get("concepts", ())
    )
    question = Question(
        id=entry.id,
        type=entry.type,
        difficulty=entry.difficulty,
        texts={lang: raw["text"][lang] for lang in langs},
        expected_answer=raw["expected_answer"][default],
        keywords=tuple(c.name for c in concepts),
        rubric=tuple(
            RubricCriterion(
                name=str(c["name"]),
                description=str(c.get("description", {}).get(default, "")),
                weight=float(c["weight"]),
            )
            for c in raw.get("rubric", ())
        ),
        expected_answers={lang: raw["expected_answer"][lang] for lang in langs[1:]},
        concepts=concepts,
        source=f"bank:{entry.id}",
    )
    if entry.type != QuestionType.CODING:
        return question
    return _with_code(question, raw, code_language or "python")


def _with_code(question: Question, raw: dict[str, Any], code_language: str) -> Question:
    starter = raw.get("starter_code") or {}
    lang = code_language if code_language in starter else next(iter(starter), code_language)
    from dataclasses import replace

    return replace(
        question,
        starter_code=str(starter.get(lang, "")),
        code_language=lang,
        examples=tuple(_case(c) for c in raw.get("examples", ())),
        hidden_tests=tuple(_case(c) for c in raw.get("hidden_tests", ())),
    )


def _case(raw: dict[str, Any]) -> TestCase:
    return TestCase(
        input=str(raw.get("input", "")), expected_output=str(raw.get("expected_output", ""))
    )
