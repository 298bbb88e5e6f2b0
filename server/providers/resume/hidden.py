# ruff: noqa: E501, RUF001  (pattern tables read better unwrapped; CJK punctuation is meant)
"""Text-level defences, the same for every format: invisible characters, instructions aimed at
an AI, keyword stuffing.

Each function takes text and returns the cleaned text plus what it removed, so the reader can
keep `ResumeDocument.text` to what a human reader sees and record the rest as flags:

- `strip_invisible`: zero-width/format characters (U+200B-U+200F, U+2060-U+2064, U+FEFF, soft
  hyphen, bidi embeddings/isolates, Mongolian vowel separator) are removed and counted. Tag
  characters (U+E0000-U+E007F, "ASCII smuggling") are removed and their hidden ASCII message is
  decoded so it can be shown and checked for injection. Joiners inside Arabic/Indic words and
  LRM/RLM/ALM in right-to-left text are kept uncounted: they are legitimate there.
- `find_injections`: a multilingual pattern list (en, es, fr, de, pt, it, ru, zh, ja, ko, ar,
  hi + chat-template tokens) matched per sentence on an accent-folded lower-case copy; the
  matching sentences are removed.
- `find_stuffing`: lines under any window of 20 consecutive words (stop words aside) with at
  most 8 distinct words are removed (a list of repeated keywords, even wrapped over lines); a token repeated > 15 times and > 8% of all words (stop words
  excluded) is flagged and the lines it dominates are removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_INVISIBLE = frozenset(
    [0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063,
     0x2064, 0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
     0x061C, 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0]
)
_JOINERS = frozenset([0x200C, 0x200D])
_RTL_MARKS = frozenset([0x200E, 0x200F, 0x061C])
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F


def _joining_script(char: str) -> bool:
    """Scripts where ZWJ/ZWNJ shape words: Arabic, Hebrew, Indic, plus emoji sequences."""
    code = ord(char)
    return (0x0590 <= code <= 0x08FF or 0x0900 <= code <= 0x0DFF or 0xFB1D <= code <= 0xFEFC
            or code >= 0x1F000)


def _rtl(char: str) -> bool:
    code = ord(char)
    return 0x0590 <= code <= 0x08FF or 0xFB1D <= code <= 0xFEFC


@dataclass(frozen=True, slots=True)
class Invisible:
    text: str
    count: int
    smuggled: str  # the ASCII message carried by tag characters, if any


def strip_invisible(text: str) -> Invisible:
    out: list[str] = []
    smuggled: list[str] = []
    count = 0
    has_rtl = any(_rtl(c) for c in text) if any(ord(c) in _RTL_MARKS for c in text) else False
    for index, char in enumerate(text):
        code = ord(char)
        if _TAG_FIRST <= code <= _TAG_LAST:
            count += 1
            if 0xE0020 <= code <= 0xE007E:
                smuggled.append(chr(code - 0xE0000))
            continue
        if code not in _INVISIBLE:
            out.append(char)
            continue
        if code in _JOINERS and out and index + 1 < len(text) and _joining_script(out[-1]) \
                and _joining_script(text[index + 1]):
            out.append(char)
            continue
        if code in _RTL_MARKS and has_rtl:
            out.append(char)
            continue
        count += 1
    return Invisible("".join(out), count, "".join(smuggled).strip())


def fold(text: str) -> str:
    """Lower case, Latin accents dropped (é → e), other scripts untouched (no jamo split)."""
    out = []
    for char in text.lower():
        decomposed = unicodedata.normalize("NFKD", char)
        out.append(decomposed[0] if decomposed and decomposed[0].isascii() else char)
    return "".join(out)


_WHO = r"(?:candidat[oea]?|candidate|applicant|resume|cv|curriculum|kandidat(?:en|in)?|bewerber(?:in)?|lebenslauf|profil[eo]?)"
_AI = (r"(?:an? )?(?:ai|a\.i\.|artificial intelligence|(?:large )?language model|llm|chatgpt|gpt"
       r"|claude|gemini|copilot|(?:ai |virtual )?assistant|chatbot)")
_INJECTION_PATTERNS = [
    # English
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,25}\b(?:previous|prior|above|earlier|preceding|all|any|your|the)\b.{0,20}\b(?:instructions?|prompts?|directions?|rules|guidelines|context)\b",
    r"\bdisregard (?:all |everything |anything )?(?:the )?(?:above|previous|prior|earlier)\b",
    r"\byou are (?:now )?" + _AI + r"\b",
    r"\bas an ai(?: language model)?\b",
    r"\b(?:system|developer) (?:prompt|message|instructions?)\b",
    r"\b(?:new|updated|additional|hidden) instructions?\s*:",
    r"\b(?:rank|rate|score|place|put|list|mark|classify)\b.{0,20}\b(?:this|the|me)\b.{0,12}" + _WHO + r"?.{0,20}\b(?:first|highest|top|#1|number one|best|above all)\b",
    r"\b(?:give|assign|award)\b.{0,30}\b(?:score|rating|grade|mark)s? of \d{1,3}\b",
    r"\b(?:score|rating) (?:of )?(?:100|10)\s*(?:/\s*(?:100|10)|%|points?)?\s*(?:to|for) (?:this|the)\b",
    r"\b(?:this|the) (?:candidate|applicant) (?:is|should be) (?:the )?(?:perfect|ideal|best|strongest|top|most qualified)\b",
    r"\bnote to (?:the )?(?:ai|llm|chatgpt|gpt|model|automated|screening|recruit\w*)\b",
    r"\b(?:do not|don't) (?:mention|reveal|disclose|repeat) (?:this|these|the) (?:instructions?|text|note)\b",
    r"<\|?(?:im_start|im_end|system|endoftext|assistant|user)\|?>",
    r"\[/?inst\]|<</?sys>>|###\s*(?:instruction|system)",
    # Spanish
    r"\b(?:ignora|ignore|ignorar|ignoren|olvida|olvide|olvidar|omite)\b.{0,25}\binstrucciones\b",
    r"\bhaz caso omiso\b",
    r"\b(?:eres|es usted) (?:un|una) (?:ia|inteligencia artificial|modelo de lenguaje|asistente)\b",
    r"\bcomo (?:un )?modelo de lenguaje\b",
    r"\b(?:clasifica|clasifique|califica|puntua|pon|ponga|coloca|coloque)\b.{0,20}\b(?:este|esta|a este)\b.{0,25}\b(?:primero|primer lugar|el mejor|la mejor|maxima|mas alta)\b",
    r"\b(?:da|dale|asigna|asignale|otorga)\b.{0,30}\b(?:puntuacion|nota|calificacion) de \d",
    r"\b(?:prompt|mensaje|instrucciones) del sistema\b",
    # French
    r"\b(?:ignore[rz]?|oublie[rz]?)\b.{0,25}\binstructions\b",
    r"\b(?:tu es|vous etes) (?:une?|l') ?(?:ia|intelligence artificielle|modele de langage|assistant)\b",
    r"\b(?:classe[rz]?|placer?|mets|mettez)\b.{0,20}\bce(?:tte)? (?:candidat|candidate|cv)\b.{0,20}\b(?:premier|premiere|en tete)\b",
    r"\b(?:donne[rz]?|attribue[rz]?)\b.{0,30}\bnote de \d",
    # German
    r"\b(?:ignoriere|ignorieren sie|vergiss|vergessen sie|missachte)\b.{0,30}\b(?:anweisungen|instruktionen|vorgaben)\b",
    r"\b(?:du bist|sie sind) (?:eine? )?(?:ki|kunstliche intelligenz|sprachmodell|assistent)\b",
    r"\b(?:bewerte|platziere|stufe|setze)\b.{0,30}\b(?:an erster stelle|als erste[nr]?|am hochsten|ganz oben|auf platz (?:1|eins))\b",
    r"\bsystem-?prompt\b",
    # Portuguese
    r"\b(?:ignore|ignora|ignorar|esqueca|esquece|desconsidere)\b.{0,25}\binstrucoes\b",
    r"\bvoce e (?:uma? )?(?:ia|inteligencia artificial|modelo de linguagem|assistente)\b",
    r"\b(?:classifique|coloque|ponha)\b.{0,20}\beste (?:candidato|cv|curriculo)\b.{0,20}\b(?:primeiro|primeiro lugar|topo)\b",
    # Italian
    r"\b(?:ignora|ignorate|dimentica|dimenticate)\b.{0,25}\bistruzioni\b",
    r"\b(?:sei|lei e) (?:un'?|una )?\s?(?:ia|intelligenza artificiale|modello linguistico|assistente)\b",
    r"\b(?:classifica|metti|posiziona)\b.{0,20}\bquesto (?:candidato|cv|curriculum)\b.{0,20}\b(?:primo|prima posizione|in cima)\b",
    # Russian, Chinese, Japanese, Korean, Arabic, Hindi
    r"(?:игнорируй|игнорируйте|забудь|забудьте)\b.{0,30}инструкци",
    r"ты\s*[—-]?\s*(?:ии|искусственный интеллект|языковая модель)",
    r"(?:忽略|无视|忘记|忘掉).{0,8}(?:指令|指示|说明|提示)",
    r"你(?:现在)?是.{0,4}(?:AI|ai|人工智能|语言模型)",
    r"(?:排在?第一|评分为?\s*100)",
    r"(?:指示|命令|プロンプト).{0,6}(?:無視|忘れ)",
    r"あなたは.{0,4}(?:AI|ai|人工知能|言語モデル)",
    r"(?:지시|명령|지침).{0,8}(?:무시|잊)",
    r"(?:تجاهل|انس).{0,20}(?:التعليمات|الأوامر)",
    r"(?:निर्देशों|निर्देश).{0,20}(?:अनदेखा|नजरअंदाज|भूल)",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _INJECTION_PATTERNS), re.IGNORECASE)


def find_injections(text: str) -> tuple[str, list[str]]:
    """(text without the sentences aimed at an AI, those sentences)."""
    if not _INJECTION.search(fold(text)):
        return text, []
    kept: list[str] = []
    found: list[str] = []
    for line in text.split("\n"):
        pieces = [m.group(0) for m in re.finditer(r"[^.!?。！？]+(?:[.!?。！？]+|$)", line)]
        if not pieces:
            kept.append(line)
            continue
        keep_line: list[str] = []
        for piece in pieces:
            if _INJECTION.search(fold(piece)):
                found.append(piece.strip())
            else:
                keep_line.append(piece)
        if keep_line:
            kept.append("".join(keep_line).rstrip())
    return "\n".join(kept), found


_TOKEN = re.compile(r"[^\W\d_][\w+#.-]*[\w+#]|[^\W\d_]", re.UNICODE)
_STOP = frozenset(str.split(
    "the and of to in a an for with on at by is are was be as or from de la el en y los las del "
    "con por para un una que se le les des et du au pour dans sur der die das und mit von zu im "
    "den für auf ein eine do da em os as no na um uma il di e che per con gli le"))


WINDOW = 20
MAX_DISTINCT_SHARE = 0.4


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def find_stuffing(text: str) -> tuple[str, list[str], list[str]]:
    """(text without stuffed runs, the removed runs, the stuffed tokens)."""
    removed: list[str] = []
    lines = text.split("\n")
    positions = [(index, token) for index, line in enumerate(lines) for token in _tokens(line)
                 if token not in _STOP]
    stuffed_lines: set[int] = set()
    for start in range(len(positions) - WINDOW + 1):
        window = positions[start:start + WINDOW]
        counts = Counter(token for _, token in window)
        if len(counts) > WINDOW * MAX_DISTINCT_SHARE:
            continue
        for line_index in {index for index, _ in window}:
            own = [token for index, token in window if index == line_index]
            if sum(counts[token] > 1 for token in own) * 2 > len(own):
                stuffed_lines.add(line_index)  # a line of repeats, not a neighbour
    kept: list[str] = []
    for index, line in enumerate(lines):
        if index in stuffed_lines:
            removed.append(line.strip())
        else:
            kept.append(line)
    words = [t for t in _tokens("\n".join(kept)) if t not in _STOP and len(t) > 1]
    counts = Counter(words)
    stuffed = sorted(t for t, n in counts.items() if n > 15 and n > 0.08 * len(words))
    if stuffed:
        final: list[str] = []
        for line in kept:
            tokens = _tokens(line)
            dominated = any(tokens.count(t) >= 3 and tokens.count(t) * 4 >= len(tokens)
                            for t in stuffed)
            if dominated:
                removed.append(line.strip())
            else:
                final.append(line)
        kept = final
    if removed:
        top = Counter(_tokens(" ".join(removed))).most_common(5)
        stuffed = sorted(set(stuffed) | {t for t, n in top if n >= 2})
    return "\n".join(kept), removed, stuffed
