"""The HTTP service under load, batching on and off, beside offline prediction of the same sentences.

    python benchmarks/serve_bench.py [--bundle RUN/bundle] [--task ner|classify] [--requests 2000]

Without ``--bundle`` a small model is trained first on the project's data (ner: the character tagger on
``data/ner_raw``, 3 epochs; classify: whitespace tokens, 3 epochs). The server runs as its own process
(``python -m pipelines.serve``) on loopback; the load generator is a bounded asyncio client in this process
(plain HTTP/1.1 over one keep-alive connection per client, a fixed number of clients and of requests), so
both share this machine's cores. Printed: requests/s, sentences/s, p50/p99 latency per scenario, and offline
``Predictor`` sentences/s on the same sentences in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sentences(task: str) -> list[str]:
    if task == "ner":
        lines = (ROOT / "data/ner_raw/sentences.txt").read_text(encoding="utf-8").splitlines()
        lines += [line.removeprefix("; ") for line in (ROOT / "data/ner_raw/train.txt").read_text(encoding="utf-8")
                  .splitlines() if line.startswith("; ")]
    else:
        lines = [row.split("\t")[1] for row in (ROOT / "data/sentiment/test.tsv").read_text(encoding="utf-8")
                 .splitlines()[1:]]
    return [line for line in lines if line.strip()]


def train(task: str, out: Path) -> Path:
    argv = {"ner": ["train", "--data", str(ROOT / "data/ner_raw/train.txt"), "--valid", str(ROOT / "data/ner_raw/dev.txt"),
                    "--set", "data.units=characters", "--epochs", "3"],
            "classify": ["train", "--tokenizer", "whitespace", "--epochs", "3"]}[task]
    subprocess.run([sys.executable, "-m", f"pipelines.{task}", *argv, "--out", str(out), "--no-progress"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return out / "bundle"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(bundle: Path, batching: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [sys.executable, "-m", "pipelines.serve", "--bundle", str(bundle), "--port", str(port),
            "--max-texts", "64", "--max-queue", "100000"] + ([] if batching else ["--no-batching"])
    process = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit("the server did not start")


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand: a load generator light enough that the
    server, not the client, is what the two cores spend their time on."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, host)

    async def post(self, path: str, payload: object) -> tuple[int, bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def load(base: str, texts: list[str], clients: int, per_request: int, requests: int) -> dict[str, float]:
    """``requests`` POSTs of ``per_request`` sentences from ``clients`` concurrent clients (one keep-alive
    connection each); latencies in seconds."""
    latencies: list[float] = []
    issued = 0
    connections = [await Connection.open(base) for _ in range(clients)]

    async def client(connection: Connection) -> None:
        nonlocal issued
        while issued < requests:
            k = issued
            issued += 1
            batch = [texts[(k * per_request + i) % len(texts)] for i in range(per_request)]
            begin = time.perf_counter()
            status, answer = await connection.post("/predict", {"texts": batch})
            latencies.append(time.perf_counter() - begin)
            if status != 200:
                raise SystemExit(f"request {k}: {status} {answer[:200]!r}")

    await connections[0].post("/predict", {"texts": texts[:per_request]})  # warm-up, not counted
    begin = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    seconds = time.perf_counter() - begin
    for connection in connections:
        connection.close()
    latencies.sort()
    return {"requests_s": requests / seconds, "sentences_s": requests * per_request / seconds,
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", help="a trained bundle (default: train a small one first)")
    parser.add_argument("--task", choices=["ner", "classify"], default="ner")
    parser.add_argument("--requests", type=int, default=2000, help="requests of the one-sentence scenario")
    args = parser.parse_args()
    texts = sentences(args.task)
    with tempfile.TemporaryDirectory() as scratch:
        bundle = Path(args.bundle) if args.bundle else train(args.task, Path(scratch) / "run")
        import nlprnn

        predictor = nlprnn.load(bundle, device="cpu")
        offline_texts = [texts[i % len(texts)] for i in range(args.requests)]
        predictor(offline_texts[:64])  # warm-up
        begin = time.perf_counter()
        predictor(offline_texts)
        offline = len(offline_texts) / (time.perf_counter() - begin)
        scenarios = [(32, 1, args.requests), (4, 64, max(8, args.requests // 16))]
        rows = []
        for batching in (True, False):
            process, base = start(bundle, batching)
            try:
                for clients, per_request, requests in scenarios:
                    result = asyncio.run(load(base, texts, clients, per_request, requests))
                    info = json.loads(urllib.request.urlopen(f"{base}/info").read())
                    rows.append((clients, per_request, requests, batching, result, info["batches"]))
            finally:
                process.terminate()
                process.wait(timeout=60)
    print(f"task {args.task}, {len(texts)} distinct sentences; offline Predictor: **{offline:,.0f} sentences/s** "
          f"({len(offline_texts)} sentences in one call)\n")
    print("| clients x sentences/request | requests | batching | requests/s | sentences/s | p50 ms | p99 ms | "
          "model calls (cumulative) | vs offline |")
    print("|---|---|---|---|---|---|---|---|---|")
    for clients, per_request, requests, batching, r, calls in rows:
        print(f"| {clients} x {per_request} | {requests} | {'on' if batching else 'off'} | {r['requests_s']:,.0f} | "
              f"{r['sentences_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {calls:,} | "
              f"{r['sentences_s'] / offline:.2f}x |")
    on = next(r for c, p, _, b, r, _ in rows if c == 32 and b)
    off = next(r for c, p, _, b, r, _ in rows if c == 32 and not b)
    print(f"\n32 one-sentence clients: batching on / off = {on['sentences_s'] / off['sentences_s']:.1f}x "
          f"(target >= 3x); on / offline = {on['sentences_s'] / offline:.2f}x (target >= 0.5x)")


if __name__ == "__main__":
    main()
