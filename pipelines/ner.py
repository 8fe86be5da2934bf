"""``python -m pipelines.ner train|evaluate|predict``: named entities in raw text or CoNLL column files.

    python -m pipelines.ner train                      # data/ner_raw: raw sentences, tagged by character (kiwi)
    python -m pipelines.ner train --data data/ner/train.conll --valid data/ner/dev.conll   # CoNLL morphemes
    python -m pipelines.ner predict --data sentences.txt --format text    # entities as character spans (JSONL)
    python -m pipelines.ner evaluate --data data/ner_raw/dev.bio --format text
"""

import sys

from pipelines.cli import task_command

main = task_command("ner", __doc__)

if __name__ == "__main__":
    sys.exit(main())
