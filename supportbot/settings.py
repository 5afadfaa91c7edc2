"""Settings, read once at the edge (the CLI or ``build_app``) and passed down.

Every field maps to one environment variable (or a line in a ``.env`` file); the
names are the ones DESIGN.md fixes. Nothing below ``supportbot/`` reads
``os.environ`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """All configuration of one supportbot process."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        populate_by_name=True,
        validate_default=True,
    )

    # -- paths ---------------------------------------------------------------
    knowledge_dir: Path = Field(
        Path("knowledge"), validation_alias=_env("SUPPORTBOT_KNOWLEDGE_DIR", "knowledge_dir")
    )
    policies_dir: Path = Field(
        Path("policies"), validation_alias=_env("SUPPORTBOT_POLICIES_DIR", "policies_dir")
    )
    data_dir: Path = Field(
        Path(".supportbot"), validation_alias=_env("SUPPORTBOT_DATA_DIR", "data_dir")
    )

    # -- store ---------------------------------------------------------------
    database_url: str | None = Field(
        None,
        validation_alias=_env("DATABASE_URL", "database_url"),
        description="SQLAlchemy or plain postgresql:// URL; default SQLite under the data dir.",
    )

    # -- vector index --------------------------------------------------------
    chroma_host: str | None = Field(None, validation_alias=_env("CHROMA_HOST", "chroma_host"))
    chroma_port: int = Field(8000, validation_alias=_env("CHROMA_PORT", "chroma_port"))
    chroma_collection: str = Field(
        "knowledge", validation_alias=_env("SUPPORTBOT_CHROMA_COLLECTION", "chroma_collection")
    )
    embedder: str = Field(
        "minilm",
        validation_alias=_env("SUPPORTBOT_EMBEDDER", "embedder"),
        description="'minilm' (offline, bundled) or 'ollama' (uses OLLAMA_EMBED_MODEL).",
    )
    ollama_embed_model: str = Field(
        "nomic-embed-text", validation_alias=_env("OLLAMA_EMBED_MODEL", "ollama_embed_model")
    )

    # -- open model (executor) -------------------------------------------------
    ollama_host: str | None = Field(None, validation_alias=_env("OLLAMA_HOST", "ollama_host"))
    ollama_model: str = Field("qwen3:8b", validation_alias=_env("OLLAMA_MODEL", "ollama_model"))
    ollama_timeout_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("OLLAMA_TIMEOUT_SECONDS", "ollama_timeout_seconds")
    )
    ollama_num_ctx: int = Field(
        8192, gt=0, validation_alias=_env("OLLAMA_NUM_CTX", "ollama_num_ctx")
    )

    # -- frontier model (escalator) ------------------------------------------
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=_env("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    anthropic_model: str = Field(
        "claude-sonnet-5-5", validation_alias=_env("ANTHROPIC_MODEL", "anthropic_model")
    )
    anthropic_base_url: str | None = Field(
        None, validation_alias=_env("ANTHROPIC_BASE_URL", "anthropic_base_url")
    )
    anthropic_timeout_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("ANTHROPIC_TIMEOUT_SECONDS", "anthropic_timeout_seconds")
    )
    anthropic_max_retries: int = Field(
        3, ge=0, validation_alias=_env("ANTHROPIC_MAX_RETRIES", "anthropic_max_retries")
    )
    mask_pii: bool = Field(True, validation_alias=_env("SUPPORTBOT_MASK_PII", "mask_pii"))

    # -- retrieval -------------------------------------------------------------
    retrieval_k: int = Field(
        5, gt=0, validation_alias=_env("SUPPORTBOT_RETRIEVAL_K", "retrieval_k")
    )

    # -- Slack -----------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_env("SUPPORTBOT_SLACK_API_URL", "slack_api_url"),
    )
    review_channel: str | None = Field(
        None, validation_alias=_env("SUPPORTBOT_REVIEW_CHANNEL", "review_channel")
    )
    digest_channel: str | None = Field(
        None, validation_alias=_env("SUPPORTBOT_DIGEST_CHANNEL", "digest_channel")
    )
    reviewers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("SUPPORTBOT_REVIEWERS", "reviewers"),
        description="Comma-separated reviewer user IDs (U...) and/or user group IDs (S...).",
    )
    support_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("SUPPORTBOT_SUPPORT_CHANNELS", "support_channels"),
    )
    source_url_template: str | None = Field(
        None,
        validation_alias=_env("SUPPORTBOT_SOURCE_URL_TEMPLATE", "source_url_template"),
        description="e.g. https://git.example.com/kb/blob/main/{source}#L{line_start}",
    )
    review_sla_minutes: int = Field(
        60, gt=0, validation_alias=_env("SUPPORTBOT_REVIEW_SLA_MINUTES", "review_sla_minutes")
    )
    fallback_reviewers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("SUPPORTBOT_FALLBACK_REVIEWERS", "fallback_reviewers"),
    )
    slack_workers: int = Field(
        16,
        gt=0,
        le=256,
        validation_alias=_env("SUPPORTBOT_SLACK_WORKERS", "slack_workers"),
        description="Questions answered at once (model calls run in parallel on these threads).",
    )
    slack_queue_limit: int = Field(
        500,
        gt=0,
        validation_alias=_env("SUPPORTBOT_SLACK_QUEUE_LIMIT", "slack_queue_limit"),
        description="Questions waiting for a worker beyond which new ones are turned away.",
    )
    recovery_idle_seconds: int = Field(
        0,
        ge=0,
        validation_alias=_env("SUPPORTBOT_RECOVERY_IDLE_SECONDS", "recovery_idle_seconds"),
        description=(
            "At start-up, unfinished questions untouched this long were interrupted by a crash "
            "and are answered again. 0 suits one bot process; with several, set it above the "
            "longest answer time (e.g. 600) so a restart never takes over a live question."
        ),
    )

    # -- scheduler -------------------------------------------------------------
    timezone: str = Field("UTC", validation_alias=_env("SUPPORTBOT_TIMEZONE", "timezone"))
    reindex_cron: str = Field(
        "0 2 * * *", validation_alias=_env("SUPPORTBOT_REINDEX_CRON", "reindex_cron")
    )
    digest_cron: str = Field(
        "0 9 * * *", validation_alias=_env("SUPPORTBOT_DIGEST_CRON", "digest_cron")
    )

    # -- digest ----------------------------------------------------------------
    # Frontier list prices in USD per million tokens, for the digest's cost figures. The
    # defaults are Anthropic's Claude Sonnet list prices (input $3, output $15, cache read
    # $0.30, 5-minute cache write $3.75); set them to your model and contract.
    frontier_price_input_per_mtok: float = Field(
        3.0,
        ge=0,
        validation_alias=_env("SUPPORTBOT_FRONTIER_PRICE_INPUT", "frontier_price_input_per_mtok"),
    )
    frontier_price_output_per_mtok: float = Field(
        15.0,
        ge=0,
        validation_alias=_env("SUPPORTBOT_FRONTIER_PRICE_OUTPUT", "frontier_price_output_per_mtok"),
    )
    frontier_price_cache_read_per_mtok: float = Field(
        0.30,
        ge=0,
        validation_alias=_env(
            "SUPPORTBOT_FRONTIER_PRICE_CACHE_READ", "frontier_price_cache_read_per_mtok"
        ),
    )
    frontier_price_cache_write_per_mtok: float = Field(
        3.75,
        ge=0,
        validation_alias=_env(
            "SUPPORTBOT_FRONTIER_PRICE_CACHE_WRITE", "frontier_price_cache_write_per_mtok"
        ),
    )
    gap_similarity: float = Field(
        0.55,
        gt=0,
        le=1,
        validation_alias=_env("SUPPORTBOT_GAP_SIMILARITY", "gap_similarity"),
        description=(
            "Cosine similarity (average linkage) at or above which the digest groups two "
            "weak-retrieval questions as one knowledge gap; 0.55 suits the bundled MiniLM, "
            "other embedders have other scales."
        ),
    )

    # -- server ----------------------------------------------------------------
    port: int = Field(3000, gt=0, lt=65536, validation_alias=_env("PORT", "port"))
    log_level: str = Field("INFO", validation_alias=_env("SUPPORTBOT_LOG_LEVEL", "log_level"))

    @field_validator("reviewers", "support_channels", "fallback_reviewers", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "ollama_host", "chroma_host", "database_url", "anthropic_base_url", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    # -- derived -----------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL of the store; a plain ``postgresql://`` URL uses psycopg 3."""
        if self.database_url is None:
            return f"sqlite:///{(self.data_dir / 'supportbot.db').resolve()}"
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def chart_dir(self) -> Path:
        return self.data_dir / "charts"
