"""Whatever bytes a device sends, the codecs answer with values or a Rejected reason.

The strategies here build payloads that are wrong by construction (random bytes, broken
JSON, wrong types, huge numbers, NaN, nested junk, bad SenML, bad frame headers); the
ingest test in test_malformed_ingest.py sends the same ones through the broker.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridwatch.frames import FRAME_HEADER, FRAME_MAGIC, encode_frame
from ingest import codecs
from ingest.codecs import Rejected

KINDS = ("telemetry", "frame", "status", "event", "cmd/ack")
MAX_FRAME_BYTES = 2_000_000
# The reason codes docs/PROTOCOL.md documents for what the codecs refuse.
CODEC_REASON_CODES = {
    "malformed_json",
    "not_utf8",
    "bad_shape",
    "bad_value",
    "bad_timestamp",
    "oversized_frame",
    "bad_frame",
    "not_jpeg",
    "unknown_event_type",
}
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
# NUL and lone surrogates: PostgreSQL stores neither, in text or in jsonb.
UNSTORABLE_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff"])
# Names, units and reasons must not carry control characters either.
BAD_CHARACTERS = UNSTORABLE_CHARACTERS | st.sampled_from(["\x1b", "\x7f", "\n"])

Message = tuple[str, bytes]  # (topic kind, payload)


def decode(kind: str, payload: bytes, now: float) -> object:
    match kind:
        case "telemetry":
            return codecs.decode_telemetry(payload, now)
        case "frame":
            return codecs.decode_frame(payload, MAX_FRAME_BYTES, now)
        case "status":
            return codecs.decode_status(payload)
        case "event":
            return codecs.decode_event(payload, now)
        case _:
            return codecs.decode_command_ack(payload)


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc).encode()


json_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
# Where a number (or null) belongs: anything else JSON can say.
not_a_number = json_junk.filter(lambda v: isinstance(v, bool | str | list | dict))
unstorable_text = st.builds(
    lambda a, c, b: a + c + b, st.text(max_size=5), UNSTORABLE_CHARACTERS, st.text(max_size=5)
)
bad_text = st.builds(
    lambda a, c, b: a + c + b, st.text(max_size=5), BAD_CHARACTERS, st.text(max_size=5)
)
# Numbers JSON can spell but a double cannot hold, or Python's json reads but JSON lacks.
huge_number_text = st.one_of(
    st.integers(400, 5000).map(lambda digits: "9" * digits),
    st.sampled_from(["1e400", "-1e999", "NaN", "Infinity", "-Infinity"]),
)


def malformed_messages(now: float) -> st.SearchStrategy[Message]:
    """(kind, payload) pairs every one of which ingest must refuse."""
    good_reading = {"ts": now, "seq": 1, "values": {"temperature_c": 21.5}}
    good_senml = [{"bn": "urn:dev:s1:", "bt": now, "n": "temperature", "v": 21.5}]
    good_event = {"ts": now, "type": "smoke", "confidence": 0.9}
    # Beyond the accepted window; above 2**28 so SenML does not read them as relative.
    far_times = st.floats(now + 2 * 86_400, now + 1e9) | st.floats(2.0**28, now - 31 * 86_400)
    not_an_object = json_junk.filter(lambda v: not isinstance(v, dict))

    def with_field(doc: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> Any:
        return values.map(lambda v: _dumps({**doc, key: v}))

    def spliced(doc: Any, key_text: str, values: st.SearchStrategy[str]) -> Any:
        """The document with one value replaced by raw text json.dumps would never write."""
        text = json.dumps(doc)
        return values.map(lambda v: text.replace(key_text, v, 1).encode())

    def telemetry(payloads: st.SearchStrategy[bytes]) -> st.SearchStrategy[Message]:
        return payloads.map(lambda p: ("telemetry", p))

    random_bytes = st.tuples(st.sampled_from(KINDS), st.binary(max_size=300)).filter(
        lambda m: m[1].strip().lower() not in (b"online", b"offline")
    )
    broken_json = st.builds(
        lambda kind, text, cut, tail: (kind, (text[:cut] + tail).encode()),
        st.sampled_from(KINDS),
        st.sampled_from([json.dumps(d) for d in (good_reading, good_senml, good_event)]),
        st.integers(1, 30),
        st.sampled_from(["", "x", "}}", ",", "'", "]"]),
    )
    wrong_types = telemetry(
        st.one_of(
            with_field(good_reading, "values", not_an_object | st.just({})),
            st.builds(
                lambda m, v: _dumps({"values": {m: v}}),
                st.text(min_size=1, max_size=8),
                not_a_number,
            ),
            with_field(good_reading, "ts", not_a_number | far_times),
            with_field(
                good_reading,
                "seq",
                st.integers(max_value=-1) | st.integers(min_value=2**63) | st.floats() | st.text(),
            ),
            st.builds(
                lambda m: _dumps({"values": {m: 1}}), bad_text | st.text(min_size=65, max_size=80)
            ),
            json_junk.filter(lambda v: not isinstance(v, dict | list)).map(_dumps),
        )
    )
    huge_numbers = telemetry(
        st.one_of(
            spliced(good_reading, "21.5", huge_number_text),
            spliced(good_reading, str(now), huge_number_text),
            spliced(good_senml, "21.5", huge_number_text),
        )
    )
    nested_junk = st.one_of(
        st.integers(2, 20_000).map(lambda depth: ("telemetry", b"[" * depth + b"]" * depth)),
        st.builds(
            lambda depth: ("telemetry", b'{"values": {"x": ' + b"[" * depth + b"]" * depth + b"}}"),
            st.integers(1, 3000),
        ),
        json_junk.map(lambda v: ("event", _dumps({**good_event, "details": [v]}))),
        json_junk.map(lambda v: ("event", _dumps({**good_event, "type": [v]}))),
    )
    bad_senml = telemetry(
        st.one_of(
            st.just(b"[]"),
            st.lists(
                json_junk.filter(lambda v: not isinstance(v, dict)), min_size=1, max_size=4
            ).map(_dumps),
            st.builds(
                lambda v: _dumps([{**good_senml[0], "bn": v}]),
                json_junk.filter(lambda v: not isinstance(v, str)) | bad_text,
            ),
            st.builds(
                lambda v: _dumps([{**good_senml[0], "n": v}]),
                json_junk.filter(lambda v: not isinstance(v, str)) | bad_text,
            ),
            st.builds(lambda v: _dumps([{**good_senml[0], "v": v}]), not_a_number),
            st.builds(
                lambda v: _dumps([{"n": "door", "bt": now, "vb": v}]),
                json_junk.filter(lambda v: not isinstance(v, bool)),
            ),
            st.builds(lambda v: _dumps([{**good_senml[0], "bt": v}]), far_times),
            st.builds(lambda v: _dumps([{**good_senml[0], "u": v}]), bad_text | st.integers()),
            st.just(_dumps([{"bn": "urn:dev:s1:", "bt": now, "v": 1}])),
            st.just(_dumps([{"n": "x", "bt": now, "vs": "text"}])),
        )
    )
    header = FRAME_HEADER.size
    bad_frames = st.one_of(
        st.binary(min_size=4, max_size=4)
        .filter(lambda m: m != FRAME_MAGIC)
        .map(lambda magic: magic + encode_frame(JPEG, now, 1)[4:]),
        st.sampled_from([math.nan, math.inf, -math.inf]).map(lambda ts: encode_frame(JPEG, ts, 1)),
        far_times.map(lambda ts: encode_frame(JPEG, ts, 1)),
        st.integers(2**63, 2**64 - 1).map(lambda seq: encode_frame(JPEG, now, seq)),
        st.integers(0, header + 3).map(lambda n: encode_frame(JPEG, now, 1)[:n]),
        st.binary(min_size=4, max_size=64)
        .filter(lambda b: not b.startswith(b"\xff\xd8"))
        .map(lambda body: encode_frame(body, now, 1)),
    ).map(lambda p: ("frame", p))
    bad_events = st.one_of(
        with_field(
            good_event, "type", st.text(max_size=20).filter(lambda t: t not in codecs.EVENT_TYPES)
        ),
        with_field(
            good_event,
            "confidence",
            st.floats(1.0001, 1e6) | st.floats(-1e6, -0.0001) | not_a_number,
        ),
        with_field(good_event, "cleared", json_junk.filter(lambda v: not isinstance(v, bool))),
        with_field(good_event, "details", unstorable_text.map(lambda t: {"note": t})),
        with_field(good_event, "ts", far_times),
    ).map(lambda p: ("event", p))
    bad_status = st.one_of(
        st.text(max_size=10)
        .filter(lambda t: t.strip().lower() not in ("online", "offline"))
        .map(lambda t: t.encode()),
        json_junk.filter(
            lambda v: not (isinstance(v, dict) and isinstance(v.get("online"), bool))
        ).map(_dumps),
        bad_text.map(lambda t: _dumps({"online": False, "reason": t})),
    ).map(lambda p: ("status", p))
    bad_acks = st.one_of(
        st.builds(
            lambda v: _dumps({"id": v, "ok": True}),
            st.integers(max_value=-1) | st.integers(min_value=2**63) | not_a_number,
        ),
        st.builds(
            lambda v: _dumps({"id": 1, "ok": v}),
            json_junk.filter(lambda v: not isinstance(v, bool)),
        ),
        st.builds(lambda v: _dumps({"id": 1, "detail": v}), bad_text),
        json_junk.filter(lambda v: not (isinstance(v, dict) and "id" in v)).map(_dumps),
    ).map(lambda p: ("cmd/ack", p))
    return st.one_of(
        random_bytes,
        broken_json,
        wrong_types,
        huge_numbers,
        nested_junk,
        bad_senml,
        bad_frames,
        bad_events,
        bad_status,
        bad_acks,
    )


# Ten payloads an example: hypothesis spends its time per example, not per value.
@settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(messages=st.lists(malformed_messages(time.time()), min_size=10, max_size=10))
def test_every_malformed_payload_is_rejected_with_a_documented_reason(
    messages: list[Message],
) -> None:
    for kind, payload in messages:
        try:
            decode(kind, payload, time.time())
        except Rejected as err:
            assert err.code in CODEC_REASON_CODES
            assert len(str(err)) > 15
        else:
            raise AssertionError(f"{kind} payload {payload[:80]!r} was accepted")


# Documents shaped like real payloads with anything in the fields: what finds crashes.
any_value = json_junk | st.integers(min_value=10**300) | st.text()
near_valid = st.one_of(
    json_junk,
    st.fixed_dictionaries(
        {"values": st.dictionaries(st.text(max_size=8), any_value, max_size=3)},
        optional={"ts": any_value, "seq": any_value},
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(["bn", "bt", "bu", "bv", "n", "v", "vb", "t", "u"]), any_value
        ),
        max_size=3,
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(sorted(codecs.EVENT_TYPES)) | st.text()},
        optional={
            "ts": any_value,
            "confidence": any_value,
            "cleared": any_value,
            "details": any_value,
        },
    ),
    st.fixed_dictionaries({"id": any_value}, optional={"ok": any_value, "detail": any_value}),
    st.fixed_dictionaries({"online": any_value}, optional={"reason": any_value}),
)


def _storable(text: str | None) -> bool:
    """PostgreSQL refuses NUL in text, and lone surrogates cannot be encoded as UTF-8."""
    if text is None:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _check_storable(kind: str, payload: bytes) -> None:
    try:
        result = decode(kind, payload, time.time())
    except Rejected:
        return
    for reading in result if isinstance(result, list) else []:
        assert _storable(reading.metric) and _storable(reading.unit)
        assert reading.value is None or math.isfinite(reading.value)
        assert 0 <= reading.seq < 2**63
    if isinstance(result, codecs.Status | codecs.CommandAck):
        assert _storable(result.detail)
    if isinstance(result, codecs.CommandAck):
        assert 0 <= result.command_id < 2**63
    if isinstance(result, codecs.DeviceEvent):
        # What the alert pipeline writes to jsonb: no NaN, no NUL, valid Unicode.
        text = json.dumps(result.details, allow_nan=False)
        assert "\\u0000" not in text and _storable(result.type)


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.binary(max_size=200) | near_valid.map(_dumps)),
        min_size=10,
        max_size=10,
    )
)
def test_any_bytes_decode_to_storable_values_or_a_rejection(
    messages: list[tuple[str, bytes]],
) -> None:
    for kind, payload in messages:
        _check_storable(kind, payload)
