"""``python -m pipelines``: lists the commands (the tasks from the registry, then the data tools)."""

from nlprnn.tasks import TASKS

TOOLS = {
    "preprocess": "tokenize a TSV/CoNLL file, build vocabularies, write the cached dataset, print a summary",
    "shards": "Kkma over a big file in shards (processes or machines), resumable, merged into the token cache",
}


def main() -> None:
    print("nlprnn commands (python -m pipelines.<command> --help):")
    for name, what in {**TOOLS, **{name: task.summary for name, task in TASKS.items()}}.items():
        print(f"  {name:<12} {what}")


if __name__ == "__main__":
    main()
