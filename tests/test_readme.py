"""Every code block of the README runs as written, on the project's shipped data.

The Python blocks and the shell blocks after the two install lines run in a scratch folder holding a copy
of ``data/`` (so the runs they train land there), the shell blocks one after another in README order, as
a reader would type them (a later block uses an earlier one's model). The first block, the install line
and first command, runs in a copy of the project with its own fresh virtual environment. The second, the
test command, is what ``.ci/run`` runs, so it is checked to be there rather than run inside itself.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
SHELL = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
INSTALL, TEST_COMMAND, COMMANDS = SHELL[0], SHELL[1], SHELL[2:]


def printed_after(block: str) -> str:
    """The output block (a fence with no language) that the README shows after ``block``."""
    end = README.index(block) + len(block) + len("```")
    match = re.search(r"\n```\n(.*?)```", README[end:], flags=re.S)
    assert match, f"no output shown after:\n{block}"
    return match.group(1).strip()


def scratch_with_data(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def run_shell(block: str, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """``bash -euo pipefail`` over the block; whatever it left running (a server sent to the background)
    is stopped afterwards with its process group."""
    process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", block], cwd=cwd, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_the_readme_has_python_and_shell_blocks():
    assert len(BLOCKS) >= 3 and len(COMMANDS) >= 5


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_a_readme_python_block_runs(number, tmp_path):
    done = subprocess.run([sys.executable, "-c", BLOCKS[number]], cwd=scratch_with_data(tmp_path),
                          capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, f"README block {number + 1} failed:\n{BLOCKS[number]}\n{done.stderr[-3000:]}"


@pytest.mark.kkma
def test_the_readme_shell_blocks_run_in_order(tmp_path):
    folder = scratch_with_data(tmp_path)
    here = str(Path(sys.executable).parent)  # `python` and `torchrun` are this environment's
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": here + os.pathsep + os.environ["PATH"]}
    for block in COMMANDS:
        done = run_shell(block, folder, env, timeout=900)
        assert done.returncode == 0, f"README block failed:\n{block}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        if "curl" in block:  # the served model's answer is the one the README prints under the block
            assert done.stdout.strip().splitlines()[-1] == printed_after(block)


@pytest.mark.kkma
def test_the_first_command_runs_as_written_in_a_copy_of_the_project(tmp_path):
    project = tmp_path / "nlprnn"  # what a fresh clone holds: the tracked files (and new ones not ignored)
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    for name in listed:
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                  if not os.environ.get("VIRTUAL_ENV") or not p.startswith(os.environ["VIRTUAL_ENV"]))
    done = run_shell(INSTALL, project, env, timeout=1500)
    assert done.returncode == 0, f"{INSTALL}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    expected = printed_after(INSTALL).splitlines()
    assert expected[0] in done.stdout and expected[-1] in done.stdout  # the rows line and the bundle line


def test_the_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND.strip() in ci
