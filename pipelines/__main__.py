"""``python -m pipelines``: lists the commands (the data tools, then the tasks of the registry).

The list is written out here, not read from ``nlprnn.tasks``, so that printing it imports neither torch
nor the tasks (tests/test_commands_list.py checks it against the registry)."""

import sys

TOOLS = {
    "preprocess": "tokenize a TSV/CoNLL file (here or on a Ray cluster: --engine ray), build vocabularies, write "
                  "the cached dataset, print a summary",
}
TASK_SUMMARIES = {
    "classify": "train / evaluate / predict a text classifier (TSV, CSV, JSONL)",
    "ner": "train / evaluate / predict a BiLSTM-CRF named-entity tagger (CoNLL, 2016 corpus, raw text)",
    "lm": "train / evaluate / generate a word- or character-level LSTM language model",
    "regress": "train / evaluate / predict next-value forecasts of a numeric column",
}


def main() -> int:
    try:
        print("nlprnn commands (python -m pipelines.<command> --help):")
        for name, what in {**TOOLS, **TASK_SUMMARIES}.items():
            print(f"  {name:<12} {what}")
        sys.stdout.flush()
    except BrokenPipeError:  # `python -m pipelines | head -1`: the reader left, as run_command treats it
        sys.stderr.close()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
