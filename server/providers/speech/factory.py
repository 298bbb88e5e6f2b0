"""Choosing the speech providers from settings.

`make_speech(settings) -> (stt, tts, fallback_tts)`:
- SPEECH_PROVIDER=deepgram, or auto with DEEPGRAM_API_KEY set: Deepgram live STT (nova-3 or
  DEEPGRAM_STT_MODEL, all 12 languages) and Aura-2 TTS (en, es, de, fr, it, ja), with espeak-ng
  as the fallback voice for the other six languages (pt, hi, zh, ko, ar, ru).
- otherwise (local): faster-whisper STT (WHISPER_MODEL_DIR, default the bundled tiny.en:
  English only) and espeak-ng TTS (all 12); no fallback.
SPEECH_PROVIDER=deepgram without a key is a configuration error.

`LayeredTextToSpeech(primary, fallback)` is one TextToSpeech over both: `voice_for(language)`
is the primary's voice when it covers the language, else the fallback's; `synthesize` routes by
the voice (so a cache keyed by voice never mixes them); `languages()` is the union.
`layered(settings)` = make_speech + LayeredTextToSpeech → (stt, tts), what the service takes.
Every provider has `aclose()` (Deepgram's HTTP pool, whisper's threads); `aclose_provider(p)`
calls it on shutdown.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from server.domain.speech import SpeechToText, TextToSpeech, Voice
from server.providers.speech.espeak import EspeakTextToSpeech
from server.providers.speech.whisper import WhisperSpeechToText
from server.settings import ConfigurationError, Settings


def uses_deepgram(settings: Settings) -> bool:
    if settings.speech_provider == "deepgram":
        if settings.deepgram_api_key is None:
            raise ConfigurationError("SPEECH_PROVIDER=deepgram needs DEEPGRAM_API_KEY")
        return True
    return settings.speech_provider == "auto" and settings.deepgram_api_key is not None


def make_speech(settings: Settings) -> tuple[SpeechToText, TextToSpeech, TextToSpeech | None]:
    if uses_deepgram(settings):
        # Imported only when used: deepgram-sdk and its websockets client cost ~10 MB.
        from server.providers.speech.deepgram import DeepgramSpeechToText, DeepgramTextToSpeech

        assert settings.deepgram_api_key is not None
        key = settings.deepgram_api_key.get_secret_value()
        stt: SpeechToText = DeepgramSpeechToText(key, base_url=settings.deepgram_base_url,
                                                 model=settings.deepgram_stt_model)
        tts = DeepgramTextToSpeech(key, base_url=settings.deepgram_base_url)
        return stt, tts, EspeakTextToSpeech()
    workers = max(1, min(4, os.cpu_count() or 1))
    stt = WhisperSpeechToText(settings.whisper_model_dir, workers=workers,
                              max_seconds=settings.speech_max_seconds)
    return stt, EspeakTextToSpeech(), None


def layered(settings: Settings) -> tuple[SpeechToText, TextToSpeech]:
    stt, tts, fallback = make_speech(settings)
    return stt, (LayeredTextToSpeech(tts, fallback) if fallback is not None else tts)


async def aclose_provider(provider: object) -> None:
    """Release a provider's resources (HTTP pools, worker threads) on shutdown, if it has any."""
    close = getattr(provider, "aclose", None)
    if close is not None:
        await close()


class LayeredTextToSpeech:
    """The primary provider's voice where it has one, the fallback's elsewhere."""

    def __init__(self, primary: TextToSpeech, fallback: TextToSpeech) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name

    def languages(self) -> tuple[str, ...]:
        seen = dict.fromkeys(self.primary.languages())
        seen.update(dict.fromkeys(self.fallback.languages()))
        return tuple(seen)

    def voice_for(self, language: str) -> Voice | None:
        return self.primary.voice_for(language) or self.fallback.voice_for(language)

    def provider_for(self, voice: Voice) -> TextToSpeech:
        return self.primary if self.primary.voice_for(voice.language) == voice else self.fallback

    def synthesize(self, text: str, voice: Voice) -> AsyncIterator[bytes]:
        return self.provider_for(voice).synthesize(text, voice)

    async def aclose(self) -> None:
        await aclose_provider(self.primary)
        await aclose_provider(self.fallback)

    async def health(self) -> tuple[bool, str]:
        ok, detail = await self.primary.health()
        fallback_ok, fallback_detail = await self.fallback.health()
        covered = [lang for lang in self.fallback.languages()
                   if self.primary.voice_for(lang) is None]
        return ok, (f"{detail}; {self.fallback.name} for {', '.join(covered)}: "
                    f"{fallback_detail if fallback_ok else 'unavailable'}")
