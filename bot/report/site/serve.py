"""Local preview of a built portal: a static file server on 127.0.0.1 only.

Only for looking at the pages before publishing them; the intranet serves the folder itself.
"""

from __future__ import annotations

import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

HOST = "127.0.0.1"


class _Handler(SimpleHTTPRequestHandler):
    """Serves the folder without directory listings and without caching during previews."""

    _TYPES: ClassVar[dict[str, str]] = {
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".svg": "image/svg+xml",
    }

    def guess_type(self, path: Any) -> str:
        for suffix, kind in self._TYPES.items():
            if str(path).endswith(suffix):
                return kind
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def list_directory(self, path: Any) -> None:
        self.send_error(404, "Nicht gefunden")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    """A browser that moves on while a file is still being sent is no error worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(directory: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``directory`` bound to 127.0.0.1; ``port=0`` picks a free port."""
    handler = partial(_Handler, directory=str(directory))
    return _Server((HOST, port), handler)


def address(server: ThreadingHTTPServer) -> str:
    """The start page's address of a running preview server."""
    return f"http://{HOST}:{server.server_address[1]}/"
