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
    frame_workers: int = Field(2, ge=1, description="Threads running detectors on camera frames")
    frame_queue_per_camera: int = Field(
        8, ge=1, description="Frames waiting per camera before the oldest is dropped"
    )

    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
