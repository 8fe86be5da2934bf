"""``python -m pipelines`` lists every command, from a list that needs no torch to print."""

import subprocess
import sys

from nlprnn.tasks import TASKS
from pipelines.__main__ import TASK_SUMMARIES


def test_the_list_names_every_task_with_its_summary():
    assert TASK_SUMMARIES == {name: task.summary for name, task in TASKS.items()}


def test_listing_the_commands_imports_no_torch():
    code = ("import runpy, sys\ntry:\n    runpy.run_module('pipelines', run_name='__main__')\nexcept SystemExit:\n"
            "    pass\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "classify" in out and out.strip().endswith("False")


def test_a_reader_that_leaves_early_gets_no_traceback():
    # `python -m pipelines | head -0`: the pipe has no reader when the list is written
    listing = subprocess.Popen([sys.executable, "-m", "pipelines"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()
    assert listing.wait(timeout=60) == 1
    assert listing.stderr.read() == b""
