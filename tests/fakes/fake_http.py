"""What the fake network servers share: a threaded HTTP server on 127.0.0.1 and its requests.

A fake subclasses :class:`LoopbackServer` and says only what its network answers::

    class FakeThing(LoopbackServer[Received]):
        def __init__(self) -> None:
            super().__init__(Received)
            self.behaviour = "ok"
            self.delay = 2.0

        def answer(self, received: Received) -> Reply:
            if self.behaviour == "slow":
                self.hold(self.delay)  # released at once when the server closes
            return 200, {"Content-Type": "application/json"}, b"{}"

    with FakeThing() as thing:  # or thing.start() ... thing.close()
        ...  # point the client at thing.url
        assert thing.requests[0].header("Content-Type") == "application/json"

The server records every request in ``requests`` before asking ``answer`` for the reply:
an answer (status, headers, body; ``Content-Length`` is added), None to hang up without
answering, :data:`RESET` to reset the connection (TCP RST), or bytes to send instead of an
HTTP answer (then it hangs up). Its threads are daemons, and a client that gave up waiting
is expected, not an error.
"""

from __future__ import annotations

import enum
import json
import socket
import struct
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], bytes]
"""An HTTP answer: status, headers and body."""


class Reset(enum.Enum):
    RESET = "reset the connection (TCP RST) without answering"


RESET = Reset.RESET
Reply = Answer | bytes | Reset | None
"""What a fake does with a request: see the module's docstring."""


@dataclass(frozen=True)
class Received:
    """One request as the server got it."""

    method: str
    target: str  # the request line's target: path and query string, as sent
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    @property
    def json(self) -> Any:
        """The body parsed as JSON; None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        return self.headers.get(name.lower())

    @property
    def parts(self) -> dict[str, Part]:
        """The fields of a ``multipart/form-data`` body by name (empty for another body)."""
        content_type = self.header("Content-Type") or ""
        if not content_type.startswith("multipart/form-data"):
            return {}
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + self.body
        )
        found: dict[str, Part] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            found[str(name)] = Part(
                str(name),
                part.get_filename(),
                part.get_content_type(),
                data if isinstance(data, bytes) else b"",
            )
        return found


@dataclass(frozen=True)
class Part:
    """One field of a multipart body: a file's name and type, or a plain field's bytes."""

    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()


def json_answer(
    status: int,
    value: object,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Answer:
    """An answer whose body is ``value`` in JSON."""
    return status, {"Content-Type": content_type, **(headers or {})}, json.dumps(value).encode()


def echo_text(received: Received, padding: int = 0) -> str:
    """The request quoted back whole, as a careless server does in an error message:
    ``padding`` dots first, then the request line, the Authorization header, the body and
    the other headers. The secrets come early, so that a test moving them with ``padding``
    can put each across the point where a client cuts a long message short (200 or 300
    characters)."""
    headers = dict(received.headers)
    lines = [f"{received.method} {received.target}"]
    if "authorization" in headers:
        lines.append(f"authorization: {headers.pop('authorization')}")
    lines.append(received.body.decode("utf-8", "replace"))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "." * padding + "\n".join(lines)


R = TypeVar("R", bound=Received)


class LoopbackServer(Generic[R]):
    """A server on a free loopback port, running from ``start()`` to ``close()``.

    ``received_as`` is the class each request is recorded as (:class:`Received` or a subclass
    with the fake's own views of it).
    """

    methods: tuple[str, ...] = ("GET", "POST")  # others are answered 501, as http.server does
    echo_padding = 0  # dots before the request in an "echo" answer (see echo_text)
    protocol_version = "HTTP/1.1"  # keep-alive; every answer is sized

    def __init__(self, received_as: type[R]) -> None:
        self.requests: list[R] = []
        self._received_as = received_as
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        # A short poll: close() waits until the loop looks at its flag again.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()  # an answer being held back goes now
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def hold(self, seconds: float) -> None:
        """Wait ``seconds`` before answering, or until the server closes."""
        self._release.wait(seconds)

    def now(self) -> datetime:
        """The server's clock, for the Date header."""
        return datetime.now(UTC)

    def answer(self, received: R) -> Reply:
        """What to do with ``received``: see the module's docstring."""
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        received = self._received_as(
            method=handler.command,
            target=handler.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(received)
        reply = self.answer(received)
        if isinstance(reply, tuple):
            status, headers, body = reply
            try:
                handler.send_response(status)
                for name, value in headers.items():
                    handler.send_header(name, value)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
            except OSError:  # the client gave up waiting
                handler.close_connection = True
            return
        if reply is RESET:
            # Linger on, zero timeout: close() sends RST instead of FIN; and close now,
            # before the server's shutdown() sends a FIN.
            linger = struct.pack("ii", 1, 0)
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            handler.connection.close()
        elif isinstance(reply, bytes):
            handler.wfile.write(reply)
        handler.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer[Any]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is part of the tests, not an error."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

    def setup(self) -> None:
        self.protocol_version = self.server.owner.protocol_version
        super().setup()

    def _handle(self) -> None:
        if self.command in self.server.owner.methods:
            self.server.owner._serve(self)
        else:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle

    def date_time_string(self, timestamp: float | None = None) -> str:
        return format_datetime(self.server.owner.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Quiet: tests read ``requests``, not stderr."""
