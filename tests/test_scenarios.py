"""Every bundled scenario, played against the real system (broker, ingest, database).

One ingest serves them all; each scenario uses devices of its own, so one scenario's
detector state cannot help or hurt another's. Scenes play faster than real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridwatch import db
from gridwatch.settings import Settings
from gridwatch.site import Site, load_site, store_site
from ingest.service import IngestService
from simulators.player import ScenarioPlayer
from simulators.report import report_lines
from simulators.scenario import SCENARIO_DIR, load_scenario

SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))


@pytest.fixture(scope="module")
def site(settings: Settings, database_url: str) -> Site:
    model = load_site(settings.site_dir).model_copy(update={"id": settings.site_id})
    with db.connection(database_url) as conn:
        store_site(conn, model)
    return model


@pytest.fixture(scope="module")
def ingest(site: Site, settings: Settings) -> Iterator[IngestService]:
    service = IngestService(settings)
    service.start()
    service.wait_connected()
    yield service
    service.stop()


def test_the_bundled_scenarios_cover_every_feed_a_mixed_evening_and_a_quiet_one() -> None:
    names = {path.stem for path in SCENARIOS}
    assert {
        "fire_lane",
        "elevator_ebike",
        "falling_object",
        "shed_fire",
        "socket_overheat",
        "evening_in_the_district",
        "nothing_wrong",
    } <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_passes_against_the_running_system(
    path: Path, ingest: IngestService, site: Site, settings: Settings
) -> None:
    scenario = load_scenario(path, site)
    report = ScenarioPlayer(settings, site, scenario).run()
    lines = "\n".join(report_lines(report))
    assert report.passed, lines
    assert report.frames + report.readings > 0
    if not scenario.expect:
        raised = [o for o in report.observed if o.subject != "status" and o.event == "raised"]
        assert raised == [], lines
    print(lines)


def _cli_env(settings: Settings) -> dict[str, str]:
    return {
        "GRIDWATCH_MQTT_HOST": settings.mqtt_host,
        "GRIDWATCH_MQTT_PORT": str(settings.mqtt_port),
        "GRIDWATCH_MQTT_PROTOCOL": settings.mqtt_protocol,
        "GRIDWATCH_SITE_ID": settings.site_id,
    }


QUICK = """
name: quick {verdict}
speed: 4
duration_s: 4
devices: [fl-010105-1]
timeline:
  - {{at: 1, incident: pass_car, device: fl-010105-1}}
  - {{at: 2, incident: device_offline, device: fl-010105-1, for_s: 1}}
expect:
  - {{status: offline, device: fl-010105-1, within_s: 1}}
{extra}
"""


@pytest.mark.parametrize(
    ("verdict", "extra", "exit_code"),
    [
        ("pass", "", 0),
        ("fail", "  - {alert: fire_lane_occupied, device: fl-010105-1, within_s: 3}", 1),
    ],
)
def test_simulate_run_check_prints_each_expectation_and_exits_with_the_verdict(
    verdict: str,
    extra: str,
    exit_code: int,
    ingest: IngestService,
    settings: Settings,
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from gridwatch.cli import main

    scenario = tmp_path / f"{verdict}.yaml"
    scenario.write_text(QUICK.format(verdict=verdict, extra=extra), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["simulate", "run", str(scenario), "--check"], env=_cli_env(settings)
    )
    assert result.exit_code == exit_code, result.output
    assert "PASS  status offline on fl-010105-1 within 1 s of t=1 s  latency" in result.stdout
    if exit_code:
        assert "FAIL  fire_lane_occupied on fl-010105-1 within 3 s" in result.stdout
        assert "(never came)" in result.stdout
    assert "scene 4/4 s" in result.stderr, "progress while it plays"


def test_a_bad_scenario_file_is_refused_before_anything_plays(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gridwatch.cli import main

    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nduration_s: 5\ndevices: [nowhere-1]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "run", str(scenario), "--check"])
    assert result.exit_code == 1
    assert f"{scenario}: devices[0]: 'nowhere-1' is not a device of site" in result.output
