"""``python -m pipelines.regress train|evaluate|predict``: forecast the next value of a numeric column.

    python -m pipelines.regress train                     # data/series/temperature.tsv, windows of 30 days
    python -m pipelines.regress train --set data.window=60 --set model.hidden_size=128
    python -m pipelines.regress evaluate --data data/series/temperature.tsv
    python -m pipelines.regress predict --data series.tsv --output forecasts.tsv
"""

import sys

from pipelines.cli import task_command

main = task_command("regress", __doc__)

if __name__ == "__main__":
    sys.exit(main())
