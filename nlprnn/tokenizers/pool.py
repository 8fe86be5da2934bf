"""A pool of analyzer processes with a hard time bound per text.

Each worker is a child process with its own JVM (``_konlpy_worker``). The parent drives each worker
from a thread, sends it chunks of texts and waits for each answer at most ``timeout`` seconds; a
worker that overruns is killed and replaced, so no input can hang the pipeline.
"""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

from nlprnn.errors import TokenizerUnavailableError

#: seconds a new worker may take to start its JVM and load dictionaries.
STARTUP_TIMEOUT = 180.0

TIMED_OUT = object()
"""Passed to ``on_result`` for a text that overran the bound."""


class _WorkerDied(Exception):
    pass


class _Worker:
    """One child process, with a line reader on its stdout that honours a timeout."""

    def __init__(self, analyzer: str, pos: bool) -> None:
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nlprnn.tokenizers._konlpy_worker", analyzer, "1" if pos else "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self._buffer = b""
        try:
            first = self.read(STARTUP_TIMEOUT)
        except _WorkerDied as died:  # e.g. the JVM could not start (bad options, no memory)
            first = {"error": f"the Java VM did not start; {died}"}
        if first is None or not isinstance(first, dict) or "ready" not in first:
            reason = first.get("error") if isinstance(first, dict) else f"no answer in {STARTUP_TIMEOUT} s"
            self.kill(keep_log=True)
            tail = self._log_tail()
            self.log.close()
            raise TokenizerUnavailableError(f"the {analyzer} analyzer could not start ({reason}).{tail}\n{java_help()}")

    def _log_tail(self) -> str:
        self.log.seek(0)
        tail = self.log.read()[-1500:].decode("utf-8", "replace").strip()
        return f"\nIts log ends with:\n{tail}" if tail else ""

    def send(self, texts: Sequence[str]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(list(texts), ensure_ascii=False).encode() + b"\n")
        self.process.stdin.flush()

    def read(self, timeout: float) -> Any:
        """The next JSON answer, or None when ``timeout`` seconds pass first; raises if it died."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise _WorkerDied(f"worker exited with code {self.process.wait()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def kill(self, keep_log: bool = False) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        if not keep_log:
            self.log.close()


def java_help() -> str:
    return (
        "KoNLPy's kkma, okt and komoran need a Java runtime (JDK/JRE 8+, 11+ with JPype1>=1.6): "
        "install one (Debian/Ubuntu: `apt-get install default-jre-headless`; macOS: `brew install openjdk`) "
        "or set JAVA_HOME to it. Tokenizers that work without Java: whitespace, char, kiwi "
        "(`pip install nlprnn[kiwi]`)."
    )


def check_java() -> None:
    """Raise TokenizerUnavailableError, with install advice, if no JVM can be found (starts none)."""
    try:
        import jpype
    except ImportError as error:
        raise TokenizerUnavailableError(f"JPype1 is not installed ({error}). {java_help()}") from error
    try:
        path = jpype.getDefaultJVMPath()
    except Exception as error:  # JVMNotFoundException, JVMNotSupportedException
        raise TokenizerUnavailableError(f"no Java runtime found ({error}). {java_help()}") from error
    if not path or not os.path.exists(path):
        raise TokenizerUnavailableError(f"no Java runtime found (JVM path {path!r}). {java_help()}")


class KonlpyPool:
    """Up to ``workers`` analyzer processes, started on first use and kept warm until ``close()``."""

    def __init__(self, analyzer: str, pos: bool = False, workers: int = 1) -> None:
        self.analyzer = analyzer
        self.pos = pos
        self.workers = max(1, workers)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self.analyzer, self.pos)

    def _give(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def run(
        self,
        texts: Sequence[str],
        timeout: float,
        on_result: Callable[[int, Any], None],
        chunk_size: int = 64,
        workers: int | None = None,
    ) -> None:
        """Analyze ``texts``; call ``on_result(i, tokens | {'error': ...} | TIMED_OUT)`` once per text.

        ``on_result`` is called from worker threads, one call at a time per thread.
        """
        chunks: queue.Queue[int] = queue.Queue()
        for start in range(0, len(texts), chunk_size):
            chunks.put(start)
        errors: list[BaseException] = []

        def drive() -> None:
            worker: _Worker | None = None
            try:
                while True:
                    try:
                        start = chunks.get_nowait()
                    except queue.Empty:
                        return
                    end = min(start + chunk_size, len(texts))
                    position = start
                    while position < end:
                        if worker is None:
                            worker = self._take()
                        worker.send(texts[position:end])
                        while position < end:
                            try:
                                answer = worker.read(timeout)
                                if answer is None:  # overran the bound: the only way to stop it
                                    answer = TIMED_OUT
                                    worker.kill()
                                    worker = None
                            except _WorkerDied as died:
                                answer = {"error": str(died)}
                                if worker is not None:
                                    worker.kill()
                                worker = None
                            on_result(position, answer)
                            position += 1
                            if worker is None:
                                break
            except BaseException as error:  # surfaced in the calling thread
                errors.append(error)
                if worker is not None:
                    worker.kill()
                worker = None
            finally:
                if worker is not None:
                    self._give(worker)

        n_threads = min(workers or self.workers, max(1, chunks.qsize()))
        threads = [threading.Thread(target=drive, daemon=True) for _ in range(n_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Stop every idle worker (and its JVM)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
