"""benchmarks/gpu_bench.py, the script a GPU session runs, checked here on the CPU at tiny sizes (its figures
mean nothing here; that it runs to the end and prints every row does), and its refusal without CUDA."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gpu_bench  # noqa: E402


def test_the_gpu_benchmark_runs_end_to_end_at_small_sizes_on_the_cpu(capsys):
    assert gpu_bench.main(["--device", "cpu", "--small", "--iterations", "1", "--skip-compile"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("device: CPU")
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    encoders = 6 + 2 * gpu_bench.triton_usable(torch.device("cpu"))  # the Triton rows where they can run
    assert len(rows) == encoders + 2 and all("/s" in row for row in rows)  # with the tagger and the classifier
    assert "two fused calls per layer" in out and "KMOU tagger" in out and "rows/s" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_cuda_it_says_so_in_one_line(capsys):
    assert gpu_bench.main([]) == 2
    assert "no CUDA device" in capsys.readouterr().err
