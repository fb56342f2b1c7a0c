"""The load generator against a Mosquitto of its own that enforces the site's passwords and
ACL: every message it offers is acknowledged, every device speaks as itself, and the
readings are well-formed and numbered per device."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridwatch.broker import SECRET_ENV, SERVICE_USER, derive_password
from gridwatch.broker.mosquitto import mosquitto_binary, start_site_broker
from gridwatch.cli import main
from gridwatch.frames import FRAME_HEADER
from gridwatch.settings import PROJECT_ROOT, Settings, load_settings
from gridwatch.site import Site, load_site
from simulators.load import LoadError, plan_load
from tests.helpers import Recorder, wait_for

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")

SECRET = "load-generator-secret-0123456789"
DEVICES, RATE, CAMERAS, FPS, SECONDS = 12, 100, 2, 5, 3


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(PROJECT_ROOT / "site" / "demo")


@pytest.fixture(scope="module")
def secured(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    folder = tmp_path_factory.mktemp("load-broker")
    broker = start_site_broker(site, SECRET.encode(), folder)
    port = broker.port
    try:
        yield load_settings(
            mqtt_port=port,
            site_id=site.id,
            mqtt_username=SERVICE_USER,
            mqtt_password=derive_password(SECRET.encode(), site.id, SERVICE_USER),
            data_dir=Path(folder),
        )
    finally:
        broker.stop()


def test_every_offered_message_is_acknowledged_under_the_acl(secured: Settings, site: Site) -> None:
    gridwatch = Recorder(secured, f"gw/v1/{site.id}/+/+/telemetry", f"gw/v1/{site.id}/+/+/frame")
    env = {
        SECRET_ENV: SECRET,
        "GRIDWATCH_MQTT_PORT": str(secured.mqtt_port),
        "GRIDWATCH_SITE_ID": site.id,
    }
    args = ["simulate", "load", "--devices", str(DEVICES), "--rate", str(RATE)]
    args += ["--cameras", str(CAMERAS), "--fps", str(FPS), "--duration", str(SECONDS)]
    result = CliRunner().invoke(main, [*args, "--workers", "2"], env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert "sent" in result.stderr and "acked" in result.stderr, "a live progress line"

    # Pacing: the offered count is what was asked for, to within one tick per device.
    assert abs(figures["telemetry_sent"] - DEVICES * RATE * SECONDS) <= 2 * DEVICES
    assert abs(figures["frames_sent"] - CAMERAS * FPS * SECONDS) <= 2 * CAMERAS
    assert figures["telemetry_acked"] == figures["telemetry_sent"]
    assert figures["frames_acked"] == figures["frames_sent"]
    assert figures["errors"] == 0

    # What the broker let through reached GridWatch's login: each device on its own topic.
    wait_for(
        lambda: len(gridwatch.messages) >= figures["telemetry_sent"] + figures["frames_sent"],
        10,
        "every message at the subscriber",
    )
    gridwatch.close()
    seqs: dict[str, list[int]] = defaultdict(list)
    for topic, payload in gridwatch.messages:
        device = topic.split("/")[4]
        if topic.endswith("/frame"):
            magic, _, seq = FRAME_HEADER.unpack_from(payload)
            assert magic == b"GWF1" and payload[FRAME_HEADER.size :][:2] == b"\xff\xd8"
        else:
            reading = json.loads(payload)
            assert set(reading) == {"ts", "seq", "values"}
            seq = reading["seq"]
        seqs[device].append(seq)
    assert len(seqs) == DEVICES + CAMERAS
    for device, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"{device} numbers in order"


def test_asking_for_more_devices_than_the_site_has_says_how_to_get_them(site: Site) -> None:
    with pytest.raises(LoadError, match="gridwatch site generate"):
        plan_load(site, devices=10_000, rate=1, cameras=0, fps=5, duration_s=1, workers=1)
