"""Read an NDJSON body line by line without ever holding a large string value in memory.

A commit body carries each regular file as one line, its content a base64 string: a 100 MB
file is a 133 MB line. Short lines (the usual case) are parsed whole with orjson. A line longer
than SHORT_LINE is parsed by a small pull parser over the stream instead, which hands the one
string allowed to be long (`value.content`) to a sink chunk by chunk, base64-decoded; every
other string in such a line must be short. Memory stays at a few READ_SIZE buffers whatever
the body holds.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol

import orjson

from hubship.hub.errors import BadRequest

READ_SIZE = 1024 * 1024
SHORT_LINE = 64 * 1024
STREAMED_PATH = ("value", "content")
_WHITESPACE = b" \t\r\n"
_LITERAL = frozenset(b"-+.0123456789eEtruefalsn")


class ContentSink(Protocol):
    """Where a streamed string goes: decoded bytes in, a result out at the end."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> object: ...


class Base64Decoder:
    """Decode base64 text fed in pieces of any length into `sink`; strict alphabet and padding."""

    def __init__(self, sink: ContentSink) -> None:
        self.sink, self.pending, self.padded = sink, b"", False

    def feed(self, text: bytes) -> None:
        text = self.pending + text
        usable = len(text) - len(text) % 4
        self.pending = text[usable:]
        if not usable:
            return
        if self.padded:
            raise BadRequest("'content' is not valid base64: data after the padding")
        try:
            self.sink.write(binascii.a2b_base64(text[:usable], strict_mode=True))
        except binascii.Error:
            raise BadRequest("'content' is not valid base64") from None
        self.padded = text[usable - 1:usable] == b"="

    def finish(self) -> object:
        if self.pending:
            raise BadRequest("'content' is not valid base64: its length is not a multiple of 4")
        return self.sink.close()


class StreamedString:
    """Stands for the long string in a parsed line: what its sink returned."""

    def __init__(self, result: object) -> None:
        self.result = result


class _Reader:
    def __init__(self, source: IO[bytes]) -> None:
        self.source, self.buffer, self.pos, self.eof = source, b"", 0, False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.source.read(READ_SIZE)
        if not chunk:
            self.eof = True
            return False
        self.buffer, self.pos = self.buffer[self.pos:] + chunk, 0
        return True

    def short_line(self) -> bytes | None:
        """The next line (without its newline) if it is shorter than SHORT_LINE; None when
        it is longer (nothing consumed); b"" at the end of the body is returned as None too."""
        while True:
            end = self.buffer.find(b"\n", self.pos, self.pos + SHORT_LINE)
            if end >= 0:
                line, self.pos = self.buffer[self.pos:end], end + 1
                return line
            if len(self.buffer) - self.pos >= SHORT_LINE:
                return None
            if not self._fill():
                line, self.pos = self.buffer[self.pos:], len(self.buffer)
                return line if line else None

    def at_end(self) -> bool:
        return self.pos >= len(self.buffer) and not self._fill()

    def peek(self) -> int:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE[:3]:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                raise BadRequest("the commit body ends in the middle of a line")

    def expect(self, char: bytes) -> None:
        if self.peek() != char[0]:
            got = chr(self.buffer[self.pos])
            raise BadRequest(f"a long line of the commit body is not valid JSON: expected "
                             f"{char.decode()!r}, found {got!r}")
        self.pos += 1

    def string_end(self) -> int:
        """Index of the closing quote of the string whose opening quote is at pos."""
        scan = self.pos + 1
        while True:
            end = self.buffer.find(b'"', scan)
            while end >= 0 and _escaped(self.buffer, end, self.pos + 1):
                end = self.buffer.find(b'"', end + 1)
            if end >= 0:
                return end
            if len(self.buffer) - self.pos > SHORT_LINE:
                raise BadRequest("a string in a long line of the commit body is too long; "
                                 "only a file's 'content' may be long")
            scanned = len(self.buffer) - self.pos
            if not self._fill():  # keeps buffer[pos:], so pos is 0 after it
                raise BadRequest("the commit body ends in the middle of a string")
            scan = scanned


def _escaped(buffer: bytes, index: int, floor: int) -> bool:
    slashes = 0
    while index - 1 - slashes >= floor and buffer[index - 1 - slashes] == 0x5C:
        slashes += 1
    return slashes % 2 == 1


class _LineParser:
    """Pull parser for one long line: a JSON value whose `value.content` string streams."""

    def __init__(self, reader: _Reader, sink_factory: Callable[[], ContentSink]) -> None:
        self.reader, self.sink_factory = reader, sink_factory

    def value(self, path: tuple[str, ...]) -> Any:
        char = self.reader.peek()
        if char == ord("{"):
            return self._object(path)
        if char == ord("["):
            return self._array(path)
        if char == ord('"'):
            return self._stream(path) if path == STREAMED_PATH else self._short_string()
        return self._literal()

    def _object(self, path: tuple[str, ...]) -> dict[str, Any]:
        self.reader.expect(b"{")
        result: dict[str, Any] = {}
        if self.reader.peek() == ord("}"):
            self.reader.pos += 1
            return result
        while True:
            key = self._short_string()
            if not isinstance(key, str):
                raise BadRequest("a long line of the commit body has a key that is not a string")
            self.reader.expect(b":")
            result[key] = self.value((*path, key))
            if self.reader.peek() == ord("}"):
                self.reader.pos += 1
                return result
            self.reader.expect(b",")

    def _array(self, path: tuple[str, ...]) -> list[Any]:
        self.reader.expect(b"[")
        items: list[Any] = []
        if self.reader.peek() == ord("]"):
            self.reader.pos += 1
            return items
        while True:
            items.append(self.value((*path, "[]")))
            if self.reader.peek() == ord("]"):
                self.reader.pos += 1
                return items
            self.reader.expect(b",")

    def _short_string(self) -> Any:
        reader = self.reader
        if reader.peek() != ord('"'):
            reader.expect(b'"')
        end = reader.string_end()
        raw = reader.buffer[reader.pos:end + 1]
        reader.pos = end + 1
        return _loads(raw)

    def _literal(self) -> Any:
        reader = self.reader
        reader.peek()
        length = 0
        while True:  # pos stays at the literal's start, so a refill keeps all of it
            end = reader.pos + length
            while end < len(reader.buffer) and reader.buffer[end] in _LITERAL:
                end += 1
            length = end - reader.pos
            if length > 100:
                raise BadRequest("a literal in a long line of the commit body is too long")
            if end < len(reader.buffer) or not reader._fill():
                break
        raw = reader.buffer[reader.pos:reader.pos + length]
        reader.pos += length
        return _loads(raw)

    def _stream(self, path: tuple[str, ...]) -> StreamedString:
        reader = self.reader
        reader.expect(b'"')
        decoder = Base64Decoder(self.sink_factory())
        while True:
            quote = reader.buffer.find(b'"', reader.pos)
            slash = reader.buffer.find(b"\\", reader.pos)
            stop = min(i for i in (quote, slash, len(reader.buffer)) if i >= 0)
            decoder.feed(reader.buffer[reader.pos:stop])
            reader.pos = stop
            if stop == quote:
                reader.pos += 1
                return StreamedString(decoder.finish())
            if stop == slash:
                if reader.pos + 1 >= len(reader.buffer) and not reader._fill():
                    raise BadRequest("the commit body ends in the middle of a string")
                if reader.buffer[reader.pos + 1] != ord("/"):  # JSON may escape "/" as "\/"
                    raise BadRequest("'content' is not valid base64")
                decoder.feed(b"/")
                reader.pos += 2
            elif not reader._fill():
                raise BadRequest("the commit body ends in the middle of a file's content")


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"a long line of the commit body is not valid JSON: {exc}") from None


def read_lines(source: IO[bytes],
               sink_factory: Callable[[], ContentSink]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; in a long line, `value.content`
    is a StreamedString holding what its sink returned."""
    reader = _Reader(source)
    number = 0
    while not reader.at_end():
        number += 1
        line = reader.short_line()
        if line is not None:
            if line.strip():
                try:
                    yield number, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise BadRequest(f"line {number} of the commit body is not valid JSON: "
                                     f"{exc}") from None
            continue
        yield number, _LineParser(reader, sink_factory).value(())
        while not reader.at_end() and reader.buffer[reader.pos] in b" \t\r":
            reader.pos += 1
        if reader.at_end():
            return
        if reader.buffer[reader.pos] != ord("\n"):
            raise BadRequest(f"line {number} of the commit body has data after its object")
        reader.pos += 1
