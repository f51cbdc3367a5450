"""The serving process's log lines (observability.LineBuffer, buffered): kept in memory as bytes,
written in order by ``flush`` to the stream's binary layer, bounded — lines over the cap are
dropped and counted in one ``log_lines_dropped`` line — and the access line's timestamp."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import UTC, datetime

import pytest

from pforte import observability
from pforte.observability import LineBuffer, access_line


class BinaryStdout(io.TextIOWrapper):
    """A text stream with a binary layer, like ``sys.stdout``."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8")

    def written(self) -> bytes:
        self.flush()
        raw = self.buffer
        assert isinstance(raw, io.BytesIO)
        return raw.getvalue()


def test_lines_wait_until_flushed_then_go_in_order_to_the_binary_layer() -> None:
    stream = BinaryStdout()
    sink = LineBuffer(stream, buffered=True)
    stream.write("before\n")  # what the text layer holds goes first
    sink.write('{"n":1}\n')
    sink.write('{"n":2,"text":"grüße"}\n')
    assert stream.buffer.getvalue() == b""  # type: ignore[attr-defined]
    sink.flush()
    assert stream.written() == 'before\n{"n":1}\n{"n":2,"text":"grüße"}\n'.encode()
    sink.flush()  # nothing new: nothing written twice
    assert stream.written().count(b'{"n":1}') == 1


def test_a_text_only_stream_gets_the_same_text() -> None:
    stream = io.StringIO()
    sink = LineBuffer(stream, buffered=True)
    sink.write("one\n")
    sink.write("zwei – drei\n")
    sink.flush()
    assert stream.getvalue() == "one\nzwei – drei\n"


def test_lines_past_the_cap_are_dropped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "MAX_BUFFERED_BYTES", 10)
    stream = io.StringIO()
    sink = LineBuffer(stream, buffered=True)
    for n in range(5):
        sink.write(f"line-{n}-xxxxxxx\n")  # the first goes past 10 bytes: the next four are dropped
    sink.flush()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "line-0-xxxxxxx"
    note = json.loads(lines[1])
    assert note == {"dropped": 4, "event": "log_lines_dropped", "level": "error"}
    assert len(lines) == 2
    sink.write("after\n")  # room again
    sink.flush()
    assert stream.getvalue().splitlines()[2:] == ["after"]


def test_unbuffered_lines_are_written_at_once() -> None:
    stream = io.StringIO()
    LineBuffer(stream, buffered=False).write("now\n")
    assert stream.getvalue() == "now\n"


def test_the_access_line_timestamp_is_utc_iso_with_microseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(observability, "_sink", LineBuffer(stream, buffered=False))
    before = datetime.now(UTC)
    access_line(request_id="r1", method="POST", path="/t/a/token", tenant="a", status=200, duration_ms=1.5)
    after = datetime.now(UTC)
    entry = json.loads(stream.getvalue())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", entry["timestamp"])
    moment = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
    assert before.replace(microsecond=0) <= moment <= after
    assert entry["request_id"] == "r1" and entry["status"] == 200 and entry["duration_ms"] == 1.5


def test_the_timestamp_follows_the_clock_across_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([1_765_000_000_999_999_000, 1_765_000_001_000_001_000, 1_765_000_001_500_000_000])
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    assert [observability._utc_timestamp() for _ in range(3)] == [
        "2025-12-06T05:46:40.999999Z",
        "2025-12-06T05:46:41.000001Z",
        "2025-12-06T05:46:41.500000Z",
    ]
