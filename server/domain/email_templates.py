# ruff: noqa: RUF001, E501  (translations: Cyrillic and CJK text, long sentences)
"""Candidate emails in the 12 interview languages: invitation, reminder, cancellation and
reschedule, each as plain text and HTML with the interview link.

Values are escaped for HTML; times are shown in ISO 8601 UTC, which reads the same in every
language."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from string import Template

LANGUAGES = ("en", "es", "fr", "de", "pt", "hi", "zh", "ja", "ko", "ar", "ru", "it")
KINDS = ("invitation", "reminder", "cancellation", "reschedule")
RTL = frozenset({"ar"})

# language -> kind -> (subject, body). $name, $job, $company, $when; the link is added below.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "invitation": ("Your interview for $job at $company",
                       "Hello $name, you are invited to an interview for $job at $company on "
                       "$when. Open the link below to take it."),
        "reminder": ("Reminder: your interview for $job",
                     "Hello $name, this is a reminder of your interview for $job at $company on "
                     "$when."),
        "cancellation": ("Your interview for $job was cancelled",
                         "Hello $name, your interview for $job at $company on $when was "
                         "cancelled. The link no longer works."),
        "reschedule": ("New time for your interview for $job",
                       "Hello $name, your interview for $job at $company was moved to $when."),
    },
    "es": {
        "invitation": ("Tu entrevista para $job en $company",
                       "Hola $name, te invitamos a una entrevista para $job en $company el "
                       "$when. Abre el enlace para realizarla."),
        "reminder": ("Recordatorio: tu entrevista para $job",
                     "Hola $name, te recordamos tu entrevista para $job en $company el $when."),
        "cancellation": ("Tu entrevista para $job fue cancelada",
                         "Hola $name, tu entrevista para $job en $company el $when fue "
                         "cancelada. El enlace ya no funciona."),
        "reschedule": ("Nueva hora para tu entrevista para $job",
                       "Hola $name, tu entrevista para $job en $company se movió al $when."),
    },
    "fr": {
        "invitation": ("Votre entretien pour $job chez $company",
                       "Bonjour $name, vous êtes invité(e) à un entretien pour $job chez "
                       "$company le $when. Ouvrez le lien pour le passer."),
        "reminder": ("Rappel : votre entretien pour $job",
                     "Bonjour $name, rappel de votre entretien pour $job chez $company le $when."),
        "cancellation": ("Votre entretien pour $job est annulé",
                         "Bonjour $name, votre entretien pour $job chez $company le $when est "
                         "annulé. Le lien ne fonctionne plus."),
        "reschedule": ("Nouvel horaire pour votre entretien pour $job",
                       "Bonjour $name, votre entretien pour $job chez $company est déplacé au "
                       "$when."),
    },
    "de": {
        "invitation": ("Ihr Interview für $job bei $company",
                       "Hallo $name, Sie sind zu einem Interview für $job bei $company am $when "
                       "eingeladen. Öffnen Sie den Link, um es zu führen."),
        "reminder": ("Erinnerung: Ihr Interview für $job",
                     "Hallo $name, wir erinnern Sie an Ihr Interview für $job bei $company am "
                     "$when."),
        "cancellation": ("Ihr Interview für $job wurde abgesagt",
                         "Hallo $name, Ihr Interview für $job bei $company am $when wurde "
                         "abgesagt. Der Link funktioniert nicht mehr."),
        "reschedule": ("Neuer Termin für Ihr Interview für $job",
                       "Hallo $name, Ihr Interview für $job bei $company wurde auf $when "
                       "verschoben."),
    },
    "pt": {
        "invitation": ("Sua entrevista para $job na $company",
                       "Olá $name, você foi convidado(a) para uma entrevista para $job na "
                       "$company em $when. Abra o link para realizá-la."),
        "reminder": ("Lembrete: sua entrevista para $job",
                     "Olá $name, lembramos sua entrevista para $job na $company em $when."),
        "cancellation": ("Sua entrevista para $job foi cancelada",
                         "Olá $name, sua entrevista para $job na $company em $when foi "
                         "cancelada. O link não funciona mais."),
        "reschedule": ("Novo horário para sua entrevista para $job",
                       "Olá $name, sua entrevista para $job na $company foi remarcada para "
                       "$when."),
    },
    "hi": {
        "invitation": ("$company में $job के लिए आपका साक्षात्कार",
                       "नमस्ते $name, आपको $company में $job के साक्षात्कार के लिए $when पर "
                       "आमंत्रित किया गया है। इसे देने के लिए नीचे दिया लिंक खोलें।"),
        "reminder": ("अनुस्मारक: $job के लिए आपका साक्षात्कार",
                     "नमस्ते $name, $company में $job के लिए आपका साक्षात्कार $when पर है।"),
        "cancellation": ("$job के लिए आपका साक्षात्कार रद्द हुआ",
                         "नमस्ते $name, $company में $job के लिए $when का आपका साक्षात्कार रद्द "
                         "कर दिया गया है। लिंक अब काम नहीं करेगा।"),
        "reschedule": ("$job के साक्षात्कार का नया समय",
                       "नमस्ते $name, $company में $job के लिए आपका साक्षात्कार अब $when पर है।"),
    },
    "zh": {
        "invitation": ("您在 $company 的 $job 面试",
                       "$name，您好！诚邀您于 $when 参加 $company 的 $job 面试。请打开下方链接参加。"),
        "reminder": ("提醒：您的 $job 面试", "$name，您好！提醒您 $company 的 $job 面试将于 $when 进行。"),
        "cancellation": ("您的 $job 面试已取消",
                         "$name，您好！您原定于 $when 的 $company $job 面试已取消，链接已失效。"),
        "reschedule": ("您的 $job 面试时间已更改", "$name，您好！您在 $company 的 $job 面试已改至 $when。"),
    },
    "ja": {
        "invitation": ("$company の $job の面接のご案内",
                       "$name 様、$company の $job の面接（$when）にご招待します。下のリンクから受験してください。"),
        "reminder": ("リマインダー：$job の面接", "$name 様、$company の $job の面接は $when です。"),
        "cancellation": ("$job の面接はキャンセルされました",
                         "$name 様、$when の $company の $job の面接はキャンセルされました。リンクは無効です。"),
        "reschedule": ("$job の面接の日時変更", "$name 様、$company の $job の面接は $when に変更されました。"),
    },
    "ko": {
        "invitation": ("$company $job 면접 안내",
                       "$name님, $when에 진행되는 $company $job 면접에 초대합니다. 아래 링크를 열어 응시하세요."),
        "reminder": ("알림: $job 면접", "$name님, $company $job 면접이 $when에 있습니다."),
        "cancellation": ("$job 면접이 취소되었습니다",
                         "$name님, $when 예정이던 $company $job 면접이 취소되었습니다. 링크는 더 이상 작동하지 않습니다."),
        "reschedule": ("$job 면접 일정 변경", "$name님, $company $job 면접이 $when(으)로 변경되었습니다."),
    },
    "ar": {
        "invitation": ("مقابلتك لوظيفة $job في $company",
                       "مرحبًا $name، أنت مدعو لمقابلة لوظيفة $job في $company بتاريخ $when. "
                       "افتح الرابط أدناه لإجرائها."),
        "reminder": ("تذكير: مقابلتك لوظيفة $job",
                     "مرحبًا $name، نذكّرك بمقابلتك لوظيفة $job في $company بتاريخ $when."),
        "cancellation": ("أُلغيت مقابلتك لوظيفة $job",
                         "مرحبًا $name، أُلغيت مقابلتك لوظيفة $job في $company بتاريخ $when. "
                         "لم يعد الرابط يعمل."),
        "reschedule": ("موعد جديد لمقابلتك لوظيفة $job",
                       "مرحبًا $name، نُقلت مقابلتك لوظيفة $job في $company إلى $when."),
    },
    "ru": {
        "invitation": ("Ваше собеседование на позицию $job в $company",
                       "Здравствуйте, $name! Приглашаем вас на собеседование на позицию $job в "
                       "$company $when. Откройте ссылку ниже, чтобы пройти его."),
        "reminder": ("Напоминание: собеседование на позицию $job",
                     "Здравствуйте, $name! Напоминаем о собеседовании на позицию $job в $company "
                     "$when."),
        "cancellation": ("Собеседование на позицию $job отменено",
                         "Здравствуйте, $name! Собеседование на позицию $job в $company $when "
                         "отменено. Ссылка больше не действует."),
        "reschedule": ("Новое время собеседования на позицию $job",
                       "Здравствуйте, $name! Собеседование на позицию $job в $company перенесено "
                       "на $when."),
    },
    "it": {
        "invitation": ("Il tuo colloquio per $job presso $company",
                       "Ciao $name, sei invitato/a a un colloquio per $job presso $company il "
                       "$when. Apri il link qui sotto per sostenerlo."),
        "reminder": ("Promemoria: il tuo colloquio per $job",
                     "Ciao $name, ti ricordiamo il colloquio per $job presso $company il $when."),
        "cancellation": ("Il tuo colloquio per $job è stato annullato",
                         "Ciao $name, il colloquio per $job presso $company del $when è stato "
                         "annullato. Il link non funziona più."),
        "reschedule": ("Nuovo orario per il tuo colloquio per $job",
                       "Ciao $name, il tuo colloquio per $job presso $company è stato spostato "
                       "al $when."),
    },
}

LINK_LABEL = {"en": "Open your interview", "es": "Abrir tu entrevista",
              "fr": "Ouvrir votre entretien", "de": "Interview öffnen",
              "pt": "Abrir sua entrevista", "hi": "अपना साक्षात्कार खोलें", "zh": "打开面试",
              "ja": "面接を開く", "ko": "면접 열기", "ar": "افتح مقابلتك",
              "ru": "Открыть собеседование", "it": "Apri il tuo colloquio"}


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render(kind: str, language: str, *, name: str, job: str, company: str, when: datetime,
           link: str | None) -> RenderedEmail:
    """Render one email; an unknown language falls back to English."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    lang = language if language in TEXTS else "en"
    subject_t, body_t = TEXTS[lang][kind]
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")
    plain = {"name": name, "job": job, "company": company, "when": stamp}
    escaped = {k: html.escape(v) for k, v in plain.items()}
    subject = Template(subject_t).substitute(plain)
    body = Template(body_t).substitute(plain)
    body_html = Template(body_t).substitute(escaped)
    text = body if link is None else f"{body}\n\n{LINK_LABEL[lang]}: {link}\n"
    direction = "rtl" if lang in RTL else "ltr"
    link_html = "" if link is None else (
        f'<p><a href="{html.escape(link, quote=True)}">{html.escape(LINK_LABEL[lang])}</a></p>')
    page = (f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head><body><p>{body_html}</p>{link_html}"
            "</body></html>")
    return RenderedEmail(subject=subject, text=text, html=page)
