"""`board --serve`: the page on 127.0.0.1 only, its board read again from the remote at most every interval.

The standard library's threading HTTP server, bound to the loopback address: the board shows who works on what,
which is nobody else's business. A read happens when a page asks and the last one is older than half the
refresh interval, so an open page sees a change within one interval, many open pages share one fetch, and no
page open means no fetch at all. A failed read keeps the last board and says why in the page's status line.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gitclaim.errors import GitclaimError, RemoteError
from gitclaim.missions.board import Board
from gitclaim.web import render

HOST = "127.0.0.1"


class BoardSource:
    """The current board, read again when it is older than `max_age` seconds; one read at a time."""

    def __init__(self, read: Callable[[], Board], max_age: float) -> None:
        self._read, self._max_age = read, max_age
        self._lock = threading.Lock()
        self._board: Board | None = None
        self._read_at = 0.0
        self.error: str | None = None

    def current(self) -> Board:
        with self._lock:
            if self._board is None or time.monotonic() - self._read_at >= self._max_age:
                try:
                    self._board = self._read()
                    self.error = None
                except GitclaimError as err:
                    if self._board is None:
                        raise
                    self.error = str(err)
                self._read_at = time.monotonic()
            return self._board


class BoardServer:
    def __init__(self, read: Callable[[], Board], *, refresh: float, port: int = 0) -> None:
        self.refresh = refresh
        self.source = BoardSource(read, refresh / 2)
        self.source.current()  # the first read fails here, before the port opens, with the CLI's message
        try:
            self.httpd = _Server((HOST, port), _handler(self))
        except OSError as exc:
            raise RemoteError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}/"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        self.httpd.server_close()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path."""
        route = path.split("?", 1)[0]
        if route not in ("/", "/index.html", "/fragment", "/board.json"):
            return 404, "text/plain; charset=utf-8", b"not found\n"
        board = self.source.current()
        if route == "/board.json":
            data = {**board.to_json(), "read_error": self.source.error}
            return 200, "application/json", json.dumps(data, ensure_ascii=False).encode()
        error = self.source.error
        html = (render.fragment(board, error=error) if route == "/fragment"
                else render.page(board, refresh=self.refresh, error=error))
        return 200, "text/html; charset=utf-8", html.encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A page closed while its answer was on the way (ConnectionResetError, BrokenPipeError) is not worth a
        # word; nothing else reaches here, as the handler answers every failure itself.
        pass


def _handler(server: BoardServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                status, kind, body = server.respond(self.path)
            except GitclaimError as err:
                status, kind, body = 503, "text/plain; charset=utf-8", f"{err}\n".encode()
            except Exception as exc:  # a bug: one line in the response, never a traceback on the terminal
                status, kind = 500, "text/plain; charset=utf-8"
                body = f"internal error: {type(exc).__name__}: {exc}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # library code prints nothing; a request log would only fill the terminal

    return Handler
