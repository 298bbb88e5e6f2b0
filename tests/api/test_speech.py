"""SpeechService end to end on the real server: spoken answers streamed over a bidirectional RPC
(offline faster-whisper on espeak-ng speech, and Deepgram through the real SDK against a fake
WebSocket server), uploads over gRPC, REST and gRPC-web, spoken questions, caps, cancellation,
provider drops, 20 simultaneous candidates, and who may call what (the *authz* tests)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from grpc import aio
from interviewplatform.v1 import candidate_service_pb2 as cpb
from interviewplatform.v1 import (
    interview_pb2,
    job_pb2,
    speech_service_pb2_grpc,
    system_service_pb2_grpc,
)
from interviewplatform.v1 import interview_service_pb2 as ipb
from interviewplatform.v1 import job_service_pb2 as jpb
from interviewplatform.v1 import speech_service_pb2 as spb
from interviewplatform.v1 import system_service_pb2 as sypb

from server.app import Platform, start_platform
from server.providers.speech.audio import decode_container
from tests.api.test_interviews import link_token, outbox, ts
from tests.api.test_through_envoy import grpc_web_frame, parse_grpc_web
from tests.factories import Api, Tenant, auth, tenant_on
from tests.fakes.deepgram import FakeDeepgram
from tests.helpers import error_info, fails, fast_settings

SENTENCE = "I have five years of experience with Python and Kubernetes."
RATE = 16000
CHUNK = 3200            # 100 ms of 16 kHz LINEAR16


# --- audio -----------------------------------------------------------------------------------


def espeak_wav(text: str, voice: str = "en-us", speed: int = 150) -> bytes:
    return subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout"],
                          input=text.encode(), capture_output=True, check=True).stdout


def pcm16k(text: str, speed: int = 150) -> bytes:
    """espeak-ng speech as 16 kHz mono LINEAR16."""
    return decode_container(espeak_wav(text, speed=speed))


def chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


# --- the world -------------------------------------------------------------------------------


def spoken_questions() -> list[job_pb2.Question]:
    def q(qid: str, **texts: str) -> job_pb2.Question:
        return job_pb2.Question(
            id=qid, type=job_pb2.QUESTION_TYPE_TECHNICAL, difficulty=job_pb2.DIFFICULTY_EASY,
            texts=[job_pb2.LocalizedText(language=k, text=v) for k, v in texts.items()],
            expected_answer="Years of Python and Kubernetes.", keywords=["python"])
    return [q("exp", en="Tell me about your experience.",
              es="Háblame de tu experiencia con Python.",
              pt="Fale da sua experiência com Python."),
            q("team", en="How do you work in a team?",
              es="¿Cómo trabajas en equipo?"),
            q("only-en", en="What is a container?")]


@dataclass
class Taking:
    """An interview in progress and the candidate's credentials."""

    id: str
    me: tuple[tuple[str, str]]
    staff: str


async def make_job(api: Api, staff: str, department_id: str) -> job_pb2.Job:
    job = (await api.jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
        department_id=department_id, title="Platform Engineer", description="Kubernetes.",
        required_skills=["python"])), metadata=auth(staff))).job
    await api.jobs.CreateQuestionSet(jpb.CreateQuestionSetRequest(
        job_id=job.id, questions=spoken_questions()), metadata=auth(staff))
    return job


async def taking(api: Api, platform: Platform, staff: str, job_id: str, *,
                 language: str = "en", start: bool = True) -> Taking:
    created = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(
        interview=interview_pb2.Interview(
            job_id=job_id, language=language, mode=interview_pb2.INTERVIEW_MODE_STATIC,
            scheduled_time=ts(datetime.now(UTC) - timedelta(minutes=1)),
            candidate=interview_pb2.Candidate(
                full_name="Grace Hopper", email=f"grace-{uuid.uuid4().hex[:8]}@example.com")),
    ), metadata=auth(staff))).interview
    [mail] = await outbox(platform, created.id)
    me = auth(link_token(platform, mail.text_body))
    if start:
        await api.candidate.StartInterview(cpb.StartInterviewRequest(id=created.id),
                                           metadata=me)
    return Taking(id=created.id, me=me, staff=staff)


@pytest.fixture
async def world(api: Api, tenant: Tenant) -> tuple[str, job_pb2.Job]:
    staff = tenant.members[0].token
    return staff, await make_job(api, staff, tenant.departments[0].id)


def speech(api: Api) -> speech_service_pb2_grpc.SpeechServiceStub:
    return speech_service_pb2_grpc.SpeechServiceStub(api.channel)


def config(t: Taking, question_id: str = "exp", *, rate: int = RATE,
           encoding: spb.AudioEncoding.ValueType = spb.AUDIO_ENCODING_LINEAR16
           ) -> spb.StreamAnswerRequest:
    return spb.StreamAnswerRequest(id=t.id, config=spb.StreamConfig(
        question_id=question_id, encoding=encoding, sample_rate_hertz=rate))


async def requests(t: Taking, audio: Sequence[bytes], question_id: str = "exp", *,
                   rate: int = RATE, pause: float = 0.0) -> AsyncIterator[spb.StreamAnswerRequest]:
    yield config(t, question_id, rate=rate)
    for chunk in audio:
        yield spb.StreamAnswerRequest(id=t.id, audio=chunk)
        if pause:
            await asyncio.sleep(pause)


async def stream(api: Api, t: Taking, audio: Sequence[bytes], question_id: str = "exp", *,
                 rate: int = RATE, pause: float = 0.0) -> list[spb.StreamAnswerResponse]:
    call = speech(api).StreamAnswer(requests(t, audio, question_id, rate=rate, pause=pause),
                                    metadata=t.me)
    return [r async for r in call]


async def stream_error(api: Api, t: Taking, audio: Sequence[bytes], question_id: str = "exp",
                       *, rate: int = RATE, me: tuple[tuple[str, str]] | None = None,
                       got: list[spb.StreamAnswerResponse] | None = None) -> aio.AioRpcError:
    """A stream the server ends with an error. Written message by message: a request iterator
    still being sent when the server answers would make the client report its own INTERNAL
    error instead of the server's status."""
    call = speech(api).StreamAnswer(metadata=t.me if me is None else me)
    try:
        await call.write(config(t, question_id, rate=rate))
        with contextlib.suppress(TimeoutError):   # rejected on the config alone?
            await asyncio.wait_for(asyncio.shield(call.code()), 0.3)
        for chunk in audio:
            await asyncio.sleep(0.002)   # lets the client see a status before writing on
            await call.write(spb.StreamAnswerRequest(id=t.id, audio=chunk))
        await call.done_writing()
    except asyncio.InvalidStateError:
        pass  # the server has already ended the call: its status follows
    with pytest.raises(aio.AioRpcError) as err:
        async for r in call:
            if got is not None:
                got.append(r)
    return err.value


async def answers(api: Api, t: Taking) -> list[interview_pb2.Answer]:
    return list((await api.interviews.GetInterview(ipb.GetInterviewRequest(id=t.id),
                                                   metadata=auth(t.staff))).answers)


def final_text(got: Sequence[spb.StreamAnswerResponse]) -> str:
    return " ".join(r.transcript.text for r in got
                    if r.HasField("transcript") and r.transcript.is_final)


# --- offline: espeak-ng speech → faster-whisper ---------------------------------------------


async def test_streamed_speech_is_transcribed_offline_and_saved_with_its_audio(
        api: Api, platform: Platform, world: tuple[str, job_pb2.Job]) -> None:
    staff, job = world
    t = await taking(api, platform, staff, job.id)
    audio = pcm16k(SENTENCE)
    got = await stream(api, t, chunks(audio))
    assert got[-1].HasField("answer") and all(r.HasField("transcript") for r in got[:-1])
    final = final_text(got).lower()
    assert "python" in final and "kubernetes" in final, final
    saved = got[-1].answer
    assert saved.question_id == "exp" and "kubernetes" in saved.text.lower()
    assert saved.audio.provider == "whisper" and not saved.audio.partial_transcript
    assert saved.audio.media_type == "audio/L16;rate=16000;channels=1"
    assert saved.audio.size_bytes == len(audio) and not saved.audio.truncated
    assert abs(saved.audio.duration_ms - len(audio) * 1000 // (2 * RATE)) <= 1
    [stored] = await answers(api, t)
    assert stored.text == saved.text and stored.audio == saved.audio
    # One answer per question: the question is refused before any audio is transcribed.
    err = await stream_error(api, t, chunks(audio))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(err)[0] == "ANSWER_EXISTS"


async def test_upload_over_grpc_transcribes_a_wav_and_saves_it(
        api: Api, platform: Platform, world: tuple[str, job_pb2.Job]) -> None:
    staff, job = world
    t = await taking(api, platform, staff, job.id)
    wav = espeak_wav(SENTENCE)
    r = await speech(api).UploadAnswerAudio(spb.UploadAnswerAudioRequest(
        id=t.id, question_id="team", audio=wav, encoding=spb.AUDIO_ENCODING_WAV),
        metadata=t.me)
    assert "python" in r.transcript.text.lower() and r.transcript.is_final
    assert r.answer.text == r.transcript.text.strip()
    assert r.answer.audio.media_type == "audio/wav" and r.answer.audio.provider == "whisper"
    assert r.answer.audio.size_bytes == len(wav) and r.answer.audio.duration_ms > 1000
    [stored] = await answers(api, t)
    assert stored.question_id == "team" and stored.audio.size_bytes == len(wav)
    await fails(speech(api).UploadAnswerAudio(spb.UploadAnswerAudioRequest(
        id=t.id, question_id="nope", audio=wav, encoding=spb.AUDIO_ENCODING_WAV),
        metadata=t.me), grpc.StatusCode.NOT_FOUND, "QUESTION_NOT_FOUND")
    await fails(speech(api).UploadAnswerAudio(spb.UploadAnswerAudioRequest(
        id=t.id, question_id="exp", audio=b"not audio at all", encoding=spb.AUDIO_ENCODING_MP3),
        metadata=t.me), grpc.StatusCode.INVALID_ARGUMENT, "AUDIO_UNDECODABLE")


async def test_upload_through_envoy_rest_and_grpc_web(
        api: Api, platform: Platform, world: tuple[str, job_pb2.Job],
        http: httpx.AsyncClient) -> None:
    staff, job = world
    t = await taking(api, platform, staff, job.id)
    wav = espeak_wav(SENTENCE)
    bearer = dict(t.me)["authorization"]
    r = await http.post(f"/v1/interviews/{t.id}/answers:audio", json={
        "questionId": "exp", "audio": base64.b64encode(wav).decode(),
        "encoding": "AUDIO_ENCODING_WAV"}, headers={"authorization": bearer}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "kubernetes" in body["transcript"]["text"].lower()
    assert body["answer"]["audio"]["provider"] == "whisper"
    # The same over gRPC-web, as a browser would, for another question.
    web = await http.post(
        "/interviewplatform.v1.SpeechService/UploadAnswerAudio",
        content=grpc_web_frame(spb.UploadAnswerAudioRequest(
            id=t.id, question_id="team", audio=wav, encoding=spb.AUDIO_ENCODING_WAV)
            .SerializeToString()),
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1",
                 "origin": "http://app.test", "authorization": bearer}, timeout=60)
    messages, trailers = parse_grpc_web(web.content)
    assert trailers.get("grpc-status", web.headers.get("grpc-status")) == "0", trailers
    answer = spb.UploadAnswerAudioResponse.FromString(messages[0]).answer
    assert answer.question_id == "team" and "python" in answer.text.lower()
    assert {a.question_id for a in await answers(api, t)} == {"exp", "team"}
    # REST errors keep their reason: no token.
    denied = await http.post(f"/v1/interviews/{t.id}/answers:audio", json={
        "questionId": "only-en", "audio": base64.b64encode(wav).decode(),
        "encoding": "AUDIO_ENCODING_WAV"})
    assert denied.status_code == 401
    assert "TOKEN_MISSING" in denied.text


async def test_client_cancel_mid_stream_saves_nothing_and_the_server_keeps_serving(
        api: Api, platform: Platform, world: tuple[str, job_pb2.Job]) -> None:
    staff, job = world
    t = await taking(api, platform, staff, job.id)
    audio = pcm16k(SENTENCE)
    call = speech(api).StreamAnswer(requests(t, chunks(audio) * 3, pause=0.05), metadata=t.me)
    first = await call.read()        # an interim transcript: the stream is live
    assert first.HasField("transcript") and not first.transcript.is_final
    assert call.cancel() and call.cancelled()
    await asyncio.sleep(0.5)
    assert await answers(api, t) == []
    # The same question can still be answered, and the server serves as before.
    got = await stream(api, t, chunks(audio))
    assert got[-1].HasField("answer") and "python" in got[-1].answer.text.lower()


async def test_stream_framing_errors(api: Api, platform: Platform,
                                     world: tuple[str, job_pb2.Job]) -> None:
    staff, job = world
    t = await taking(api, platform, staff, job.id)

    async def audio_first() -> AsyncIterator[spb.StreamAnswerRequest]:
        yield spb.StreamAnswerRequest(id=t.id, audio=b"\0\0")

    async def config_twice() -> AsyncIterator[spb.StreamAnswerRequest]:
        yield config(t)
        yield config(t)

    for reqs, reason in ((audio_first(), "STREAM_CONFIG_REQUIRED"),
                         (config_twice(), "STREAM_CONFIG_REPEATED")):
        with pytest.raises(aio.AioRpcError) as err:
            async for _ in speech(api).StreamAnswer(reqs, metadata=t.me):
                pass
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(err.value)[0] == reason
    err2 = await stream_error(api, t, [b"\0" * CHUNK], rate=4000)
    assert error_info(err2)[0] == "SAMPLE_RATE_REQUIRED"
    silence = await stream_error(api, t, chunks(b"\0" * RATE))   # 0.5 s of silence
    assert silence.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(silence)[0] == "NO_SPEECH"
    assert await answers(api, t) == []


async def test_twenty_simultaneous_candidates_get_their_own_transcripts(
        api: Api, platform: Platform, world: tuple[str, job_pb2.Job]) -> None:
    staff, job = world
    # Words the bundled tiny.en model hears right in espeak-ng's voice (deterministic).
    words = ["apple", "tiger", "guitar", "camera", "summer", "winter", "doctor", "teacher",
             "mountain", "river", "coffee", "chocolate", "airplane", "computer", "elephant",
             "garden", "rocket", "library", "ocean", "pizza"]
    audios = await asyncio.gather(*(asyncio.to_thread(pcm16k, f"I really like the {w}.")
                                    for w in words))
    takings = await asyncio.gather(*(taking(api, platform, staff, job.id) for _ in words))
    results = await asyncio.gather(*(stream(api, t, chunks(a), pause=0.01)
                                     for t, a in zip(takings, audios, strict=True)))
    for word, got in zip(words, results, strict=True):
        text = got[-1].answer.text.lower()
        assert word in text, (word, text)
        assert not [w for w in words if w != word and w in text], (word, text)
    for t, got in zip(takings, results, strict=True):
        [stored] = await answers(api, t)
        assert stored.text == got[-1].answer.text


# --- spoken questions --------------------------------------------------------------------------


async def test_speak_question_streams_spanish_audio_and_caches_it(
        api: Api, platform: Platform, world: tuple[str, job_pb2.Job]) -> None:
    staff, job = world
    t = await taking(api, platform, staff, job.id, language="es")
    got = [r async for r in speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=t.id, question_id="exp"), metadata=t.me)]
    assert len(got) > 1   # streamed in chunks
    assert {(r.voice, r.language, r.encoding, r.sample_rate_hertz) for r in got} == {
        ("espeak-ng:es", "es", spb.AUDIO_ENCODING_WAV, 22050)}
    audio = b"".join(r.audio for r in got)
    assert audio[:4] == b"RIFF" and len(decode_container(audio)) > RATE  # > 0.5 s of speech
    again = [r async for r in speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=t.id, question_id="exp"), metadata=t.me)]
    assert b"".join(r.audio for r in again) == audio
    # A question with no Spanish text is spoken in English, and the response says so.
    english = [r async for r in speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=t.id, question_id="only-en"), metadata=t.me)]
    assert {(r.voice, r.language) for r in english} == {("espeak-ng:en-us", "en")}
    await fails(anext(aiter(speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=t.id, question_id="missing"), metadata=t.me))),
        grpc.StatusCode.NOT_FOUND, "QUESTION_NOT_FOUND")


# --- who may call (authz) ------------------------------------------------------------------------


@dataclass
class AuthzWorld:
    t: Taking
    other: Taking          # another interview, in progress, with its own token
    scheduled: Taking      # not started
    completed: Taking


@pytest.fixture
async def authz(api: Api, platform: Platform, world: tuple[str, job_pb2.Job]) -> AuthzWorld:
    staff, job = world
    t, other, scheduled, completed = await asyncio.gather(
        taking(api, platform, staff, job.id), taking(api, platform, staff, job.id),
        taking(api, platform, staff, job.id, start=False), taking(api, platform, staff, job.id))
    await api.candidate.CompleteInterview(cpb.CompleteInterviewRequest(id=completed.id),
                                          metadata=completed.me)
    return AuthzWorld(t, other, scheduled, completed)


SPEECH_AUDIO = [b"\0" * CHUNK]


async def test_streamanswer_authz_no_token(api: Api, authz: AuthzWorld) -> None:
    err = await stream_error(api, authz.t, SPEECH_AUDIO, me=())  # type: ignore[arg-type]
    assert (err.code(), error_info(err)[0]) == (grpc.StatusCode.UNAUTHENTICATED,
                                                "TOKEN_MISSING")


async def test_streamanswer_authz_staff_token(api: Api, authz: AuthzWorld) -> None:
    err = await stream_error(api, authz.t, SPEECH_AUDIO, me=auth(authz.t.staff))
    assert (err.code(), error_info(err)[0]) == (grpc.StatusCode.UNAUTHENTICATED,
                                                "CANDIDATE_TOKEN_INVALID")


async def test_streamanswer_authz_another_interviews_token(api: Api, authz: AuthzWorld) -> None:
    err = await stream_error(api, authz.t, SPEECH_AUDIO, me=authz.other.me)
    assert (err.code(), error_info(err)[0]) == (grpc.StatusCode.NOT_FOUND,
                                                "INTERVIEW_NOT_FOUND")
    assert await answers(api, authz.t) == [] and await answers(api, authz.other) == []


async def test_streamanswer_authz_interview_not_in_progress(api: Api, authz: AuthzWorld) -> None:
    for t, reason in ((authz.scheduled, "INTERVIEW_NOT_STARTED"),
                      (authz.completed, "INTERVIEW_COMPLETED")):
        err = await stream_error(api, t, SPEECH_AUDIO)
        assert (err.code(), error_info(err)[0]) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                    reason)


async def speak_error(api: Api, t: Taking, me: tuple[tuple[str, str]] | tuple[()]
                      ) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(aio.AioRpcError) as err:
        async for _ in speech(api).SpeakQuestion(
                spb.SpeakQuestionRequest(id=t.id, question_id="exp"), metadata=me):
            pass
    return err.value.code(), error_info(err.value)[0]


async def test_speakquestion_authz_no_token(api: Api, authz: AuthzWorld) -> None:
    assert await speak_error(api, authz.t, ()) == (grpc.StatusCode.UNAUTHENTICATED,
                                                   "TOKEN_MISSING")


async def test_speakquestion_authz_staff_token(api: Api, authz: AuthzWorld) -> None:
    assert await speak_error(api, authz.t, auth(authz.t.staff)) == (
        grpc.StatusCode.UNAUTHENTICATED, "CANDIDATE_TOKEN_INVALID")


async def test_speakquestion_authz_another_interviews_token(api: Api,
                                                            authz: AuthzWorld) -> None:
    assert await speak_error(api, authz.t, authz.other.me) == (grpc.StatusCode.NOT_FOUND,
                                                               "INTERVIEW_NOT_FOUND")


async def test_speakquestion_authz_interview_not_in_progress(api: Api,
                                                             authz: AuthzWorld) -> None:
    assert await speak_error(api, authz.scheduled, authz.scheduled.me) == (
        grpc.StatusCode.FAILED_PRECONDITION, "INTERVIEW_NOT_STARTED")
    assert await speak_error(api, authz.completed, authz.completed.me) == (
        grpc.StatusCode.FAILED_PRECONDITION, "INTERVIEW_COMPLETED")


# --- caps (a platform with small limits) ------------------------------------------------------


@pytest.fixture
async def capped(new_database: Callable[[], Awaitable[str]], data_dir: Path
                 ) -> AsyncIterator[tuple[Platform, Api]]:
    settings = fast_settings(data_dir=data_dir, speech_provider="local",
                             speech_max_seconds=2.0, speech_max_bytes=50_000,
                             answer_audio_keep_bytes=8_000)
    p = await start_platform(settings, await new_database())
    try:
        async with aio.insecure_channel(f"127.0.0.1:{p.port}") as channel:
            yield p, Api(channel)
    finally:
        await p.stop(grace=1.0)


async def own_world(p: Platform, api: Api) -> tuple[str, job_pb2.Job]:
    tenant = await tenant_on(p, api)
    staff = tenant.members[0].token
    return staff, await make_job(api, staff, tenant.departments[0].id)


async def test_caps_on_duration_and_bytes_stop_the_stream_and_save_nothing(
        capped: tuple[Platform, Api]) -> None:
    p, api = capped
    staff, job = await own_world(p, api)
    t = await taking(api, p, staff, job.id)
    # 3 s of 8 kHz audio (48 KB < 50 KB): longer than 2 s.
    long8k = await asyncio.to_thread(pcm16k, SENTENCE)
    eight = long8k[::2][: 3 * 16000]     # every other sample: 8 kHz (content is irrelevant)
    err = await stream_error(api, t, chunks(eight), rate=8000)
    assert (err.code(), error_info(err)[0]) == (grpc.StatusCode.RESOURCE_EXHAUSTED,
                                                "AUDIO_TOO_LONG")
    assert error_info(err)[1]["max_seconds"] == "2"
    # 60 KB of 48 kHz audio (0.6 s): more bytes than allowed.
    err = await stream_error(api, t, chunks(b"\1\0" * 30_000), rate=48000)
    assert (err.code(), error_info(err)[0]) == (grpc.StatusCode.RESOURCE_EXHAUSTED,
                                                "AUDIO_TOO_LARGE")
    await fails(speech(api).UploadAnswerAudio(spb.UploadAnswerAudioRequest(
        id=t.id, question_id="exp", audio=b"\0" * 60_000, encoding=spb.AUDIO_ENCODING_MP3),
        metadata=t.me), grpc.StatusCode.RESOURCE_EXHAUSTED, "AUDIO_TOO_LARGE")
    assert await answers(api, t) == []
    # Within the caps: saved, the recording kept up to 8,000 bytes (truncated).
    short = await asyncio.to_thread(pcm16k, "I like Python.")
    assert len(short) < 2 * 16000 * 2
    got = await stream(api, t, chunks(short))
    saved = got[-1].answer
    assert saved.audio.truncated and saved.audio.size_bytes == 8_000
    assert abs(saved.audio.duration_ms - len(short) * 1000 // (2 * RATE)) <= 1
    assert "python" in saved.text.lower()


# --- Deepgram (the real SDK against a fake server) ---------------------------------------------


@pytest.fixture
async def deepgram(new_database: Callable[[], Awaitable[str]], data_dir: Path
                   ) -> AsyncIterator[tuple[Platform, Api, FakeDeepgram]]:
    with FakeDeepgram(api_key="dg-test-key", bytes_per_word=6400,
                      segments=["I have five years", "of experience with Python and Kubernetes"]
                      ) as fake:
        settings = fast_settings(data_dir=data_dir, speech_provider="deepgram",
                                 deepgram_api_key="dg-test-key", deepgram_base_url=fake.base_url)
        p = await start_platform(settings, await new_database())
        try:
            async with aio.insecure_channel(f"127.0.0.1:{p.port}") as channel:
                yield p, Api(channel), fake
        finally:
            await p.stop(grace=1.0)


async def test_deepgram_interim_and_final_transcripts_arrive_in_order_and_the_final_is_saved(
        deepgram: tuple[Platform, Api, FakeDeepgram]) -> None:
    p, api, fake = deepgram
    staff, job = await own_world(p, api)
    t = await taking(api, p, staff, job.id)
    audio = await asyncio.to_thread(pcm16k, SENTENCE)
    assert len(audio) >= 9 * 6400          # every scripted word is revealed
    got = await stream(api, t, chunks(audio), pause=0.02)
    pieces = [r.transcript for r in got[:-1]]
    assert [x.is_final for x in pieces if x.is_final] and not pieces[0].is_final
    finals = [x.text for x in pieces if x.is_final]
    assert finals == ["I have five years", "of experience with Python and Kubernetes"]
    # Each interim grows the segment it belongs to, and comes before that segment's final.
    first_final = next(n for n, x in enumerate(pieces) if x.is_final)
    interims = [x.text for x in pieces[:first_final]]
    assert interims and all("I have five years".startswith(x) for x in interims), interims
    assert [len(x) for x in interims] == sorted(len(x) for x in interims)  # growing, in order
    saved = got[-1].answer
    assert saved.text == "I have five years of experience with Python and Kubernetes"
    assert saved.audio.provider == "deepgram" and not saved.audio.partial_transcript
    [stored] = await answers(api, t)
    assert stored.text == saved.text and stored.audio.size_bytes == len(audio)
    [listen] = fake.listens
    assert listen.audio_bytes == len(audio) and listen.query["encoding"] == "linear16"
    health = await system_service_pb2_grpc.SystemServiceStub(api.channel).GetHealth(
        sypb.GetHealthRequest())
    [probe] = [c for c in health.components if c.name == "speech"]
    assert "stt deepgram" in probe.provider and "espeak" in probe.provider, probe


async def test_deepgram_drop_keeps_the_partial_transcript_marked(
        deepgram: tuple[Platform, Api, FakeDeepgram]) -> None:
    p, api, fake = deepgram
    staff, job = await own_world(p, api)
    t = await taking(api, p, staff, job.id)
    fake.drop_after_bytes = 6 * 6400       # "I have five years" final, then "of experience"
    audio = await asyncio.to_thread(pcm16k, SENTENCE)
    got: list[spb.StreamAnswerResponse] = []
    err = await stream_error(api, t, chunks(audio), got=got)
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    reason, meta = error_info(err)
    assert reason == "SPEECH_PROVIDER_DROPPED" and meta["answer_saved"] == "true"
    assert got[-1].HasField("answer") and got[-2].transcript.partial
    saved = got[-1].answer
    assert saved.text.startswith("I have five years") and "experience" in saved.text
    assert saved.audio.partial_transcript and saved.audio.provider == "deepgram"
    [stored] = await answers(api, t)
    assert stored.text == saved.text and stored.audio.partial_transcript
    assert [x.ended for x in fake.listens] == ["dropped"]


async def test_deepgram_speaks_spanish_with_aura_and_falls_back_to_espeak_for_portuguese(
        deepgram: tuple[Platform, Api, FakeDeepgram]) -> None:
    p, api, fake = deepgram
    staff, job = await own_world(p, api)
    es = await taking(api, p, staff, job.id, language="es")
    got = [r async for r in speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=es.id, question_id="exp"), metadata=es.me)]
    assert {(r.voice, r.language) for r in got} == {("aura-2-celeste-es", "es")}
    assert b"".join(r.audio for r in got)[:4] == b"RIFF" and len(got) > 1
    assert [s.text for s in fake.speaks] == ["Háblame de tu experiencia con Python."]
    again = [r async for r in speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=es.id, question_id="exp"), metadata=es.me)]
    assert [r.audio for r in again] == [r.audio for r in got]
    assert len(fake.speaks) == 1     # served from the cache (question text, voice)
    pt = await taking(api, p, staff, job.id, language="pt")
    got = [r async for r in speech(api).SpeakQuestion(
        spb.SpeakQuestionRequest(id=pt.id, question_id="exp"), metadata=pt.me)]
    assert {(r.voice, r.language) for r in got} == {("espeak-ng:pt-br", "pt")}
    assert len(fake.speaks) == 1     # Aura was not asked: it has no Portuguese voice
