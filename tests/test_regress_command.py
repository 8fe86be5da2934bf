"""``python -m pipelines.regress``: windows of a numeric column -> the next value, against the naive forecast."""

import json
from pathlib import Path

from pipelines.regress import main

ROOT = Path(__file__).resolve().parents[1]
SERIES = str(ROOT / "data/series/temperature.tsv")


def test_train_beats_the_last_value_forecast_then_evaluate_and_predict(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", SERIES, "--epochs", "8", "--set", "model.hidden_size=32", "--set", "train.lr=0.01",
                 "--out", str(out),
                 "--no-progress"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["test"]["mse"] < result["test"]["naive_mse"]
    capsys.readouterr()
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--data", SERIES, "--no-progress"]) == 0
    assert "last-value baseline" in capsys.readouterr().out
    forecasts = tmp_path / "forecasts.tsv"
    assert main(["predict", "--bundle", str(out / "bundle"), "--data", SERIES, "--output", str(forecasts),
                 "--no-progress"]) == 0
    rows = forecasts.read_text().splitlines()
    assert rows[0] == "line\tvalue\tpredicted_next"
    assert len(rows) - 1 == 1460 - 30 + 1
    assert rows[1].split("\t")[0] == "31"  # the first full window ends on file line 31


def test_a_value_that_is_not_a_number_names_its_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("day\tvalue\n0\t1.5\n1\tabc\n", encoding="utf-8")
    assert main(["train", "--data", str(bad), "--dry-run", "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "bad.tsv:3: 'abc' in column 'value' is not a number" in capsys.readouterr().err
