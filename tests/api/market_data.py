"""Small market data files written by the tests, and helpers to upload them through the API.

The ES chain (daily bars on the ten CME business days 2024-03-04 .. 2024-03-15, i = 0..9):
    ESH2024 close = 5100.00 + 1.25 i,  ESM2024 close = 5160.50 + 1.25 i  (gap 60.50 every day)
ES is cash-settled, so a 5-day calendar roll counts back from ESH2024's last trade day, Friday
2024-03-15 (third Friday of March): five CME business days before is Friday 2024-03-08.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

DATASETS = "/api/v1/datasets"
ES_DAYS = [
    date(2024, 3, 4) + timedelta(days=n)
    for n in range(12)
    if (date(2024, 3, 4) + timedelta(days=n)).weekday() < 5
]
HEADER = ("date", "symbol", "open", "high", "low", "close", "volume", "open_interest")


def es_rows(
    contract: str = "ESH24", base: float = 5100.00, volume: int = 1000
) -> list[tuple[Any, ...]]:
    """Ten daily bars of one contract: close base + 1.25 i, high/low one point around it."""
    return [
        (day.isoformat(), contract, base + 1.25 * i, base + 1.25 * i + 1.0,
         base + 1.25 * i - 1.0, base + 1.25 * i, volume - volume // 20 * i, 2000)
        for i, day in enumerate(ES_DAYS)
    ]  # fmt: skip


def es_chain_rows() -> list[tuple[Any, ...]]:
    """ESH2024 and ESM2024 interleaved by day, as vendors often write them."""
    front, back = es_rows("ESH24", 5100.00, 1000), es_rows("ESM24", 5160.50, 100)
    return [row for pair in zip(front, back, strict=True) for row in pair]


def csv_bytes(
    rows: list[tuple[Any, ...]], header: tuple[str, ...] = HEADER, sep: str = ","
) -> bytes:
    """A CSV file of ``rows`` under ``header``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    *,
    filename: str = "es.csv",
    path: str = DATASETS,
    **fields: Any,
) -> httpx.Response:
    """POST a multipart upload (``fields`` are the form fields; lists repeat the field)."""
    return client.post(
        path,
        headers=headers,
        files={"file": (filename, content, "application/octet-stream")},
        data=fields,
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem-details body of an error response, checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body
