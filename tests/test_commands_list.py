"""``python -m pipelines`` lists every command, from a list that needs no torch to print."""

import subprocess
import sys

from nlprnn.tasks import TASKS
from pipelines.__main__ import TASK_SUMMARIES


def test_the_list_names_every_task_with_its_summary():
    assert TASK_SUMMARIES == {name: task.summary for name, task in TASKS.items()}


def test_listing_the_commands_imports_no_torch():
    code = "import runpy, sys; runpy.run_module('pipelines', run_name='__main__'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "classify" in out and out.strip().endswith("False")
