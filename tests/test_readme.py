"""Every Python block of the README runs as written, on the project's shipped data (in a scratch folder
holding a copy of ``data/``, so the runs it trains land there)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_a_readme_block_runs(number, tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    done = subprocess.run([sys.executable, "-c", BLOCKS[number]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, f"README block {number + 1} failed:\n{BLOCKS[number]}\n{done.stderr[-3000:]}"
