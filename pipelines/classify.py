"""``python -m pipelines.classify train|evaluate|predict``: text classification from TSV/CSV/JSONL.

    python -m pipelines.classify train                       # data/sentiment with Kkma, into runs/classify
    python -m pipelines.classify train --config pipelines/configs/classify.toml --set model.hidden_size=256
    python -m pipelines.classify train --resume              # continue runs/classify from its last.pt
    python -m pipelines.classify evaluate --data data/sentiment/test.tsv
    python -m pipelines.classify predict --data new.tsv --output predictions.tsv
"""

import sys

from pipelines.cli import task_command

main = task_command("classify", __doc__)

if __name__ == "__main__":
    sys.exit(main())
