# ruff: noqa: RUF001  (dashes and scripts of the 12 languages on purpose)
"""Profile extraction and the skills taxonomy: synonyms, word boundaries, dates in the 12
languages, merged years, education, spoken languages, the resume's language."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest

from server.domain.resume_models import FlagKind, ResumeDocument, ResumeFlag
from server.providers.resume.extract import date_range, extract_profile, total_years
from server.providers.resume.taxonomy import DATA, taxonomy
from tests import resume_files as rf

TODAY = date(2026, 11, 30)


def document(text: str | tuple[str, ...], **kw: object) -> ResumeDocument:
    body = text if isinstance(text, str) else "\n".join(text)
    return ResumeDocument(text=body, media_type="text/plain",
                          sha256=hashlib.sha256(body.encode()).hexdigest(), page_count=1,
                          ocr=False, **kw)  # type: ignore[arg-type]


# --- taxonomy ----------------------------------------------------------------------------------

def test_the_taxonomy_has_enough_canonical_skills_and_no_ambiguous_alias() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert len(taxonomy()) >= 150
    categories = {s["category"] for s in data["skills"]}
    assert {"language", "framework", "cloud", "data", "devops", "soft"} <= categories
    seen: dict[str, str] = {}
    for skill in data["skills"]:
        for alias in [*skill["aliases"], *skill.get("strict", [])]:
            assert alias.lower() not in seen, (alias, skill["name"], seen.get(alias.lower()))
            seen[alias.lower()] = skill["name"]


@pytest.mark.parametrize(("written", "canonical"), [
    ("JS", "JavaScript"), ("ECMAScript", "JavaScript"), ("TS", "TypeScript"),
    ("k8s", "Kubernetes"), ("Postgres", "PostgreSQL"), ("psql", "PostgreSQL"),
    ("GCP", "Google Cloud"), ("ML", "Machine Learning"), ("React.js", "React"),
    ("ReactJS", "React"), ("node", "Node.js"), ("Node.js", "Node.js"), ("C#", "C#"),
    ("csharp", "C#"), ("C++", "C++"), ("cpp", "C++"), ("golang", "Go"), ("Go", "Go"),
    ("AWS", "AWS"), ("Docker", "Docker"), ("Terraform", "Terraform"),
    ("aprendizaje automático", "Machine Learning"), ("machine-learning", "Machine Learning"),
    ("机器学习", "Machine Learning"), (".NET", ".NET"), ("scikit-learn", "scikit-learn"),
])
def test_synonyms_and_abbreviations_map_to_one_canonical_skill(written: str,
                                                              canonical: str) -> None:
    assert taxonomy().canonical(written) == canonical
    assert canonical in taxonomy().find(f"Skills: {written}, Linux")


def test_matching_respects_word_boundaries_and_english_words() -> None:
    found = taxonomy().find(
        "Go to market plans. Let's go! R&D budget approved by R. Smith in Spring 2019; "
        "its JavaScript. Java too. The rest of the team.")
    assert "Go" not in found and "R" not in found and "Spring" not in found
    assert "TypeScript" not in found and "REST APIs" not in found
    assert found["JavaScript"] == ["JavaScript"] and found["Java"] == ["Java"]
    listed = taxonomy().find("Languages: Go, R and C.\nFrameworks: Spring Boot, REST APIs")
    assert {"Go", "R", "C", "Spring", "REST APIs"} <= set(listed)


def test_unknown_job_skills_are_kept_as_written() -> None:
    assert taxonomy().normalize(["k8s", "Kubernetes", "Widget tuning", " "]) == [
        "Kubernetes", "Widget tuning"]


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "start", "end"), [
    ("Engineer, Acme - Jan 2019 - Present", (2019, 1), None),
    ("Ingeniero, Telefónica - marzo 2020 - actualidad", (2020, 3), None),
    ("Développeur, Capgemini, septembre 2017 – aujourd'hui", (2017, 9), None),
    ("Entwickler, SAP AG, 03/2015 - heute", (2015, 3), None),
    ("Engenheiro, Nubank, janeiro de 2018 até atual", (2018, 1), None),
    ("Sviluppatore, Eni, maggio 2016 - attuale", (2016, 5), None),
    ("Разработчик, Яндекс, сентябрь 2018 — по настоящее время", (2018, 9), None),
    ("软件工程师 阿里巴巴 2019年3月 - 至今", (2019, 3), None),
    ("ソフトウェアエンジニア 2017年4月 ~ 現在", (2017, 4), None),
    ("소프트웨어 엔지니어 2020.05 - 현재", (2020, 5), None),
    ("مهندس برمجيات 2016 - حتى الآن", (2016, 0), None),
    ("सॉफ्टवेयर इंजीनियर 2019 - वर्तमान", (2019, 0), None),
    ("Analyst, Bank, 2015 - 2018", (2015, 0), (2018, 0)),
    ("Dev, Shop, Jun 2016 - Dec 2018", (2016, 6), (2018, 12)),
    ("Consultant 2012/04 – 2014/10", (2012, 4), (2014, 10)),
    ("Engineer since 2021", (2021, 0), None),
])
def test_date_ranges_in_many_formats_and_languages(line: str, start: tuple[int, int],
                                                   end: tuple[int, int] | None) -> None:
    found = date_range(line, TODAY)
    assert found is not None, line
    begin, stop, _, _ = found
    assert begin[:2] == start
    if end is None:
        assert stop[2], line
    else:
        assert stop[:2] == end and not stop[2]


def test_total_years_count_overlapping_jobs_once() -> None:
    assert total_years([(2010 * 12, 2014 * 12), (2012 * 12, 2016 * 12),
                        (2018 * 12, 2019 * 12)]) == 7.0
    assert total_years([]) == 0.0


# --- profiles --------------------------------------------------------------------------------

def test_english_profile() -> None:
    p = extract_profile(document(rf.ENGLISH_ENGINEER), today=TODAY)
    assert p.name == "Alice Johnson"
    assert p.emails == ("alice.johnson@example.com",)
    assert p.phones == ("+14155550134",)
    assert p.links == ("github.com/alicej",)
    assert [(e.title, e.organization, e.start, e.end, e.current) for e in p.experience] == [
        ("Senior Software Engineer", "Acme Cloud Inc.", "2019-01", "", True),
        ("Software Engineer", "DataWorks LLC", "2016-06", "2018-12", False)]
    assert p.total_years == 10.5
    assert [(e.degree, e.institution, e.year) for e in p.education] == [
        ("B.Sc. Computer Science", "University of Washington", 2016)]
    assert p.spoken_languages == ("en", "es")
    assert p.language == "en"
    assert {"Python", "Go", "Kubernetes", "PostgreSQL", "Airflow"} <= {s.name for s in p.skills}
    assert p.text_chars == len("\n".join(rf.ENGLISH_ENGINEER))


def test_spanish_profile() -> None:
    p = extract_profile(document(rf.SPANISH_ENGINEER), today=TODAY)
    assert p.name == "Carlos Martínez García"
    assert p.phones == ("+34612345678",)
    assert [(e.organization, e.start, e.end, e.current) for e in p.experience] == [
        ("Telefónica Tech", "2020-03", "", True), ("Indra Sistemas", "2018-01", "2020-02",
                                                    False)]
    assert p.total_years == round((80 + 1 + 26) / 12, 1)
    assert p.education[0].institution == "Universidad Politécnica de Madrid"
    assert p.spoken_languages == ("es", "en")
    assert p.language == "es"


@pytest.mark.parametrize(("lines", "language"), [
    (("Jean Dupont", "Expérience", "Développeur Python, Capgemini, septembre 2017 - "
      "aujourd'hui", "Formation", "Master en informatique, Université de Lyon, 2017",
      "Langues : français (natif), anglais (courant)"), "fr"),
    (("Anna Schmidt", "Berufserfahrung", "Softwareentwicklerin, SAP AG, 03/2015 - heute",
      "Ausbildung", "Master Informatik, Technische Universität München, 2014",
      "Sprachen: Deutsch (Muttersprache), Englisch (fließend)"), "de"),
    (("Иван Петров", "Опыт работы", "Разработчик, Яндекс, сентябрь 2018 — по настоящее время",
      "Образование", "Магистр, Московский государственный университет, 2018",
      "Языки: русский (родной), английский (свободно)"), "ru"),
    (("王伟", "工作经历", "软件工程师 阿里巴巴 2019年3月 - 至今", "教育背景",
      "硕士 清华大学 2019", "语言: 中文 (母语), 英语 (流利)"), "zh"),
])
def test_profiles_in_other_languages(lines: tuple[str, ...], language: str) -> None:
    p = extract_profile(document(lines), today=TODAY)
    assert p.language == language
    assert p.name == lines[0]
    assert len(p.experience) == 1 and p.experience[0].current
    assert p.total_years > 5
    assert p.education and p.education[0].year in (2014, 2017, 2018, 2019)
    assert language in p.spoken_languages and "en" in p.spoken_languages


def test_flags_pass_through_and_only_visible_text_is_read() -> None:
    flag = ResumeFlag(FlagKind.HIDDEN_TEXT, "2 lines in white", "Kubernetes Terraform", 1)
    p = extract_profile(document(rf.WEAK_VISIBLE, flags=(flag,),
                                 hidden_text="Kubernetes Terraform golang"), today=TODAY)
    assert p.flags == (flag,)
    assert not {"Kubernetes", "Terraform", "Go"} & {s.name for s in p.skills}
    assert p.name == "Pat Doe"
