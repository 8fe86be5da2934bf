"""``python -m pipelines``: lists the commands."""

COMMANDS = {
    "preprocess": "tokenize a TSV/CoNLL file, build vocabularies, write the cached dataset, print a summary",
    "shards": "Kkma over a big file in shards (processes or machines), resumable, merged into the token cache",
    "classify": "train / evaluate / predict a text classifier (TSV, CSV, JSONL)",
    "ner": "train / evaluate / predict a BiLSTM-CRF named-entity tagger (CoNLL columns)",
    "lm": "train / evaluate / generate a word- or character-level LSTM language model",
    "regress": "train / evaluate / predict next-value forecasts of a numeric column",
}


def main() -> None:
    print("nlprnn commands (python -m pipelines.<command> --help):")
    for name, what in COMMANDS.items():
        print(f"  {name:<12} {what}")


if __name__ == "__main__":
    main()
