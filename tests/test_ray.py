"""Tokenizing on a real Ray cluster: a head and a second node started on this machine with ``ray start``
(loopback, one CPU each), as ``ray start --head`` and ``ray start --address=HEAD:PORT`` on two machines."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'nlprnn[ray]'; tox -e ray)")
pytestmark = pytest.mark.ray

from nlprnn.tokenizers import get_tokenizer  # noqa: E402
from nlprnn.tokenizers.ray_engine import RayTokenizer  # noqa: E402
from pipelines import preprocess  # noqa: E402

RAY = str(Path(sys.executable).parent / "ray")
SUBJECTS = ["배우", "감독", "음악", "영화", "주인공", "친구", "가족", "이야기"]
VERDICTS = ["정말 좋았다", "너무 지루했다", "다시 보고 싶다", "별로였다", "최고였다", "눈물이 났다"]


def reviews(count: int) -> list[str]:
    """Distinct short Korean reviews (a number makes each text its own)."""
    return [f"{SUBJECTS[i % 8]}가 {VERDICTS[i % 6]} {i}번째 관람" for i in range(count)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head node and a worker node on loopback; stopped (with every Ray process) afterwards."""
    port = free_port()
    before = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"  # loopback only; between machines Ray's token goes to every node
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
                    "--include-dashboard", "false", *common], check=True, env=env, capture_output=True)
    address = f"127.0.0.1:{port}"
    try:
        subprocess.run([RAY, "start", "--address", address, "--node-ip-address", "127.0.0.1", *common], check=True,
                       env=env, capture_output=True)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True)
        if before is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = before


def ray_status(address: str) -> str:
    return subprocess.run([RAY, "status", "--address", address], capture_output=True, text=True, check=True).stdout


def test_a_two_node_cluster_tokenizes_every_row_once_as_the_analyzer_does_here(cluster: str) -> None:
    texts = reviews(6000)  # in 120 small blocks, so the second actor up still finds work
    engine = RayTokenizer(get_tokenizer("kiwi"), address=cluster, progress=False, block_rows=50)
    seen: list[str] = []

    def watch() -> None:  # `ray status` while the run goes: the actor pool holds both nodes' CPUs
        while not engine.runs and not any("2.0/2.0 CPU" in s for s in seen):
            if engine.current is not None and engine.current.analyzed:
                seen.append(ray_status(cluster))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    lists, report = engine.tokenize_many(texts)
    watcher.join()
    assert any("2.0/2.0 CPU" in s and "Active:" in s for s in seen), seen[-1:]
    run = engine.runs[-1]
    assert lists == get_tokenizer("kiwi").tokenize_many(texts)[0]
    assert report.computed == run.analyzed == 6000 and sum(run.per_node.values()) == 6000
    assert len(run.per_node) == 2 and min(run.per_node.values()) > 0  # both nodes did part of it
    assert engine.spec() == get_tokenizer("kiwi").spec()  # fields and bundles record kiwi itself


@pytest.mark.kkma
def test_kkma_on_the_cluster_fills_the_token_cache_so_a_rerun_analyzes_nothing(cluster: str, tmp_path: Path) -> None:
    texts = reviews(240)
    kkma = get_tokenizer("kkma", cache_dir=str(tmp_path))
    engine = RayTokenizer(kkma, address=cluster, progress=False)
    first, report = engine.tokenize_many(texts)
    assert report.computed == 240 and len(kkma.cache) == 240
    again = RayTokenizer(get_tokenizer("kkma", cache_dir=str(tmp_path)), address=cluster, progress=False)
    second, report = again.tokenize_many(texts)
    assert second == first and report.computed == 0 and report.cached == 240
    assert first[:3] == get_tokenizer("kkma", cache=False, workers=1).tokenize_many(texts[:3])[0]


def worker_raylet_pid() -> int:
    """The process id of the raylet of the node that is not the head (found by its socket's name)."""
    nodes = [n for n in ray.nodes() if n["Alive"] and "node:__internal_head__" not in n.get("Resources", {})]
    socket_name = nodes[0]["RayletSocketName"]
    for process in Path("/proc").glob("[0-9]*"):
        try:
            args = (process / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"/raylet") and f"--raylet_socket_name={socket_name}".encode() in args:
            return int(process.name)
    raise AssertionError(f"no raylet with socket {socket_name}")


def test_a_worker_node_killed_mid_run_loses_no_row_and_doubles_none(cluster: str, tmp_path: Path) -> None:
    texts = reviews(6000)
    engine = RayTokenizer(get_tokenizer("kiwi"), address=cluster, progress=False, block_rows=100)
    engine._connect()
    victim = worker_raylet_pid()
    killed = threading.Event()

    def kill_when_started() -> None:  # once the pool has answered some blocks, the worker node goes
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if engine.current is not None and engine.current.analyzed >= 500:
                os.kill(victim, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_started)
    killer.start()
    lists, report = engine.tokenize_many(texts)
    killer.join()
    assert killed.is_set()
    run = engine.runs[-1]
    assert lists == get_tokenizer("kiwi").tokenize_many(texts)[0]  # every row, in its place
    assert run.analyzed == 6000 and sum(run.per_node.values()) == 6000  # each once: none lost, none twice


def test_preprocess_engine_ray_on_the_cluster_names_rows_per_node(cluster: str, tmp_path: Path, capsys) -> None:
    data = tmp_path / "reviews.tsv"
    data.write_text("id\ttext\tlabel\n" + "".join(f"{i}\t{t}\t{i % 2}\n" for i, t in enumerate(reviews(1200))),
                    encoding="utf-8")
    assert preprocess.main(["--data", str(data), "--tokenizer", "kiwi", "--engine", "ray", "--address", cluster,
                            "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "rows                1200" in out and "ray                 1200 texts analyzed" in out
    nodes = out.split("rows per node: ", 1)[1].split(";", 1)[0].split(", ")
    assert 1 <= len(nodes) <= 2 and sum(int(n.rsplit(" ", 1)[1]) for n in nodes) == 1200  # the first actor up may take all


def test_classify_train_engine_ray_tokenizes_on_the_cluster_and_the_bundle_needs_no_ray(cluster: str, tmp_path: Path,
                                                                                        capsys) -> None:
    import nlprnn
    from pipelines import classify

    texts = reviews(800)
    data = tmp_path / "reviews.tsv"
    data.write_text("id\ttext\tlabel\n" + "".join(f"{i}\t{t}\t{'pos' if '좋' in t or '최고' in t else 'neg'}\n"
                                                   for i, t in enumerate(texts)), encoding="utf-8")
    out = tmp_path / "run"
    assert classify.main(["train", "--data", str(data), "--tokenizer", "kiwi", "--engine", "ray", "--address", cluster,
                          "--dry-run", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    # the train, valid and test parts of the file; by 1 or 2 actors (the kill test may have taken a node)
    assert re.search(r"ray: 800 texts analyzed by [12] actors", printed), printed
    predictor = nlprnn.load(out / "bundle")
    assert predictor.loaded.fields["text"].tokenizer.spec() == get_tokenizer("kiwi").spec()  # kiwi itself, not Ray
    assert len(predictor(texts[:3])) == 3


def test_streaming_preprocess_tokenizes_each_chunk_on_the_cluster(cluster: str, tmp_path: Path) -> None:
    from nlprnn import Dataset, Field, LabelField
    from nlprnn.data.streaming import stream_preprocess

    texts = reviews(900)
    data = tmp_path / "reviews.tsv"
    data.write_text("id\ttext\tlabel\n" + "".join(f"{i}\t{t}\t{i % 2}\n" for i, t in enumerate(texts)), encoding="utf-8")
    text, label = Field(tokenize="kiwi"), LabelField()
    result = stream_preprocess(data, tmp_path / "out", {"text": ("text", text), "label": ("label", label)},
                               chunk_rows=300, engine="ray", address=cluster)
    assert result.rows == 900 and result.chunks == 3
    assert sum(run.analyzed for run in text.tokenizer.runs) == 900  # type: ignore[union-attr]
    tokens = Dataset.load(tmp_path / "out").table.column("text").to_pylist()
    assert tokens == get_tokenizer("kiwi").tokenize_many(texts)[0]


def test_ctrl_c_stops_a_ray_run_with_one_line(cluster: str, tmp_path: Path) -> None:
    data = tmp_path / "reviews.tsv"
    data.write_text("id\ttext\tlabel\n" + "".join(f"{i}\t{t}\t{i % 2}\n" for i, t in enumerate(reviews(40000))),
                    encoding="utf-8")
    command = [sys.executable, "-m", "pipelines.preprocess", "--data", str(data), "--tokenizer", "kiwi", "--engine",
               "ray", "--address", cluster, "--out", str(tmp_path / "out")]
    # Ctrl-C's default disposition in the child, as in a terminal: a test process started in the background
    # (`cmd &` in a shell without job control) inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt; two of this stop's CI runs here were such, and the run went on to its end
    process = subprocess.Popen(command, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1],
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stderr is not None
    printed = bytearray()

    def read() -> None:
        while chunk := process.stderr.read1(4096):  # type: ignore[union-attr]
            printed.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and b"kiwi on ray:" not in printed:
        time.sleep(0.05)  # until the bar is up: Ray joined and the actors starting
    # a second later the run is in Ray's hands (the actors starting or analyzing); waiting for rows done
    # instead let a one-actor run send its blocks only at the end, finished before the signal came (CI)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    reader.join(timeout=30)
    err = printed.decode("utf-8", "replace")
    assert process.returncode == 130 and err.strip().endswith("interrupted") and "Traceback" not in err
    assert not (tmp_path / "out" / "summary.json").exists()
