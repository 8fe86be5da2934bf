"""``python -m pipelines.lm``: character and word LMs, perplexity, reproducible generation."""

import json

from pipelines.lm import main


def test_char_lm_on_the_constitution_learns_and_generates(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "2", "--set", "model.hidden_size=64", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "bits/char" in printed and "sample:" in printed
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert history[-1]["loss"] < history[0]["loss"] < 6.0  # ln(vocab ~370) = 5.9 is the uniform guess
    args = ["generate", "--bundle", str(out / "bundle"), "--prompt", "대한민국", "--max-tokens", "30", "--seed", "3",
            "--no-progress"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first and first.startswith("대한민국")


def test_word_lm_with_eos_and_evaluate(tmp_path, capsys):
    text = tmp_path / "words.txt"
    text.write_text("".join(f" the cat sat on mat {i % 5}\n" for i in range(300)), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--dry-run", "--data", str(text), "--set", "data.level=word", "--set", "data.bptt_len=8",
                 "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--data", str(text), "--no-progress"]) == 0
    assert "perplexity" in capsys.readouterr().out


def test_too_short_text_is_explained(tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("하나\n", encoding="utf-8")
    assert main(["train", "--dry-run", "--data", str(short), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "too few to split" in capsys.readouterr().err


def test_an_adaptive_softmax_trains_evaluates_and_generates(tmp_path, capsys):
    text = tmp_path / "words.txt"
    text.write_text("".join(f"w{i % 7} w{i % 11} w{i % 13} the end\n" for i in range(400)), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--data", str(text), "--epochs", "2", "--set", "data.level=word", "--set", "data.bptt_len=8",
                 "--set", "model.adaptive_cutoffs=4,12", "--set", "model.hidden_size=32", "--out", str(out),
                 "--no-progress"]) == 0
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert history[-1]["loss"] < history[0]["loss"]
    capsys.readouterr()
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--data", str(text), "--no-progress"]) == 0
    assert "perplexity" in capsys.readouterr().out
    assert main(["generate", "--bundle", str(out / "bundle"), "--prompt", "w1", "--max-tokens", "5",
                 "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("w1")


def test_adaptive_cutoffs_outside_the_vocab_name_the_key(tmp_path, capsys):
    text = tmp_path / "words.txt"
    text.write_text("".join(f"a b c {i % 3}\n" for i in range(200)), encoding="utf-8")
    args = ["train", "--dry-run", "--data", str(text), "--set", "data.level=word", "--out", str(tmp_path / "o"),
            "--no-progress", "--set"]
    assert main([*args, "model.adaptive_cutoffs=5,500"]) == 2
    assert "model.adaptive_cutoffs must be ascending word ids" in capsys.readouterr().err
    assert main([*args, "model.adaptive_cutoffs=3", "--set", "model.tie_weights=true"]) == 2
    assert "use one or the other" in capsys.readouterr().err
