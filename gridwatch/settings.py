"""One typed settings object for every GridWatch process, read from GRIDWATCH_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Process settings; every field can be set as GRIDWATCH_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="GRIDWATCH_", extra="ignore")

    site_id: str = Field("haichuan", description="Site id: the {site} segment of every topic")
    site_dir: Path = Field(
        PROJECT_ROOT / "site" / "demo", description="Folder holding the site model to load"
    )
    data_dir: Path = Field(
        PROJECT_ROOT / ".gridwatch",
        description="Where evidence files and embedded services keep their data",
    )
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset means an embedded PostgreSQL under data_dir"
    )
    mqtt_host: str = Field("127.0.0.1", description="MQTT broker host")
    mqtt_port: int = Field(1883, gt=0, lt=65536, description="MQTT broker port")
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        "5", description="MQTT protocol version; the embedded Python broker speaks only 3.1.1"
    )
    mqtt_username: str | None = Field(None, description="MQTT user for GridWatch's own clients")
    mqtt_password: str | None = Field(None, description="MQTT password for that user")
    dashboard_host: str = Field("127.0.0.1", description="Interface the dashboard listens on")
    dashboard_port: int = Field(8050, gt=0, lt=65536, description="Dashboard HTTP port")
    dashboard_refresh_ms: int = Field(
        2000, ge=250, description="How often the big screen refreshes its figures"
    )
    max_frame_bytes: int = Field(
        2_000_000, gt=0, description="Frames larger than this go to dead letters"
    )
    max_payload_bytes: int = Field(
        64_000, gt=0, description="Non-frame payloads larger than this go to dead letters"
    )
    dead_letter_keep_bytes: int = Field(
        4096, ge=0, description="How much of a rejected payload is kept for inspection"
    )
    telemetry_batch_rows: int = Field(
        2000, gt=0, description="Telemetry rows written per database batch at most"
    )
    telemetry_flush_ms: int = Field(
        200, gt=0, description="Longest a telemetry reading waits before its batch is written"
    )
    ingest_session_expiry_s: int = Field(
        86_400, ge=0, description="How long the broker keeps ingest's queue while it is away"
    )
    ingest_workers: int = Field(
        1, ge=1, description="Ingest processes sharing the site (MQTT 5 shared subscriptions)"
    )
    ingest_worker_index: int = Field(
        0, ge=0, description="Which of the ingest_workers this process is (0-based)"
    )
    ingest_frames_shared: bool = Field(
        False,
        description="Frames, status and events through the shared subscription too; only with "
        "a broker that hashes a topic to one member (EMQX hash_topic), see docs/SCALING.md",
    )
    ingest_receive_maximum: int = Field(
        5000,
        ge=1,
        le=65535,
        description="Unacknowledged messages the broker may have in flight to one ingest "
        "process; bounds its memory while the database is slow",
    )
    metrics_port: int = Field(
        9310,
        ge=0,
        lt=65536,
        description="Port of ingest's Prometheus /metrics (worker i: port + i); 0 turns it off",
    )
    frame_workers: int = Field(2, ge=1, description="Threads running detectors on camera frames")
    # Storage lifecycle (`gridwatch maintain`; TimescaleDB policies where it exists).
    telemetry_retention_days: int = Field(
        90,
        ge=31,
        description="Raw telemetry and detections older than this are deleted; longer than "
        "the 30 days a device may backfill, so a late reading never lands in a deleted minute",
    )
    rollup_retention_days: int = Field(
        730, ge=1, description="One-minute telemetry rollup rows older than this are deleted"
    )
    offline_alert_after_s: float = Field(
        120.0,
        gt=0,
        description="A device whose last will said offline and that stays away this long "
        "raises a device_offline alert; a shorter blip raises nothing",
    )
    dead_letter_retention_days: int = Field(
        30,
        ge=1,
        description="Refused messages older than this are deleted: long enough to find and fix "
        "the device that sent them, bounded when a device keeps sending garbage",
    )
    compress_after_days: int = Field(
        7, ge=1, description="TimescaleDB compresses telemetry and detections older than this"
    )
    rollup_interval_s: float = Field(
        5.0, gt=0, description="How often the one-minute rollup takes in new readings"
    )
    retention_interval_s: float = Field(
        3600.0, gt=0, description="How often readings past their retention are deleted"
    )
    frame_queue_per_camera: int = Field(
        8, ge=1, description="Frames waiting per camera before the oldest is dropped"
    )
    clip_pre_seconds: float = Field(
        2.0, ge=0, le=10, description="Seconds of a camera's feed before an alert in its clip"
    )
    clip_post_seconds: float = Field(
        2.0, ge=0, le=10, description="Seconds of a camera's feed after an alert in its clip"
    )
    clip_buffer_max_bytes: int = Field(
        16_000_000,
        ge=1_000_000,
        description="Encoded frames one camera may hold for clips (pre-event ring + clips)",
    )
    deadlines_file: Path | None = Field(
        None,
        description="YAML file of work-order deadlines by type and severity, laid over the "
        "defaults (docs/DISPATCH.md)",
    )
    routing_file: Path | None = Field(
        None,
        description="YAML file of who takes and who hears of a new work order by type, laid "
        "over the defaults (docs/DISPATCH.md)",
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins per name and address before POST /login answers 429"
    )
    login_failure_window_s: float = Field(
        300.0, gt=0, description="The window those failed logins are counted in"
    )
    notify_retry_first_s: float = Field(
        30.0, gt=0, description="Wait before a failed notification's first retry; doubles after"
    )
    notify_retry_max_s: float = Field(
        1800.0, gt=0, description="Longest wait between two retries of a notification"
    )
    notify_give_up_s: float = Field(
        86_400.0, gt=0, description="Give up a notification still failing this long after"
    )

    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
