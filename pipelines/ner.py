"""``python -m pipelines.ner train|evaluate|predict``: named entities from CoNLL column files.

    python -m pipelines.ner train                      # data/ner/{train,dev}.conll, BiLSTM-CRF + characters
    python -m pipelines.ner train --config pipelines/configs/ner.toml --set model.crf=false
    python -m pipelines.ner evaluate --data data/ner/dev.conll
    python -m pipelines.ner predict --data sentences.conll --output tagged.conll
"""

import sys

from pipelines.cli import task_command

main = task_command("ner", __doc__)

if __name__ == "__main__":
    sys.exit(main())
