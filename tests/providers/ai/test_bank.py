"""The question bank: the rules every bank/*.json file must follow, the loader, the mapping of
job words to domains, the conversion of entries into Questions, and the term matcher they share.

Each rule failure names the file, the question id and the language at fault."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from server.domain.models import Difficulty, QuestionType
from server.providers.ai import bank as bank_mod
from server.providers.ai import textmatch
from server.providers.ai.bank import (
    Bank,
    BankEntry,
    code_language_for,
    domains_for,
    load_bank,
    to_question,
)

DOMAINS = (
    "python", "javascript", "java", "react", "nodejs", "devops", "system-design",
    "data-science", "behavioral", "coding",
)  # fmt: skip


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, Any]]:
    return bank_mod.bank_files()


def test_every_domain_has_a_file(files: dict[str, dict[str, Any]]) -> None:
    present = {str(data.get("domain")) for data in files.values()}
    missing = [d for d in DOMAINS if d not in present]
    assert not missing, f"bank files missing for domains: {missing} (present: {sorted(present)})"


def test_enough_questions_per_difficulty(files: dict[str, dict[str, Any]]) -> None:
    short = []
    for name, data in files.items():
        need = 3 if data.get("domain") == "coding" else 6
        counts = Counter(q.get("difficulty") for q in data.get("questions", ()))
        short += [
            f"{name}: {level.value} has {counts[level.value]} questions, needs {need}"
            for level in Difficulty
            if counts[level.value] < need
        ]
    assert not short, "\n".join(short)


def test_ids_are_unique_across_files(files: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    clashes = []
    for name, data in files.items():
        for q in data.get("questions", ()):
            qid = str(q.get("id"))
            if qid in seen:
                clashes.append(f"{qid} in {seen[qid]} and {name}")
            seen[qid] = name
    assert seen, "no questions at all"
    assert not clashes, "\n".join(clashes)


def test_every_entry_follows_the_rules(files: dict[str, dict[str, Any]]) -> None:
    """12 languages for text, expected answer and rubric, rubric 50/30/20, 3-6 concepts (coding
    2-4) each findable in the expected answer in every language, coding extras."""
    problems = [
        f"{name}: {q.get('id')}: {problem}"
        for name, data in files.items()
        for q in data.get("questions", ())
        for problem in bank_mod.check_entry(q)
    ]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_loader_indexes_what_the_files_hold(files: dict[str, dict[str, Any]]) -> None:
    loaded = load_bank()
    total = sum(len(d.get("questions", ())) for d in files.values())
    assert len(loaded.entries) + len(loaded.problems) >= total
    for domain, entries in loaded.by_domain.items():
        assert entries and all(e.domain == domain for e in entries)
        for level in Difficulty:
            assert all(e.difficulty == level for e in loaded.in_domain(domain, level))
    some = next(iter(loaded.entries.values()))
    if some.skills:
        assert some in loaded.with_skill(some.skills[0].upper())


# --- domain mapping -----------------------------------------------------------------------------


def _bank_with(domains: tuple[str, ...], skills: dict[str, tuple[str, ...]] | None = None) -> Bank:
    return Bank(
        entries={},
        by_domain={d: [] for d in domains},
        domain_skills=skills or {},
        problems=[],
    )


@pytest.mark.parametrize(
    ("skills", "title", "expected"),
    [
        (("TypeScript",), "", "javascript"),
        (("k8s", "Terraform"), "", "devops"),
        (("Node.js",), "", "nodejs"),
        (("Spring Boot",), "", "java"),
        ((), "Senior Data Scientist", "data-science"),
        (("ReactJS",), "", "react"),
        (("Django",), "", "python"),
        (("Distributed systems",), "", "system-design"),
    ],
)
def test_job_words_map_to_domains(skills: tuple[str, ...], title: str, expected: str) -> None:
    assert expected in domains_for(skills, title, None, _bank_with(DOMAINS))


def test_explicit_domain_comes_first_and_unknown_words_map_to_nothing() -> None:
    bank = _bank_with(DOMAINS, {"python": ("airflow",)})
    assert domains_for(("Java",), "", "devops", bank)[0] == "devops"
    assert domains_for(("Airflow",), "", None, bank) == ["python"]
    assert domains_for(("cooking", "gardening"), "Chef", None, bank) == []
    assert "java" not in domains_for(("JavaScript",), "", None, bank)


def test_code_language_follows_the_skills() -> None:
    assert code_language_for(("TypeScript",), []) == "javascript"
    assert code_language_for(("Express",), ["nodejs"]) == "javascript"
    assert code_language_for(("Python", "SQL"), ["python"]) == "python"
    assert code_language_for(("Go",), []) == "python"


# --- entry -> Question --------------------------------------------------------------------------


def _raw(qtype: str = "technical") -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "demo-easy-1",
        "difficulty": "easy",
        "type": qtype,
        "skills": ["demo"],
        "text": {"en": "What is X?", "es": "¿Qué es X?", "de": "Was ist X?"},
        "expected_answer": {
            "en": "X is mutable.",
            "es": "X es mutable.",
            "de": "X ist veränderbar.",
        },
        "concepts": [
            {
                "name": "mutability",
                "terms": {"*": ["mutable"], "de": ["veränderbar"], "ja": ["変更"]},
            }
        ],
        "rubric": [
            {
                "name": "technical_accuracy",
                "weight": 50,
                "description": {"en": "Right", "es": "Correcto"},
            },
            {"name": "depth", "weight": 30, "description": {"en": "Deep", "es": "Profundo"}},
            {"name": "clarity", "weight": 20, "description": {"en": "Clear", "es": "Claro"}},
        ],
    }
    if qtype == "coding":
        raw["starter_code"] = {
            "python": "def f(x):\n    pass\n",
            "javascript": "function f(x) {}\n",
        }
        raw["examples"] = [{"input": "1", "expected_output": "2"}]
        raw["hidden_tests"] = [{"input": str(i), "expected_output": str(i + 1)} for i in range(3)]
    return raw


def _entry(raw: dict[str, Any]) -> BankEntry:
    return BankEntry(
        domain="demo",
        id=raw["id"],
        difficulty=Difficulty(raw["difficulty"]),
        type=QuestionType(raw["type"]),
        skills=("demo",),
        raw=raw,
    )


def test_entry_becomes_a_question_in_the_chosen_languages() -> None:
    q = to_question(_entry(_raw()), ("es", "en"))
    assert q.texts == {"es": "¿Qué es X?", "en": "What is X?"}
    assert q.expected_answer == "X es mutable."
    assert q.expected_answers == {"en": "X is mutable."}
    assert q.keywords == ("mutability",)
    assert q.concepts[0].terms == {"*": ("mutable",)}  # only the chosen languages and "*"
    assert [(c.name, c.weight, c.description) for c in q.rubric] == [
        ("technical_accuracy", 50.0, "Correcto"),
        ("depth", 30.0, "Profundo"),
        ("clarity", 20.0, "Claro"),
    ]
    assert q.source == "bank:demo-easy-1"
    assert q.starter_code == "" and q.hidden_tests == ()


def test_coding_entry_carries_code_for_the_chosen_language() -> None:
    q = to_question(_entry(_raw("coding")), ("en",), "javascript")
    assert q.type == QuestionType.CODING
    assert q.code_language == "javascript"
    assert q.starter_code.startswith("function f")
    assert [(t.input, t.expected_output) for t in q.examples] == [("1", "2")]
    assert len(q.hidden_tests) == 3
    assert to_question(_entry(_raw("coding")), ("en",), "python").starter_code.startswith("def f")


def test_checker_names_what_is_wrong() -> None:
    raw = _raw("coding")
    raw["hidden_tests"] = raw["hidden_tests"][:1]
    raw["rubric"][1]["weight"] = 40
    problems = bank_mod.check_entry(raw)
    assert "fewer than 3 hidden tests" in problems
    assert any(p.startswith("rubric (") for p in problems)
    assert "text[fr] empty" in problems  # the demo entry has only en/es/de
    assert any("not found in expected_answer[fr]" in p for p in problems)
    assert not any("expected_answer[de] (" in p for p in problems)  # "veränderbar" is there


# --- term matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms", "found"),
    [
        ("A list is Mutable.", ["mutable"], True),
        ("On peut le modifier.", ["modifi"], True),  # stems find inflected forms
        ("Список изменяемый.", ["изменяем"], True),
        ("die Ausführungsreihenfolge", ["Reihenfolge"], True),  # German compounds
        ("two keys and lagged features", ["lag"], True),  # short term + up to 3 letters
        ("Keyboards everywhere", ["key"], False),  # ... but not more
        ("The flag is set", ["lag"], False),  # short terms start at a word boundary
        ("MSW를 사용합니다.", ["MSW"], True),  # Korean particles may follow
        ("列表是可变的。", ["可变"], True),
        ("यह परिवर्तनशील है।", ["परिवर्तनशील"], True),
        ("القائمة قابلة للتعديل", ["قابلة للتعديل"], True),
        ("use a key here", ["keyboard"], False),
    ],
)
def test_term_matching_rules(text: str, terms: list[str], found: bool) -> None:
    assert (textmatch.find_term(text, terms) is not None) is found


def test_sentences_keep_offsets_and_quotes_are_verbatim() -> None:
    text = "First point, e.g. this one. 这是第二个句子\uff0c稍微长一些。  Third sentence here!\nOk."
    spans = textmatch.sentences(text)
    pieces = [text[s.start : s.end] for s in spans]
    assert pieces[0] == "First point, e.g. this one."
    assert pieces[1] == "这是第二个句子\uff0c稍微长一些。"
    assert pieces[-1] == "Third sentence here!\nOk."  # the short fragment joins its neighbour
    long = "word " * 200
    q = textmatch.quote(long, textmatch.Span(0, len(long)), textmatch.Span(500, 504))
    assert len(q) <= textmatch.MAX_QUOTE and q in long
