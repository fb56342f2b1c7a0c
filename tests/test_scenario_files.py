"""Scenario files: validated against the model and the site with errors a tester can act on,
and played deterministically (the same seed renders the same frames). No services needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.settings import PROJECT_ROOT
from gridwatch.site import Site, load_site
from simulators.checks import Observed, judge
from simulators.incidents import Stage
from simulators.player import sim_devices
from simulators.scenario import (
    SCENARIO_DIR,
    ScenarioError,
    find_scenario,
    load_scenario,
    parse_scenario,
)
from simulators.scenes.fire_lane import encode_jpeg


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(PROJECT_ROOT / "site" / "demo")


def _errors(site: Site, text: str) -> str:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(text, "bad.yaml", site)
    return str(raised.value)


def test_every_bundled_scenario_is_valid_for_the_demo_site(site: Site) -> None:
    for path in SCENARIO_DIR.glob("*.yaml"):
        scenario = load_scenario(path, site)
        assert scenario.timeline or not scenario.expect, path


def test_an_unknown_device_is_named_with_the_file_and_item(site: Site) -> None:
    message = _errors(
        site,
        "name: x\nduration_s: 10\ndevices: [fl-010101-1, fl-nowhere]\n"
        "timeline:\n  - {at: 1, incident: park_car, device: fl-nowhere}\n",
    )
    assert "bad.yaml: devices[1]: 'fl-nowhere' is not a device of site" in message


def test_an_incident_the_device_cannot_show_is_refused(site: Site) -> None:
    message = _errors(
        site,
        "name: x\nduration_s: 10\ndevices: [fl-010101-1]\n"
        "timeline:\n  - {at: 1, incident: drop_object, device: fl-010101-1, floor: 3}\n",
    )
    assert "bad.yaml: timeline[0] (drop_object): fl-010101-1 is a fire_lane_camera" in message
    assert "facade_camera" in message


def test_a_misspelt_incident_or_field_says_where_and_what(site: Site) -> None:
    message = _errors(
        site,
        "name: x\nduration_s: 10\ndevices: [fl-010101-1]\n"
        "timeline:\n  - {at: 1, incident: park_truck, device: fl-010101-1}\n"
        "  - {at: -2, incident: park_car, device: fl-010101-1, stay: 5}\n",
    )
    assert "bad.yaml: timeline[0]:" in message and "park_truck" in message
    assert "bad.yaml: timeline[1].at: Input should be greater than or equal to 0" in message
    assert "bad.yaml: timeline[1].stay: Extra inputs are not permitted" in message


def test_an_expectation_needs_an_alert_a_status_or_a_command(site: Site) -> None:
    message = _errors(
        site,
        "name: x\nduration_s: 10\ndevices: [fl-010101-1]\n"
        "expect:\n  - {device: fl-010101-1, within_s: 5}\n",
    )
    assert "bad.yaml: expect[0]" in message
    assert "exactly one of `alert`, `status` and `command`" in message


def test_a_missing_scenario_lists_the_bundled_ones() -> None:
    with pytest.raises(ScenarioError, match="fire_lane.*nothing_wrong|nothing_wrong.*fire_lane"):
        find_scenario("no_such_scenario")
    assert find_scenario("fire_lane") == SCENARIO_DIR / "fire_lane.yaml"


def _frames(site: Site, path: Path, seed: int | None = None) -> list[bytes]:
    scenario = load_scenario(path, site)
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    stage = Stage.build(sim_devices(site, scenario.devices), scenario.seed)
    for item in scenario.timeline:
        stage.apply(item)
    times = [20.5, 91.0, 150.0]
    return [
        encode_jpeg(scene.render(t)) for _, scene in sorted(stage.scenes.items()) for t in times
    ]


def test_two_runs_with_the_same_seed_render_identical_frames(site: Site) -> None:
    path = SCENARIO_DIR / "evening_in_the_district.yaml"
    first, second = _frames(site, path), _frames(site, path)
    assert len(first) == 5 * 3
    assert first == second
    assert _frames(site, path, seed=99) != first, "another seed, another evening"


def test_latency_counts_from_the_incident_and_a_late_alert_fails(site: Site) -> None:
    scenario = load_scenario(SCENARIO_DIR / "fire_lane.yaml", site)
    on_time = Observed("fl-010101-1", "fire_lane_occupied", "raised", 140.0, 0.05)
    alarm = Observed("fl-010101-1", "command", "alarm_on", 140.2)
    [alert, switched, others] = judge(scenario, [on_time, alarm])
    assert alert.passed and alert.latency_s == pytest.approx(125.0)
    assert switched.passed and "command alarm_on to fl-010101-1" in switched.what
    assert others.passed
    late = Observed("fl-010101-1", "fire_lane_occupied", "raised", 155.0, 0.05)
    assert not judge(scenario, [late, alarm])[0].passed
    stray = Observed("alarm-010101-1", "smoke", "raised", 30.0)
    outcomes = judge(scenario, [on_time, alarm, stray])
    assert [o.passed for o in outcomes] == [True, True, False]
    assert "smoke on alarm-010101-1" in outcomes[2].what


def test_a_fire_at_a_socket_the_shed_does_not_have_is_refused_at_load(site: Site) -> None:
    message = _errors(
        site,
        "name: x\nduration_s: 10\ndevices: [shed-020102-1]\n"
        "timeline:\n  - {at: 1, incident: shed_fire, device: shed-020102-1, socket: 9}\n",
    )
    assert "bad.yaml: timeline[0] (shed_fire): shed-020102-1 has 7 sockets (0 to 6)" in message


def test_the_console_is_told_why_an_injection_cannot_be_played(site: Site) -> None:
    from gridwatch.settings import load_settings
    from simulators.control import SimulationControl

    control = SimulationControl(load_settings(site_id=site.id), site)
    control.handle(
        {"action": "inject", "device": "shed-020102-1", "incident": "shed_fire", "socket": 9}
    )
    assert (
        "shed-020102-1 has 7 sockets (0 to 6); socket 9 does not exist" in control.state()["error"]
    )
    control.handle({"action": "inject", "device": "fl-010101-1", "incident": "drop_object"})
    assert control.state()["error"] == "bad incident: floor: Field required"
    assert control.state()["running"] is None, "nothing started for a refused request"


def test_a_device_taken_offline_shows_its_will_then_its_return_not_its_joining() -> None:
    from simulators.control import followed_statuses

    injection = {"incident": "device_offline", "device": "fl-1", "at": 10.0}
    heard = [
        Observed("fl-1", "status", "online", 9.5),  # joining the session, before the incident
        Observed("fl-2", "status", "offline", 10.0),  # another device
        Observed("fl-1", "status", "offline", 10.2),
        Observed("fl-1", "status", "online", 40.3),
        Observed("fl-1", "status", "offline", 80.0),  # a later drop: another injection's
    ]
    assert followed_statuses(injection, heard) == [
        {"device": "fl-1", "event": "offline", "latency_s": 0.2},
        {"device": "fl-1", "event": "online", "latency_s": 30.3},
    ]
    assert followed_statuses({**injection, "incident": "park_car"}, heard) == []


def test_a_command_the_device_never_received_fails_and_one_received_passes(site: Site) -> None:
    scenario = load_scenario(SCENARIO_DIR / "elevator_ebike.yaml", site)
    [command] = [e for e in scenario.expect if e.command]
    assert (command.command, command.device) == ("hold_doors_and_warn", "evc-010102-02-1")
    alert = Observed("ev-010102-02-1", "ebike_in_elevator", "raised", 30.0, 0.1)
    held = Observed("evc-010102-02-1", "command", "hold_doors_and_warn", 30.5)
    outcomes = {o.what: o for o in judge(scenario, [alert, held])}
    held_line = next(o for what, o in outcomes.items() if "command hold_doors" in what)
    assert held_line.passed and held_line.latency_s == pytest.approx(5.5)
    assert all(o.passed for o in outcomes.values()), "a command is no unexpected alert"
    [missing] = [o for o in judge(scenario, [alert]) if "command" in o.what]
    assert not missing.passed and missing.detail == "never came"
