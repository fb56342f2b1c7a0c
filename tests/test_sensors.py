from simulators.sensors import AMBIENT_C, SensorModel


def test_a_faulty_socket_heats_until_its_power_is_cut_then_cools() -> None:
    socket = SensorModel("charging_socket", seed=3, fault_from=100.0)
    assert socket.reading(90.0)["temperature_c"] < 50
    assert socket.reading(300.0)["temperature_c"] > 70
    socket.power_off(300.0)
    after = socket.reading(310.0)
    assert after["current_a"] == 0.0 and after["power_w"] == 0.0
    assert socket.reading(900.0)["temperature_c"] < AMBIENT_C + 3


def test_sensors_with_the_same_seed_read_the_same() -> None:
    one, two = SensorModel("hydrant_pressure", seed=9), SensorModel("hydrant_pressure", seed=9)
    assert [one.reading(t) for t in range(0, 100, 10)] == [
        two.reading(t) for t in range(0, 100, 10)
    ]
