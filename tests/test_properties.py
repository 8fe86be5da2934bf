"""Property-based tests (hypothesis) on arbitrary Unicode: what the TSV and CoNLL readers read is what
was written, and numericalize -> pad -> unpad gives every row back."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nlprnn import BucketIterator, Field, TabularDataset
from nlprnn.data.readers import iter_tsv_chunks, read_conll, read_tsv

# any character but the ones that end a cell or a line (and lone surrogates, which UTF-8 cannot hold)
CELL_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r")
cells = st.text(CELL_CHARS, max_size=8)
TOKEN_CHARS = st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"))
tokens = st.text(TOKEN_CHARS, min_size=1, max_size=5)


def write(content: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    handle.write(content)
    handle.close()
    return Path(handle.name)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=12), st.booleans(), st.booleans())
def test_tsv_cells_come_back_exactly(rows, bom, crlf):
    # a row with only spaces in every cell is still a row; only a line with no cells at all is blank
    newline = "\r\n" if crlf else "\n"
    text = "a\tb" + newline + "".join(f"{a}\t{b}{newline}" for a, b in rows)
    path = write((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"), ".tsv")
    read = read_tsv(path, on_error="skip")
    assert list(zip(read.table.column("a").to_pylist(), read.table.column("b").to_pylist())) == rows
    assert read.lines.tolist() == list(range(2, len(rows) + 2)) and not read.skipped
    streamed = [c for c in iter_tsv_chunks(path, chunk_rows=5)]
    assert sum((c.table.column("a").to_pylist() for c in streamed), []) == [a for a, _ in rows]
    path.unlink()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(tokens, st.sampled_from(["O", "B-PER", "I-PER", "B-LOC"])), min_size=1,
                         max_size=6), min_size=1, max_size=6))
def test_conll_tokens_and_tags_come_back_exactly(sentences):
    text = "\n\n".join("\n".join(f"{token}\tX\t{tag}" for token, tag in sentence) for sentence in sentences) + "\n"
    path = write(text.encode("utf-8"), ".conll")
    read = read_conll(path, columns=["token", "pos", "tag"])
    assert read.table.column("token").to_pylist() == [[t for t, _ in s] for s in sentences]
    assert read.table.column("tag").to_pylist() == [[g for _, g in s] for s in sentences]
    path.unlink()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(tokens, min_size=1, max_size=7), min_size=1, max_size=20), st.integers(1, 5),
       st.booleans())
def test_numericalize_pad_unpad_round_trip(rows, batch_size, batch_first):
    lines = "".join(" ".join(row) + "\t0\n" for row in rows)
    path = write(("text\tlabel\n" + lines).encode("utf-8"), ".tsv")
    text = Field(tokenize="whitespace", include_lengths=True, batch_first=batch_first)
    dataset = TabularDataset(path, "tsv", {"text": ("text", text)}, skip_header=True)
    text.build_vocab(dataset)
    seen: dict[int, list[str]] = {}
    for batch in BucketIterator(dataset, batch_size=batch_size, device="cpu", seed=1):
        padded, lengths = batch.text
        padded = padded if batch_first else padded.t()
        for position, row in enumerate(batch.rows.tolist()):
            ids = padded[position, : int(lengths[position])].tolist()
            seen[row] = [text.vocab.itos[i] for i in ids]
            assert all(i == text.vocab.index("<pad>") for i in padded[position, int(lengths[position]):].tolist())
    assert [seen[i] for i in range(len(rows))] == rows  # every row once, every token back
    path.unlink()
