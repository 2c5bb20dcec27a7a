"""The one link to a spawned child: frames of a JSON header and raw bytes over a socket.

On its own because it is what the parent believes of a child: nothing received is executed
(no pickle, never multiprocessing's Connection.recv), a header is checked before any body is
read, and memory grows with what arrives, never with what a length field claims. A query
worker or parser process reads untrusted text and runs it through a large native engine;
should one ever be taken over, all it can send us is data.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

__all__ = ["MAX_HEADER", "Channel", "Deadline", "Gone", "ProtocolError"]

_FRAME = struct.Struct("!II")  # bytes of the JSON header, bytes of the body
MAX_HEADER = 64 << 20  # a header longer than this is not one of ours
_CHUNK = 1 << 20
_SMALL = 64 << 10  # what a read asks for at least, so a small frame comes in one recv
_JOINED = 64 << 10  # bodies up to this go out in the same send as their frame


class Deadline(TimeoutError):
    """The child did not answer before the deadline."""


class Gone(EOFError):
    """The child closed its end of the channel: it exited or was killed."""


class ProtocolError(ValueError):
    """The child sent bytes that are not a frame of ours (nothing of them was executed)."""


def _remaining(deadline: float | None) -> float | None:
    """Seconds left until a time.monotonic() deadline (None: no deadline). Never 0, which
    would make the socket non-blocking: a deadline that has passed still takes what is
    already there."""
    if deadline is None:
        return None
    return max(1e-6, deadline - time.monotonic())


class Channel:
    """Frames over a stream socket: a JSON header and a body of raw bytes.

    A frame is two 32-bit lengths (header, body), the header as UTF-8 JSON, then the body.
    One thread at a time uses a channel (a pool hands a child to one caller).
    """

    def __init__(self, sock: socket.socket):
        self._sock = sock
        # Bytes received past the part being read. A small frame (a query's job, a short
        # answer) arrives in one recv instead of three, and a job goes out in one send:
        # each system call costs ~10-15 us on this machine (bench/FINDINGS.md, section 12).
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, header: Any, body: bytes = b"", deadline: float | None = None) -> None:
        """Send one frame; Deadline if the other end does not take it in time, Gone if it
        has closed."""
        data = json.dumps(header, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
        frame = _FRAME.pack(len(data), len(body)) + data
        try:
            self._sock.settimeout(_remaining(deadline))
            if len(body) <= _JOINED:  # one send; a large body is not copied to join it
                self._sock.sendall(frame + body)
            else:
                self._sock.sendall(frame)
                self._sock.sendall(body)
        except TimeoutError:
            raise Deadline("the child did not take the message in time") from None
        except OSError as exc:
            raise Gone(f"the child's end is closed: {exc}") from None

    def receive(self, deadline: float | None = None) -> tuple[Any, bytes]:
        """The next frame's header (parsed JSON) and body. Deadline when the whole frame has
        not arrived by the deadline, Gone when the other end closed, ProtocolError for bytes
        that are not a frame (the header is checked before any body is read)."""
        header_size, body_size = _FRAME.unpack(self._read(_FRAME.size, deadline))
        if header_size > MAX_HEADER:
            self._buffer.clear()  # out of step: what was read ahead is no frame either
            raise ProtocolError(f"a header of {header_size} bytes is not one of ours")
        raw = self._read(header_size, deadline)
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._buffer.clear()
            raise ProtocolError("the header is not JSON") from None
        body = self._read(body_size, deadline) if body_size else b""
        return header, body

    def _read(self, size: int, deadline: float | None) -> bytes:
        """Exactly size bytes, read as they come (memory grows with what arrives, never with
        what a length field claims: at most _CHUNK is asked for at once)."""
        buffer = self._buffer
        while len(buffer) < size:
            try:
                self._sock.settimeout(_remaining(deadline))
                chunk = self._sock.recv(min(max(size - len(buffer), _SMALL), _CHUNK))
            except TimeoutError:
                buffer.clear()  # a part of a frame is no use to the next reader
                raise Deadline("the child did not answer in time") from None
            except OSError as exc:
                raise Gone(f"the child's end is closed: {exc}") from None
            if not chunk:
                raise Gone("the child closed its end")
            buffer += chunk
        if len(buffer) == size:
            data = bytes(buffer)
            buffer.clear()
            return data
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def close(self) -> None:
        self._sock.close()
