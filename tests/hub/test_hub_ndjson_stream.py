"""The commit body parser on its own: long lines stream their file content in pieces, across
every read boundary, and a malformed long line is a 400 like a short one."""

from __future__ import annotations

import base64
import io
import json
import os

import pytest

from hubship.hub import ndjson_stream
from hubship.hub.errors import BadRequest
from hubship.hub.ndjson_stream import StreamedString, read_lines


class Collect:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def close(self) -> bytes:
        return b"".join(self.parts)


@pytest.fixture(autouse=True)
def small_buffers(monkeypatch):
    """Tiny reads and a tiny "short line", so every boundary case happens on small data."""
    monkeypatch.setattr(ndjson_stream, "READ_SIZE", 7)
    monkeypatch.setattr(ndjson_stream, "SHORT_LINE", 64)


def _parse(body: bytes) -> list:
    sinks: list[Collect] = []

    def sink() -> Collect:
        sinks.append(Collect())
        return sinks[-1]

    items = [item for _, item in read_lines(io.BytesIO(body), sink)]
    # in pieces of at most one buffer (a short line's worth and one read), never whole
    assert all(len(part) <= 64 + 7 for s in sinks for part in s.parts)
    assert all(len(s.parts) > 10 for s in sinks)
    return items


def test_long_lines_stream_their_content_whatever_the_key_order():
    data = os.urandom(3000)
    content = base64.b64encode(data).decode()
    lines = [
        {"key": "header", "value": {"summary": "s", "description": ""}},
        {"key": "file", "value": {"content": content, "path": "a/b.bin", "encoding": "base64"}},
        {"key": "file", "value": {"path": "c.bin", "encoding": "base64", "content": content,
                                  "extra": [1, 2.5e3, True, None, {"x": "y"}]}},
        {"key": "deletedFile", "value": {"path": "x.txt"}},
    ]
    body = b"\n".join(json.dumps(line).encode() for line in lines)  # no final newline
    body = body.replace(content[:40].encode(), content[:40].replace("/", "\\/").encode())
    items = _parse(body)
    assert items[0] == lines[0]
    for item in items[1:3]:
        streamed = item["value"]["content"]
        assert isinstance(streamed, StreamedString) and streamed.result == data
    assert items[1]["value"]["path"] == "a/b.bin"
    assert items[2]["value"]["extra"] == [1, 2500.0, True, None, {"x": "y"}]
    assert items[3] == lines[3]  # a short line stays a plain JSON value


@pytest.mark.parametrize(("body", "message"), [
    (b'{"key": "file", "value": {"content": "' + b"QUJD" * 40 + b'%%%%"}}\n', "base64"),
    (b'{"key": "file", "value": {"content": "' + b"QUJD" * 40 + b'Q"}}\n', "multiple of 4"),
    (b'{"key": "file", "value": {"content": "' + b"QQ==" + b"QUJD" * 40 + b'"}}\n', "base64"),
    (b'{"key": "file", "value": {"content": "' + b"QUJD" * 40, "middle"),
    (b'{"key": "file", "value": {"content": "' + b"QUJD" * 40 + b'"}} x\n', "after its object"),
    (b'{"key": "file", "value": {"path": "' + b"a" * 200 + b'"}}\n', "too long"),
    (b'{"key": "file" "value": {"content": "' + b"QUJD" * 40 + b'"}}\n', "expected"),
])
def test_a_malformed_long_line_is_a_bad_request(body, message):
    with pytest.raises(BadRequest, match=message):
        _parse(body)
