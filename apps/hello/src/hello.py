"""hello: the golden-path sample service. A tiny HTTP server with health checks and Prometheus metrics.

    GET /          {"service": "hello", "version": ..., "arch": ...}
    GET /healthz   liveness        GET /readyz   readiness (also the ALB target group's health check)
    GET /metrics   Prometheus text format: http_requests_total{path,code} (the canary analysis reads it)

Standard library only, so the image is small and the supply chain short. Configuration comes from the environment:
PORT (8080), VERSION (the commit the image was built from; the pipeline passes it as a build argument).

Paths outside the known set are counted as path="other", so a scanner probing random URLs cannot blow up the
metric's cardinality. Probe requests are not logged (they would be most of the log); everything else is one JSON line
per request on stdout, which Fluent Bit ships as-is. SIGTERM stops accepting connections and lets in-flight requests
finish; the pod's preStop sleep has already taken it out of the load balancer by then.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUESTS: Counter[tuple[str, int]] = Counter()
LOCK = threading.Lock()
KNOWN_PATHS = ("/", "/healthz", "/readyz", "/metrics")
PROBES = ("/healthz", "/readyz")


class Handler(BaseHTTPRequestHandler):
    server_version = "hello"
    sys_version = ""

    def do_GET(self) -> None:
        path = self._path()
        if path == "/":
            body = {"service": "hello", "version": os.environ.get("VERSION", "dev"), "arch": platform.machine()}
            self._send(200, json.dumps(body), "application/json")
        elif path in PROBES:
            self._send(200, "ok", "text/plain")
        elif path == "/metrics":
            self._send(200, metrics(), "text/plain; version=0.0.4; charset=utf-8")
        else:
            self._send(404, json.dumps({"error": "not found"}), "application/json")

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _send(self, code: int, body: str, content_type: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        path = self._path()
        with LOCK:
            REQUESTS[(path if path in KNOWN_PATHS else "other", code)] += 1

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self._path() not in PROBES:
            super().log_request(code, size)

    def log_message(self, format: str, *args: object) -> None:
        print(json.dumps({"remote": self.client_address[0], "message": format % args}), flush=True)


def metrics() -> str:
    lines = ["# HELP http_requests_total Requests served.", "# TYPE http_requests_total counter"]
    with LOCK:
        for (path, code), count in sorted(REQUESTS.items()):
            lines.append(f'http_requests_total{{path="{path}",code="{code}"}} {count}')
    return "\n".join(lines) + "\n"


def serve(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Bind (port 0 picks a free one: `server.server_address[1]`); the caller runs `serve_forever`."""
    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    server = serve(int(os.environ.get("PORT", "8080")))
    # shutdown() blocks until serve_forever returns, so it cannot run in the thread serving requests.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
