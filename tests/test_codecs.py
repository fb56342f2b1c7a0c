import json

import pytest

from gridwatch.frames import encode_frame
from gridwatch.topics import MessageKind, TopicError, parse_device_topic
from ingest import codecs
from ingest.codecs import Rejected

NOW = 1_780_000_000.0


def test_plain_json_telemetry_gives_one_reading_per_metric() -> None:
    payload = json.dumps({"ts": NOW, "seq": 7, "values": {"temperature_c": 31.5, "current_a": 2}})
    readings = codecs.decode_telemetry(payload.encode(), NOW)
    assert {(r.metric, r.value, r.seq, r.ts) for r in readings} == {
        ("temperature_c", 31.5, 7, NOW),
        ("current_a", 2.0, 7, NOW),
    }


def test_millisecond_timestamps_are_understood() -> None:
    payload = json.dumps({"ts": NOW * 1000, "values": {"x": 1}}).encode()
    assert codecs.decode_telemetry(payload, NOW)[0].ts == pytest.approx(NOW)


def test_senml_resolves_base_name_time_and_unit() -> None:
    pack = [
        {"bn": "urn:dev:socket-1:", "bt": NOW, "bu": "Cel", "n": "temperature", "v": 40.5},
        {"n": "temperature", "t": 10, "v": 41.0},
        {"n": "current", "u": "A", "t": 10, "v": 2.5},
    ]
    readings = codecs.decode_telemetry(json.dumps(pack).encode(), NOW)
    assert [(r.metric, r.value, r.ts, r.unit) for r in readings] == [
        ("temperature", 40.5, NOW, "Cel"),
        ("temperature", 41.0, NOW + 10, "Cel"),
        ("current", 2.5, NOW + 10, "A"),
    ]


def test_a_backfill_of_readings_from_two_days_ago_is_accepted() -> None:
    payload = json.dumps({"ts": NOW - 2 * 86_400, "values": {"x": 1}}).encode()
    assert codecs.decode_telemetry(payload, NOW)[0].ts == NOW - 2 * 86_400


def test_senml_without_an_absolute_time_is_refused_rather_than_given_the_receive_time() -> None:
    # RFC 8428 reads small times as relative to "now"; the receive time would make a
    # redelivered copy a new reading.
    pack = [{"n": "pressure", "v": 300, "t": -5}]
    with pytest.raises(Rejected) as err:
        codecs.decode_telemetry(json.dumps(pack).encode(), NOW)
    assert err.value.code == "missing_timestamp" and '"bt"' in str(err.value)


def test_senml_times_relative_to_the_base_time_resolve() -> None:
    pack = [{"bt": NOW, "n": "pressure", "v": 300, "t": -5}]
    assert codecs.decode_telemetry(json.dumps(pack).encode(), NOW)[0].ts == NOW - 5


def test_plain_json_without_ts_is_refused_and_says_what_to_send() -> None:
    with pytest.raises(Rejected) as err:
        codecs.decode_telemetry(b'{"seq": 7, "values": {"x": 1}}', NOW)
    assert err.value.code == "missing_timestamp" and '"ts"' in str(err.value)


@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        (b"{not json", "malformed_json", "not valid JSON"),
        (b"\xff\xfe", "not_utf8", "UTF-8"),
        (b'{"values": {}}', "bad_shape", '"values"'),
        (b'{"values": {"t": "hot"}}', "bad_value", "should be a number"),
        (b'{"values": {"t": 1}, "ts": 12}', "bad_timestamp", "30 days behind"),
        (b"[]", "bad_shape", "empty"),
        (b"42", "bad_shape", "JSON object or a SenML array"),
    ],
)
def test_bad_telemetry_is_rejected_with_a_reason(payload: bytes, code: str, words: str) -> None:
    with pytest.raises(Rejected) as err:
        codecs.decode_telemetry(payload, NOW)
    assert err.value.code == code
    assert words in str(err.value)


def test_frame_round_trip() -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"x" * 100
    frame = codecs.decode_frame(encode_frame(jpeg, NOW, 42), 10_000, NOW)
    assert (frame.ts, frame.seq, frame.jpeg) == (NOW, 42, jpeg)


def test_png_in_a_frame_is_called_out() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 100
    with pytest.raises(Rejected, match="not a JPEG .starts with 0x89504E47") as err:
        codecs.decode_frame(encode_frame(png, NOW, 1), 10_000, NOW)
    assert err.value.code == "not_jpeg"


def test_oversized_frame_names_the_limit() -> None:
    with pytest.raises(Rejected, match="larger than the 1,000-byte limit"):
        codecs.decode_frame(encode_frame(b"\xff\xd8" + b"x" * 2000, NOW, 1), 1000, NOW)


def test_status_accepts_words_and_json() -> None:
    assert codecs.decode_status(b"online").online
    assert not codecs.decode_status(b'{"online": false, "reason": "lost"}').online
    with pytest.raises(Rejected):
        codecs.decode_status(b'{"up": 1}')


def test_topics_are_taken_apart_or_refused_with_the_expected_shape() -> None:
    topic = parse_device_topic("gw/v1/haichuan/g-0101/fl-0101-1/cmd/ack")
    assert (topic.grid, topic.device, topic.kind) == ("g-0101", "fl-0101-1", MessageKind.CMD_ACK)
    with pytest.raises(TopicError, match=r"should be gw/v1/\{site\}"):
        parse_device_topic("gw/v1/haichuan/fl-0101-1/telemetry")
    with pytest.raises(TopicError, match="unknown kind 'video'"):
        parse_device_topic("gw/v1/haichuan/g/d/video")
