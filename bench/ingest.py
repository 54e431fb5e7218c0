"""Webhook gateway throughput and latency, beside a same-run baseline that only answers 202.

Both are one uvicorn process on the same 2 cores as the load generator (autocannon, run with npx,
CONCURRENCY connections; a Python client was slower than the servers it measured) and the Kafka
broker. Each request is a signed Zendesk ``ticket.comment_added`` delivery (the same one throughout a
run, as a helpdesk's retries would be): the gateway checks the signature and its age, maps it,
publishes the event with acks=all and answers 202 once Kafka has it. The baseline reads the body
and answers 202: what this load generator, server and machine reach with no work at all.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI, Request, Response

from connectors.vendors.auth import base64_signature
from cxa.kafka import ensure_topics
from cxa.settings import KafkaSettings
from cxa.stack import free_port
from cxa.stack.throwaway import throwaway_broker

SECRET = "bench-secret"
FIXTURE = Path(__file__).parents[1] / "tests/fixtures/webhooks/zendesk/ticket_comment_added_public_agent.json"
CONCURRENCY = 32
AUTOCANNON = "autocannon@7"

baseline_app = FastAPI()


@baseline_app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready"}


@baseline_app.post("/webhooks/zendesk")
async def accept(request: Request) -> Response:
    await request.body()
    return Response(b'{"accepted":0}', status_code=202, media_type="application/json")


def _delivery() -> tuple[bytes, dict[str, str]]:
    payload = json.loads(FIXTURE.read_text())
    payload["id"] = str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64_signature(SECRET, stamp.encode() + body),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def _load(url: str, seconds: int) -> dict[str, Any]:
    """autocannon's JSON summary of ``seconds`` of POSTs of one signed delivery."""
    body, headers = _delivery()
    command = ["npx", "-y", AUTOCANNON, "-j", "-c", str(CONCURRENCY), "-d", str(seconds), "-m", "POST"]
    for name, value in headers.items():
        command += ["-H", f"{name}={value}"]
    done = subprocess.run(
        [*command, "-b", body.decode(), f"{url}/webhooks/zendesk"], capture_output=True, check=True, text=True
    )
    return cast(dict[str, Any], json.loads(done.stdout))


def _serve(command: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not start; see {log}")


def run(seconds: int, runs: int) -> list[dict[str, Any]]:
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="cxa-bench-ingest-") as home,
        throwaway_broker(Path(home)) as broker,
    ):
        kafka = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers)
        ensure_topics(kafka)
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "CXA_INGEST_ZENDESK_SECRET": SECRET,
            "CXA_INGEST_RATE_LIMIT": "1000000/second",
        }
        servers = {
            "baseline (answers 202)": [
                "-m",
                "uvicorn",
                "bench.ingest:baseline_app",
                "--log-level",
                "warning",
            ],
            "gateway (Zendesk webhook to Kafka)": ["-m", "cxa", "ingest", "serve"],
        }
        measured: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
        for _ in range(runs):
            for name, args in servers.items():
                port = free_port()
                process = _serve(
                    [sys.executable, *args, "--port", str(port)], port, env, Path(home) / "server.log"
                )
                try:
                    measured[name].append(_load(f"http://127.0.0.1:{port}", seconds))
                finally:
                    process.terminate()
                    process.wait(timeout=30)
        for name, results in measured.items():

            def spread(values: list[float], form: str) -> str:
                ordered = sorted(values)
                return "/".join(
                    format(v, form) for v in (ordered[0], statistics.median(ordered), ordered[-1])
                )

            rows.append(
                {
                    "server": name,
                    "requests_per_s (min/median/max)": spread(
                        [r["requests"]["average"] for r in results], ",.0f"
                    ),
                    "p50_ms (min/median/max)": spread([r["latency"]["p50"] for r in results], ".1f"),
                    "p99_ms (min/median/max)": spread([r["latency"]["p99"] for r in results], ".1f"),
                    "not_202": sum(r["non2xx"] + r["errors"] for r in results),
                    "seconds_per_run": seconds,
                }
            )
    return rows
