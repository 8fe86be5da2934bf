"""``python -m pipelines`` lists every command, from a list that needs no torch to print."""

import subprocess
import sys
from pathlib import Path

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


def test_import_nlprnn_is_lazy_and_every_public_name_resolves() -> None:
    """``import nlprnn.tokenizers`` (what a Ray actor or tokenizer worker runs) loads no torch; every name of
    ``nlprnn.__all__`` resolves, and the lazy table lists exactly the names imported for type checkers."""
    import ast

    code = "import sys, nlprnn.tokenizers; print('torch' in sys.modules, 'datasets' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
    import nlprnn

    assert all(getattr(nlprnn, name) is not None for name in nlprnn.__all__)
    tree = ast.parse(Path(nlprnn.__file__).read_text(encoding="utf-8"))
    typed = {node.module: tuple(alias.name for alias in node.names) for block in tree.body
             if isinstance(block, ast.If) for node in block.body if isinstance(node, ast.ImportFrom)}
    assert typed == nlprnn._EXPORTS


def test_the_models_import_without_the_data_pipeline() -> None:
    """``nlprnn.models`` (what benchmarks/gpu_bench.py runs on a GPU machine without datasets) imports no
    datasets, pyarrow, seqeval or KoNLPy."""
    code = ("import sys, nlprnn.models; print(sorted(m for m in ('datasets', 'pyarrow', 'seqeval', 'konlpy') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
