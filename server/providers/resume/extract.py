# ruff: noqa: RUF001, RUF002  (multilingual words, dashes and full-width marks on purpose)
"""A typed profile from a resume's visible text (ResumeDocument.text) — no AI, no network.

The reader (reader.py) already removed what a human cannot see; this module only ever reads
`document.text`, so hidden or removed text never reaches a profile, a score or a prompt.

How each field is found, in any of the 12 languages:
- sections: short lines that are a known heading ("Experience", "Experiencia", "Berufserfahrung",
  "Опыт работы", "工作经历", "経歴", "경력", "الخبرة", "अनुभव", …), or "Heading: content" inline;
- name: the first short line near the top that looks like a person's name (no digits, "@",
  links or headings; capitalised words, or a short run of CJK/Arabic/Devanagari script);
- emails and links by pattern; phones through `phonenumbers` (E.164);
- skills through the shipped taxonomy (taxonomy.py) over the whole visible text;
- experience: lines holding a date range — "Jan 2019 - Present", "03/2018 – 02/2020",
  "marzo 2020 - actualidad", "2019年3月至今", "2015 - 2018", "depuis 2020" — with month names
  of the 12 languages taken from dateparser's language data and present-words of each language;
  title and employer from the rest of the line (or the line above). Total years merge
  overlapping jobs, so concurrent jobs count once;
- education: lines of the education section, or lines with a degree word in any language;
- spoken languages: the languages section (or "Languages: …" inline), names in 12 languages →
  ISO 639-1 codes;
- the resume's language: lingua, built once for the 12 languages with preloaded models and
  cached for the process (building and the first detection cost ~1 s; then ~0.3 ms each).
"""

from __future__ import annotations

import functools
import importlib
import itertools
import re
from collections.abc import Sequence
from datetime import date

import phonenumbers

from server.domain.resume_models import (
    Education,
    Experience,
    ResumeDocument,
    ResumeProfile,
    Skill,
)
from server.providers.resume.taxonomy import taxonomy

LANGS = ("en", "es", "fr", "de", "pt", "it", "ru", "ar", "hi", "zh", "ja", "ko")

SECTIONS: dict[str, tuple[str, ...]] = {
    "experience": (
        "experience", "work experience", "professional experience", "employment",
        "employment history", "work history", "career history", "experiencia",
        "experiencia laboral", "experiencia profesional", "expérience", "expériences",
        "expérience professionnelle", "expériences professionnelles", "berufserfahrung",
        "erfahrung", "beruflicher werdegang", "experiência", "experiência profissional",
        "esperienza", "esperienze", "esperienza professionale", "esperienze lavorative",
        "esperienza lavorativa", "опыт", "опыт работы", "профессиональный опыт", "工作经历",
        "工作经验", "职业经历", "職歴", "職務経歴", "経歴", "경력", "경력 사항", "업무 경험",
        "الخبرة", "الخبرات", "الخبرة المهنية", "الخبرة العملية", "अनुभव", "कार्य अनुभव"),
    "education": (
        "education", "academic background", "qualifications", "educación", "formación",
        "formación académica", "estudios", "formation", "éducation", "ausbildung", "bildung",
        "studium", "educação", "formação", "formação acadêmica", "istruzione", "formazione",
        "образование", "教育", "教育背景", "学历", "学歴", "학력", "교육", "التعليم",
        "المؤهلات", "المؤهلات العلمية", "शिक्षा"),
    "skills": (
        "skills", "technical skills", "core competencies", "competencies", "technologies",
        "tech stack", "habilidades", "competencias", "conocimientos", "compétences",
        "compétences techniques", "kenntnisse", "fähigkeiten", "kompetenzen", "competências",
        "habilidades técnicas", "competenze", "навыки", "ключевые навыки", "技能", "专业技能",
        "スキル", "기술", "보유 기술", "المهارات", "कौशल"),
    "languages": (
        "languages", "language skills", "idiomas", "langues", "sprachen", "sprachkenntnisse",
        "línguas", "lingue", "языки", "знание языков", "语言", "语言能力", "言語", "語学",
        "언어", "어학", "اللغات", "भाषाएँ", "भाषाएं", "भाषा"),
    "summary": (
        "summary", "profile", "about", "about me", "objective", "perfil", "resumen",
        "sobre mí", "profil", "résumé", "zusammenfassung", "profilo", "sommario", "обо мне",
        "профиль", "о себе", "个人简介", "简介", "自己紹介", "概要", "요약", "자기소개", "الملخص",
        "نبذة", "सारांश"),
    "other": (
        "projects", "certifications", "certificates", "interests", "hobbies", "references",
        "awards", "publications", "contact", "proyectos", "certificaciones", "intereses",
        "projets", "projekte", "projetos", "progetti", "проекты", "项目", "プロジェクト",
        "프로젝트", "المشاريع", "परियोजनाएँ"),
}
HEADING = {word: section for section, words in SECTIONS.items() for word in words}
TITLE_WORDS = frozenset({"curriculum vitae", "curriculum", "resume", "résumé", "cv",
                         "lebenslauf", "履歴書", "简历", "이력서", "السيرة الذاتية",
                         "बायोडाटा", "резюме", "currículum", "currículo"})

PRESENT = (
    "present", "current", "currently", "now", "today", "ongoing", "date", "actual",
    "actualidad", "actualmente", "presente", "hoy", "la fecha", "aujourd'hui", "aujourd’hui",
    "ce jour", "présent", "actuel", "en cours", "heute", "jetzt", "derzeit", "aktuell",
    "atual", "atualmente", "o momento", "attuale", "oggi", "in corso", "по настоящее время",
    "настоящее время", "н.в.", "н. в.", "наст. время", "сейчас", "текущее время", "至今",
    "现在", "目前", "今", "現在", "現職", "현재", "재직중", "재직 중", "حتى الآن", "الآن",
    "حاليا", "حالياً", "الحاضر", "वर्तमान", "अब तक")
SINCE = ("since", "desde", "depuis", "seit", "dal", "dall'", "с", "自", "以来")


def _month_names() -> dict[str, int]:
    """Month words of the 12 languages (full, abbreviated, genitive) from dateparser's data."""
    keys = ("january", "february", "march", "april", "may", "june", "july", "august",
            "september", "october", "november", "december")
    names: dict[str, int] = {}
    for lang in LANGS:
        info = importlib.import_module(f"dateparser.data.date_translation_data.{lang}").info
        for number, key in enumerate(keys, start=1):
            for written in info.get(key, ()):
                word = str(written).lower().rstrip(".")
                if word and not any(ch.isdigit() for ch in word) and len(word) >= 3:
                    names.setdefault(word, number)
    return names


MONTHS = _month_names()
_month_alt = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_present_alt = "|".join(sorted((re.escape(p) for p in PRESENT), key=len, reverse=True))
YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
DATE = re.compile(
    rf"(?P<cjk>(?P<cy>{YEAR})\s*[年년.]\s*(?P<cm>\d{{1,2}})\s*[月월]?)"
    rf"|(?P<my>(?<!\d)(?P<mm>0?[1-9]|1[0-2])\s*[/.\-]\s*(?P<my_y>{YEAR})(?!\d))"
    rf"|(?P<ym>(?<!\d)(?P<ym_y>{YEAR})\s*[/\-]\s*(?P<ym_m>0?[1-9]|1[0-2])(?!\d))"
    rf"|(?P<named>(?<![^\W\d_])(?P<name>{_month_alt})\.?,?\s*(?:de\s+|of\s+|del\s+)?"
    rf"(?P<ny>{YEAR})(?!\d)\s*(?:г\.?|года?)?)"
    rf"|(?P<year>(?<!\d)(?P<y>{YEAR})(?!\d)\s*(?:年|년|г\.?|года?)?)"
    rf"|(?P<present>(?<![^\W\d_])(?:{_present_alt})(?![^\W\d_]))",
    re.IGNORECASE)
SEPARATOR = re.compile(
    r"\s*(?:[-–—−~〜～]+|to|until|till|a|al|à|au|bis|até|hasta|fino a|по|至|から|부터|~|إلى|"
    r"से|–)?\s*[:(]?\s*", re.IGNORECASE)

DEGREES = re.compile(
    r"(?<![^\W\d_])(?:bachelor(?:'s)?|b\.?\s?sc?\.?|b\.?a\.|b\.?eng|b\.?tech|m\.?tech|"
    r"master(?:'s)?|m\.?\s?sc\.?|m\.?s\.|mba|ph\.?\s?d\.?|doctorate|associate degree|"
    r"diploma|licenciatura|licenciado|grado en|máster|doctorado|técnico superior|licence|"
    r"maîtrise|doctorat|diplôme|ingénieur|diplom|staatsexamen|bacharelado|mestrado|"
    r"doutorado|laurea|dottorato|бакалавр|магистр|специалист|кандидат наук|аспирантура)"
    r"(?![^\W\d_])|学士|硕士|博士|本科|修士|학사|석사|박사|بكالوريوس|ماجستير|دكتوراه|"
    r"स्नातक|स्नातकोत्तर|बी\.?टेक|एम\.?टेक",
    re.IGNORECASE)
SCHOOLS = re.compile(
    r"universit|universidad|université|universität|universidade|università|университет|"
    r"institut|college|école|escuela|school|hochschule|polit[eé]cnic|polytechnic|academy|"
    r"academia|大学|大學|学院|대학교|대학|جامعة|विश्वविद्यालय|संस्थान",
    re.IGNORECASE)

LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("english", "inglés", "ingles", "anglais", "englisch", "inglês", "inglese",
           "английский", "英语", "英語", "영어", "الإنجليزية", "الانجليزية", "अंग्रेज़ी",
           "अंग्रेजी"),
    "es": ("spanish", "español", "espanol", "castellano", "espagnol", "spanisch", "espanhol",
           "spagnolo", "испанский", "西班牙语", "スペイン語", "스페인어", "الإسبانية", "स्पेनिश"),
    "fr": ("french", "francés", "frances", "français", "francais", "französisch", "francês",
           "francese", "французский", "法语", "フランス語", "프랑스어", "الفرنسية", "फ़्रेंच",
           "फ्रेंच"),
    "de": ("german", "alemán", "aleman", "allemand", "deutsch", "alemão", "tedesco",
           "немецкий", "德语", "ドイツ語", "독일어", "الألمانية", "जर्मन"),
    "pt": ("portuguese", "portugués", "portugues", "portugais", "portugiesisch", "português",
           "portoghese", "португальский", "葡萄牙语", "ポルトガル語", "포르투갈어",
           "البرتغالية", "पुर्तगाली"),
    "it": ("italian", "italiano", "italien", "italienisch", "итальянский", "意大利语",
           "イタリア語", "이탈리아어", "الإيطالية", "इतालवी"),
    "ru": ("russian", "ruso", "russe", "russisch", "russo", "русский", "俄语", "ロシア語",
           "러시아어", "الروسية", "रूसी"),
    "zh": ("chinese", "mandarin", "cantonese", "chino", "chinois", "chinesisch", "chinês",
           "cinese", "китайский", "中文", "汉语", "普通话", "中国語", "중국어", "الصينية", "चीनी"),
    "ja": ("japanese", "japonés", "japones", "japonais", "japanisch", "japonês", "giapponese",
           "японский", "日语", "日本語", "일본어", "اليابانية", "जापानी"),
    "ko": ("korean", "coreano", "coréen", "koreanisch", "корейский", "韩语", "韓国語",
           "한국어", "الكورية", "कोरियाई"),
    "ar": ("arabic", "árabe", "arabe", "arabisch", "arabo", "арабский", "阿拉伯语",
           "アラビア語", "아랍어", "العربية", "अरबी"),
    "hi": ("hindi", "хинди", "印地语", "ヒンディー語", "힌디어", "الهندية", "हिन्दी", "हिंदी"),
    "nl": ("dutch", "neerlandés", "néerlandais", "niederländisch", "holandês", "olandese",
           "нидерландский"),
    "pl": ("polish", "polaco", "polonais", "polnisch", "polacco", "польский"),
    "tr": ("turkish", "turco", "turc", "türkisch", "турецкий"),
    "uk": ("ukrainian", "ucraniano", "ukrainien", "ukrainisch", "украинский"),
    "ca": ("catalan", "catalán", "català"),
    "sv": ("swedish", "sueco", "suédois", "schwedisch"),
    "el": ("greek", "griego", "grec", "griechisch"),
    "he": ("hebrew", "hebreo", "hébreu", "hebräisch"),
    "bn": ("bengali", "bangla"),
    "ur": ("urdu",),
    "vi": ("vietnamese", "vietnamita"),
    "id": ("indonesian", "bahasa indonesia"),
}
_language_alt = "|".join(sorted((re.escape(n) for names in LANGUAGE_NAMES.values()
                                 for n in names), key=len, reverse=True))
LANGUAGE_NAME = re.compile(rf"(?<![^\W\d_])(?:{_language_alt})", re.IGNORECASE)
CODE_OF = {n: code for code, names in LANGUAGE_NAMES.items() for n in names}

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,}", re.IGNORECASE)
LINK = re.compile(
    r"(?:https?://|www\.)[^\s,;|<>()\"']+"
    r"|(?<![@\w.])(?:[a-z0-9\-]+\.)+(?:com|io|dev|org|net|me|ai|app|co|es|de|fr|it|pt|br|ru|"
    r"cn|jp|kr|in)/[^\s,;|<>()\"']+", re.IGNORECASE)


def _is_cased_script(text: str) -> bool:
    return any(ch.isalpha() and (ch.isupper() or ch.islower()) for ch in text)


def heading_of(line: str) -> tuple[str | None, str]:
    """(section, inline content) when the line is a heading or "Heading: content"."""
    plain = line.strip().strip("#*•-–—=_ ").strip()
    head, colon, rest = plain.partition(":")
    if not colon:
        head, colon, rest = plain.partition("：")
    key = head.strip().lower().rstrip(".")
    if key in HEADING and (colon or len(plain) <= 40):
        return HEADING[key], rest.strip()
    return None, ""


def _name(lines: Sequence[str]) -> str:
    for line in lines[:6]:
        text = re.sub(r"^(?:name|nombre|nom|имя|氏名|姓名|이름|الاسم|नाम)\s*[:：]\s*", "", line,
                      flags=re.IGNORECASE).strip()
        if not text or len(text) > 60 or any(ch.isdigit() for ch in text):
            continue
        if "@" in text or "/" in text or ":" in text or "|" in text:
            continue
        if text.lower() in TITLE_WORDS or heading_of(text)[0] is not None:
            continue
        words = text.split()
        if _is_cased_script(text):
            if 2 <= len(words) <= 5 and all(w[0].isupper() for w in words if w[0].isalpha()):
                return text
            continue
        if 1 <= len(words) <= 4 and len(text) <= 30:
            return text
    return ""


def _phones(text: str) -> list[str]:
    found: list[str] = []
    candidates = "\n".join(line for line in text.splitlines()[:60]
                           if sum(ch.isdigit() for ch in line) >= 7)
    if not candidates:
        return found
    for match in phonenumbers.PhoneNumberMatcher(candidates, "US",
                                                 leniency=phonenumbers.Leniency.POSSIBLE):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if number not in found:
            found.append(number)
    return found[:5]


def _links(text: str) -> list[str]:
    out: list[str] = []
    for match in LINK.finditer(text):
        link = match.group(0).rstrip(".,;:")
        if link not in out:
            out.append(link)
    return out[:10]


# --- dates and experience --------------------------------------------------------------------

Point = tuple[int, int, bool]  # year, month (0 = unknown), present


def _point(m: re.Match[str], today: date) -> Point:
    if m.group("present"):
        return today.year, today.month, True
    if m.group("cjk"):
        return int(m.group("cy")), min(12, max(1, int(m.group("cm")))), False
    if m.group("my"):
        return int(m.group("my_y")), int(m.group("mm")), False
    if m.group("ym"):
        return int(m.group("ym_y")), int(m.group("ym_m")), False
    if m.group("named"):
        return int(m.group("ny")), MONTHS.get(m.group("name").lower().rstrip("."), 0), False
    return int(m.group("y")), 0, False


def date_range(line: str, today: date) -> tuple[Point, Point, int, int] | None:
    """The first date range of a line: (start, end, span start, span end)."""
    marks = list(DATE.finditer(line))
    for first, second in itertools.pairwise(marks):
        if first.group("present"):
            continue
        gap = line[first.end():second.start()]
        if len(gap) <= 12 and SEPARATOR.fullmatch(gap):
            return _point(first, today), _point(second, today), first.start(), second.end()
    for m in marks:  # "since 2020", "desde marzo 2020", "2019年3月至今"
        if m.group("present"):
            continue
        before = line[:m.start()].rstrip().lower()
        after = line[m.end():m.end() + 8].lower()
        if before.endswith(SINCE) or after.lstrip(" -–").startswith(("至今", "以来", "から")):
            start = _point(m, today)
            return start, (today.year, today.month, True), m.start(), m.end()
    return None


def _months(start: Point, end: Point) -> tuple[int, int]:
    """[from, to) as month indexes: month-precise ends are inclusive, a bare year ends at the
    year's start ("2015 - 2018" is 36 months), and the present is this month, inclusive."""
    begin = start[0] * 12 + max(start[1], 1) - 1
    stop = end[0] * 12 + max(end[1], 1) if end[2] or end[1] else end[0] * 12
    if stop <= begin:
        stop = begin + (12 if not end[1] else 1)
    return begin, stop


def _stamp(p: Point) -> str:
    return f"{p[0]:04d}-{p[1]:02d}" if p[1] else f"{p[0]:04d}"


SPLIT = re.compile(r"\s+(?:at|@|en|chez|bei|em|presso|в)\s+|\s*[,|·•]\s*|\s+[-–—]\s+")


def _title_org(text: str, previous: str) -> tuple[str, str]:
    text = text.strip(" \t-–—|,:()[]·•")
    if not text:
        text = previous.strip(" \t-–—|,:()[]·•")
    parts = [p.strip() for p in SPLIT.split(text, maxsplit=1) if p and p.strip()]
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0][:200], ""
    return parts[0][:200], parts[1].strip(" -–—|,")[:200]


def experience(lines: Sequence[tuple[str, str | None]], today: date) -> list[Experience]:
    """Jobs from lines (text, section); only the experience section when there is one."""
    has_section = any(section == "experience" for _, section in lines)
    jobs: list[tuple[int, int, Experience]] = []
    previous = ""
    now = today.year * 12 + today.month
    for text, section in lines:
        wanted = section == "experience" if has_section else section not in ("education",
                                                                            "languages")
        found = date_range(text, today) if wanted else None
        if found is None:
            if heading_of(text)[0] is None:
                previous = text
            continue
        start, end, at, until = found
        begin, stop = _months(start, end)
        if begin >= now or stop - begin > 50 * 12:
            continue
        stop = min(stop, now)
        title, org = _title_org(text[:at] + " " + text[until:], previous)
        jobs.append((stop, begin, Experience(
            title=title, organization=org, start=_stamp(start),
            end="" if end[2] else _stamp(end), current=end[2], months=stop - begin)))
        previous = ""
    jobs.sort(key=lambda j: (j[0], j[1]), reverse=True)
    return [j[2] for j in jobs]


def total_years(spans: Sequence[tuple[int, int]]) -> float:
    """Years covered by the spans, overlapping months counted once."""
    months = 0
    current: tuple[int, int] | None = None
    for begin, stop in sorted(spans):
        if current is None or begin > current[1]:
            if current is not None:
                months += current[1] - current[0]
            current = (begin, stop)
        else:
            current = (current[0], max(current[1], stop))
    if current is not None:
        months += current[1] - current[0]
    return round(months / 12, 1)


def _spans(jobs: Sequence[Experience]) -> list[tuple[int, int]]:
    out = []
    for job in jobs:
        year, _, month = job.start.partition("-")
        begin = int(year) * 12 + max(int(month or 1), 1) - 1
        out.append((begin, begin + job.months))
    return out


# --- education, languages --------------------------------------------------------------------

def education(lines: Sequence[tuple[str, str | None]], today: date) -> list[Education]:
    out: list[Education] = []
    for text, section in lines:
        degree_match = DEGREES.search(text)
        if section != "education" and degree_match is None:
            continue
        if heading_of(text)[0] is not None and not heading_of(text)[1]:
            continue
        years = [int(y) for y in re.findall(rf"(?<!\d)({YEAR})(?!\d)", text)
                 if int(y) <= today.year + 6]
        parts = [p.strip() for p in re.split(r"\s*[,|·•;]\s*|\s+[-–—]\s+", text) if p.strip()]
        parts = [p for p in parts if not re.fullmatch(rf"[\d\s./\-–—]*{YEAR}?[\d\s./\-–—]*",
                                                      p)]
        if not parts:
            continue
        degree = next((p for p in parts if DEGREES.search(p)), "")
        school = next((p for p in parts if SCHOOLS.search(p) and p != degree), "")
        if not degree and not school:
            continue
        if not degree:
            degree = next((p for p in parts if p != school), "")
        out.append(Education(degree=degree[:200], institution=school[:200],
                             year=years[-1] if years else 0))
        if len(out) >= 8:
            break
    return out


def spoken_languages(lines: Sequence[tuple[str, str | None]]) -> list[str]:
    codes: list[str] = []
    for text, section in lines:
        if section != "languages":
            continue
        for match in LANGUAGE_NAME.finditer(text):
            code = CODE_OF.get(match.group(0).lower())
            if code and code not in codes:
                codes.append(code)
    return codes


@functools.lru_cache(maxsize=1)
def _detector() -> object:
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN,
                 Language.PORTUGUESE, Language.ITALIAN, Language.RUSSIAN, Language.ARABIC,
                 Language.HINDI, Language.CHINESE, Language.JAPANESE, Language.KOREAN]
    return (LanguageDetectorBuilder.from_languages(*languages)
            .with_preloaded_language_models().build())


def warm_up() -> None:
    """Build the language detector now (startup) rather than on the first resume."""
    detect_language("warm up the detector")


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language among the 12, or "" when unsure."""
    sample = " ".join(text.split())[:1500]
    if len(sample) < 3:
        return ""
    found = _detector().detect_language_of(sample)  # type: ignore[attr-defined]
    if found is None:
        return ""
    return str(found.iso_code_639_1.name).lower()


# --- the profile -----------------------------------------------------------------------------

def sectioned(text: str) -> list[tuple[str, str | None]]:
    """Non-empty lines with the section each belongs to (None before any heading)."""
    out: list[tuple[str, str | None]] = []
    section: str | None = None
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        found, inline = heading_of(line)
        if found is not None:
            if inline:
                out.append((inline, found))
                continue
            section = found
            continue
        out.append((line, section))
    return out


def extract_profile(document: ResumeDocument, *, today: date | None = None) -> ResumeProfile:
    """The profile of a document's visible text."""
    today = today or date.today()
    text = document.text
    lines = sectioned(text)
    raw_lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    found = taxonomy().find(text)
    jobs = experience(lines, today)
    emails: list[str] = []
    for match in EMAIL.finditer(text):
        if match.group(0) not in emails:
            emails.append(match.group(0))
    links = [link for link in _links(text) if "@" not in link]
    return ResumeProfile(
        name=_name(raw_lines), emails=tuple(emails[:5]), phones=tuple(_phones(text)),
        links=tuple(links),
        skills=tuple(Skill(name=name, mentions=tuple(mentions))
                     for name, mentions in found.items()),
        experience=tuple(jobs), total_years=total_years(_spans(jobs)),
        education=tuple(education(lines, today)),
        spoken_languages=tuple(spoken_languages(lines)), language=detect_language(text),
        flags=document.flags, page_count=document.page_count, ocr=document.ocr,
        media_type=document.media_type, sha256=document.sha256, text_chars=len(text))
