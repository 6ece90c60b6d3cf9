"""Attachment benchmark: upload and download MiB/s over HTTP, on each backend.

    .venv/bin/python -m benchmarks.attachments [--backend sqlite|postgres|both]
        [--size-mib 8] [--files 8]

For each backend, on a fresh store holding the sample jurisdiction, ``fengqiao serve`` starts as
a subprocess and one case is registered. One client then uploads ``--files`` different PDFs of
``--size-mib`` each to it (multipart, one at a time, each the ``AddAttachment`` command with its
Idempotency-Key: the type checked, the bytes hashed, encrypted and stored, the event saved),
then downloads each (recorded, read, decrypted, checked against its hash) and compares the
bytes. Prints MiB/s and the per-file latency of both directions.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

import httpx
from rich.table import Table

from api.wiring.settings import new_cipher_key
from benchmarks.http import VILLAGE, Server, _bearer, console, fresh_store, seed
from benchmarks.views import percentiles

MIB = 1024 * 1024


def pdf(size: int) -> bytes:
    """A file the server takes for a PDF (its magic number), different every time."""
    return b"%PDF-1.7\n" + os.urandom(size - 16) + b"\n%%EOF\n"


def register(http: httpx.Client) -> str:
    answer = http.post(
        "/cases",
        json={
            "kind": "dispute",
            "unit": VILLAGE,
            "category": "邻里",
            "summary": "两户因排水沟堵塞发生争执，附现场材料",
            "channel": "grid_patrol",
        },
        headers={**_bearer("reporter", VILLAGE), "Idempotency-Key": uuid.uuid4().hex},
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def run_backend(backend: str, size: int, files: int) -> tuple[list[float], list[float]]:
    """Seconds per upload and per download."""
    store = fresh_store(backend, new_cipher_key())
    try:
        seed(store, None)
        server = Server(store, None)
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.url + "/api/v1", timeout=120) as http:
                case_id = register(http)
                mediator = _bearer("mediator", VILLAGE)
                contents = [pdf(size) for _ in range(files)]
                ups, urls = [], []
                for n, content in enumerate(contents):
                    started = time.perf_counter()
                    answer = http.post(
                        f"/cases/{case_id}/attachments",
                        files={"file": (f"证据{n}.pdf", content, "application/pdf")},
                        data={"kind": "evidence"},
                        headers={**mediator, "Idempotency-Key": uuid.uuid4().hex},
                    )
                    ups.append(time.perf_counter() - started)
                    answer.raise_for_status()
                listed = http.get(f"/cases/{case_id}/attachments", headers=mediator).json()
                urls = [item["url"].removeprefix("/api/v1") for item in listed]
                downs = []
                for url, content in zip(urls, contents, strict=True):
                    started = time.perf_counter()
                    answer = http.get(url, headers=mediator)
                    downs.append(time.perf_counter() - started)
                    answer.raise_for_status()
                    if answer.content != content:
                        raise RuntimeError(f"{backend}: {url} came back different")
                return ups, downs
        finally:
            server.stop()
    finally:
        store.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--size-mib", type=float, default=8.0)
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    size = int(args.size_mib * MIB)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    table = Table(title=f"{args.files} attachments of {args.size_mib:g} MiB over HTTP, one client")
    for column in ("backend", "direction", "MiB/s", "p50 s/file", "max s/file"):
        table.add_column(column, justify="right")
    for backend in backends:
        ups, downs = run_backend(backend, size, args.files)
        for direction, times in (("upload", ups), ("download", downs)):
            p50, _ = percentiles(times)
            rate = len(times) * size / MIB / sum(times)
            table.add_row(backend, direction, f"{rate:.0f}", f"{p50:.2f}", f"{max(times):.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
