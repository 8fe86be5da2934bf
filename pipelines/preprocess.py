"""``python -m pipelines.preprocess``: a TSV/CSV/JSONL/CoNLL file -> tokens -> vocab -> cached dataset.

Writes ``OUT/dataset`` (Arrow, reloadable with ``nlprnn.Dataset.load``), ``OUT/text_vocab.json``,
``OUT/label_vocab.json`` and ``OUT/summary.json``, and prints the summary: rows, tokens, vocab sizes,
rows skipped or repaired and why, the tokenizer's time-bound fallbacks, and the padding fraction of
bucketed batches.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from nlprnn import BucketIterator, Dataset, Field, LabelField, SequenceTaggingDataset, TabularDataset, TagField
from nlprnn.config import OnError, PositiveInt, TokenizerName, build_config, parse_sets
from nlprnn.data.readers import conll_width
from nlprnn.errors import ConfigError
from nlprnn.tokenizers.ray_engine import ray_summary, summary_line
from pipelines.cli import remedy_words, run_command


@dataclass
class PreprocessConfig:
    """What to read and how to process it."""

    data: str = "data/sentiment/train.tsv"
    format: Literal["tsv", "csv", "jsonl", "conll"] = "tsv"
    tokenizer: TokenizerName = "kkma"
    text_column: str = "text"
    label_column: str = "label"
    lower: bool = False
    max_size: PositiveInt | None = None
    min_freq: PositiveInt = 1
    on_error: OnError = "raise"
    tag_scheme: Literal["bio", "iob1", "bioes"] = "bio"
    repair_tags: bool = False
    batch_size: PositiveInt = 64
    out: str = "runs/preprocess"
    stream: bool = False      # chunk by chunk, for files larger than memory (tsv only)
    chunk_rows: PositiveInt = 50_000
    # local: the tokenizer's own processes on this machine; ray: a pool of Ray actors (pip install 'nlprnn[ray]')
    engine: Literal["local", "ray"] = "local"
    address: str | None = None  # with engine ray: none starts Ray here; "auto" or HOST:PORT joins a cluster

    def validate(self) -> None:
        if self.stream and self.format != "tsv":
            raise ConfigError(f"config key 'stream' works with format tsv, not {self.format!r}", key="stream",
                              value=True)


def text_tokenizer(config: PreprocessConfig, progress: bool = True) -> Any:
    """The text field's tokenizer: the configured one, run by Ray actors with ``engine="ray"``."""
    from nlprnn.tokenizers.ray_engine import with_engine

    return with_engine(config.tokenizer, config.engine, config.address, progress=progress)


def build_dataset(config: PreprocessConfig, progress: bool = True) -> Dataset:
    """Read and process the file that ``config`` names."""
    if config.format == "conll":
        text = Field(tokenize=None, lower=config.lower, batch_first=True, include_lengths=True)
        tags = TagField(scheme=config.tag_scheme, on_invalid="repair" if config.repair_tags else "error",
                        batch_first=True)
        token_col, tag_col = _column_number(config.text_column, "text_column"), _column_number(config.label_column, "label_column")
        width = conll_width(config.data) or 1  # no token lines: read_conll says so, with the fix
        token_col, tag_col = token_col % width, tag_col % width
        columns: list[Any] = [None] * width
        columns[token_col] = ("text", text)
        columns[tag_col] = ("label", tags)
        return SequenceTaggingDataset(config.data, columns, on_error=config.on_error, progress=progress)
    text = Field(tokenize=text_tokenizer(config, progress), lower=config.lower, batch_first=True,
                 include_lengths=True)
    label = LabelField()
    fields = {config.text_column: ("text", text), config.label_column: ("label", label)}
    return TabularDataset(config.data, config.format, fields, skip_header=config.format != "jsonl",
                          on_error=config.on_error, progress=progress)


def _column_number(value: str, key: str) -> int:
    defaults = {"text": 0, "label": -1}  # the TSV defaults mean: tokens first, tags last
    if value in defaults:
        return defaults[value]
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"config key {key!r} must be a column number for conll files, got {value!r}", key=key,
                          value=value) from None


def padding_fraction(dataset: Dataset, batch_size: int) -> tuple[float, int]:
    """Share of padded positions in one epoch of bucketed training batches, and the batch count."""
    iterator = BucketIterator(dataset, batch_size=batch_size, train=True, device="cpu")
    real = total = batches = 0
    for batch in iterator:
        lengths = batch.lengths("text")
        real += int(lengths.sum())
        total += int(lengths.max()) * len(lengths)
        batches += 1
    return (1 - real / total if total else 0.0), batches


def run_streaming(config: PreprocessConfig, progress: bool = True) -> dict[str, Any]:
    """``--stream``: the file chunk by chunk (memory does not grow with its row count)."""
    from tqdm.auto import tqdm

    from nlprnn.data.streaming import stream_preprocess

    start = time.perf_counter()
    text = Field(tokenize=text_tokenizer(config, progress), lower=config.lower, batch_first=True,
                 include_lengths=True)
    label = LabelField()
    fields = {config.text_column: ("text", text), config.label_column: ("label", label)}
    out = Path(config.out)
    with tqdm(desc="rows", unit=" rows", disable=not progress) as bar:
        result = stream_preprocess(config.data, out / "dataset", fields, chunk_rows=config.chunk_rows,
                                   max_size=config.max_size, min_freq=config.min_freq, on_error=config.on_error,
                                   progress=lambda rows: bar.update(rows - bar.n))
    assert text.vocab is not None and label.vocab is not None
    text.vocab.save(out / "text_vocab.json")
    label.vocab.save(out / "label_vocab.json")
    summary: dict[str, Any] = {
        "file": config.data, "rows": result.rows, "tokens": result.tokens,
        "mean_tokens_per_row": round(result.tokens / result.rows, 2) if result.rows else 0.0,
        "text_vocab": len(text.vocab), "labels": label.vocab.itos[len(label.vocab.specials):],
        "skipped": result.skipped, "skipped_rows": [str(p) for p in result.skipped_rows[:50]],
        "repaired_tag_sequences": 0,
        "tokenizer": text.tokenizer.spec() if text.tokenizer is not None else None,
        "tokenized_now": result.tokenized_now if result.reported else None,
        "from_cache": result.from_cache, "time_bound_fallbacks": result.time_bound_fallbacks,
        "runs_shortened": result.runs_shortened,
        "analyzer_failures": result.analyzer_failures, "chunks": result.chunks,
        "seconds_tokenize": round(result.seconds_tokenize, 2),
        "seconds_numericalize": round(result.seconds_numericalize, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1), "ray": ray_summary(text.tokenizer),
        "seconds": round(time.perf_counter() - start, 2), "out": str(out), "config": asdict(config),
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(config: PreprocessConfig, progress: bool = True) -> dict[str, Any]:
    config.validate()
    if config.stream:
        return run_streaming(config, progress)
    return _run_in_memory(config, progress)


def _run_in_memory(config: PreprocessConfig, progress: bool) -> dict[str, Any]:
    start = time.perf_counter()
    dataset = build_dataset(config, progress=progress)
    text, label = dataset.fields["text"], dataset.fields["label"]
    text.build_vocab(dataset, max_size=config.max_size, min_freq=config.min_freq)
    label.build_vocab(dataset)
    pad, batches = padding_fraction(dataset, config.batch_size)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    dataset.save(out / "dataset")
    assert text.vocab is not None and label.vocab is not None
    text.vocab.save(out / "text_vocab.json")
    label.vocab.save(out / "label_vocab.json")
    report = dataset.reports.get("text")
    lengths = dataset.lengths("text")
    summary: dict[str, Any] = {
        "file": config.data,
        "rows": len(dataset),
        "tokens": int(lengths.sum()),
        "mean_tokens_per_row": round(float(lengths.mean()), 2) if len(dataset) else 0.0,
        "text_vocab": len(text.vocab),
        "labels": label.vocab.itos[len(label.vocab.specials):],
        "skipped": len(dataset.skipped),
        "skipped_rows": [str(p) for p in dataset.skipped[:50]],
        "repaired_tag_sequences": getattr(label, "repaired", 0),
        "tokenizer": text.tokenizer.spec() if text.tokenizer is not None else None,
        "tokenized_now": report.computed if report else None,
        "from_cache": report.cached if report else None,
        "time_bound_fallbacks": len(report.timed_out) if report else 0,
        "runs_shortened": len(report.shortened) if report else 0,
        "analyzer_failures": len(report.failed) if report else 0,
        "batch_size": config.batch_size,
        "batches": batches,
        "padding_fraction": round(pad, 4),
        "ray": ray_summary(text.tokenizer),
        "seconds": round(time.perf_counter() - start, 2),
        "out": str(out),
        "config": asdict(config),
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    print(f"file                {summary['file']}")
    print(f"rows                {summary['rows']}  ({summary['skipped']} skipped)")
    for problem in summary["skipped_rows"][:10]:
        print(f"  skipped           {problem}")
    if summary["skipped"] > 10:
        print(f"  ... and {summary['skipped'] - 10} more (see summary.json)")
    if summary["repaired_tag_sequences"]:
        print(f"repaired tag seqs   {summary['repaired_tag_sequences']}")
    print(f"tokens              {summary['tokens']}  ({summary['mean_tokens_per_row']} per row)")
    if summary["tokenized_now"] is not None:
        print(f"tokenizer           {summary['tokenizer']['name']}: {summary['tokenized_now']} texts analyzed, "
              f"{summary['from_cache']} from cache, {summary['runs_shortened']} with long repeated runs shortened, "
              f"{summary['time_bound_fallbacks']} hit the time bound, "
              f"{summary['analyzer_failures']} analyzer errors")
    print(f"text vocab          {summary['text_vocab']}")
    print(f"labels              {', '.join(summary['labels'])}")
    if "padding_fraction" in summary:
        print(f"padding             {summary['padding_fraction']:.2%} of {summary['batches']} bucketed batches of {summary['batch_size']}")
    if summary.get("ray"):
        print(f"ray                 {summary_line(summary['ray'])}")
    if "chunks" in summary:
        print(f"streamed            {summary['chunks']} chunks: tokenize {summary['seconds_tokenize']} s, "
              f"numericalize {summary['seconds_numericalize']} s; peak RSS {summary['peak_rss_mb']} MB")
    print(f"written to          {summary['out']}  ({summary['seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.preprocess", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="TOML file (see pipelines/configs/preprocess.toml)")
    parser.add_argument("--data", help="input file")
    parser.add_argument("--format", choices=["tsv", "csv", "jsonl", "conll"])
    parser.add_argument("--tokenizer", help="kkma, okt, komoran, kiwi, whitespace or char")
    parser.add_argument("--on-error", choices=["raise", "skip"], dest="on_error")
    parser.add_argument("--out", help="output directory")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any config key")
    parser.add_argument("--stream", action="store_true", default=None,
                        help="chunk by chunk, for a TSV larger than memory (config key stream)")
    parser.add_argument("--engine", choices=["local", "ray"],
                        help="who tokenizes: local processes, or a pool of Ray actors (pip install 'nlprnn[ray]')")
    parser.add_argument("--address", help="with --engine ray: a running cluster (auto, or HEAD:6379); "
                        "default: start Ray on this machine")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items()
                                 if k in ("data", "format", "tokenizer", "on_error", "out", "stream", "engine",
                                          "address") and v is not None}
    summaries: list[dict[str, Any]] = []

    def body() -> None:
        overrides.update(parse_sets(args.set))
        config = build_config(PreprocessConfig, args.config, overrides)
        summaries.append(run(config, progress=not args.no_progress))

    code = run_command(body, remedy_words(prefix=""))
    if code == 0:
        print_summary(summaries[0])
    return code


if __name__ == "__main__":
    sys.exit(main())
