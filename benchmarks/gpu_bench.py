"""The GPU figures in one run: encoders on ragged batches, the KMOU-sized tagger, classifier inference.

    PYTHONPATH=. python benchmarks/gpu_bench.py [--device cuda] [--iterations 20] [--small] [--skip-compile]

Needs torch (with CUDA for the figures that matter) and nlprnn's models only: every input is generated,
so it runs where `datasets`, `seqeval`, KoNLPy and Java are not installed (carry the repository and run it
from its root, with the root on `PYTHONPATH` where nlprnn is not installed). `--device cpu --small` is a smoke test of the script itself (CI runs it), not a figure.
Finishes in well under 5 minutes on one GPU. Printed as a table, naming the device:

1. encoders, forward + backward real (unpadded) tokens/s, batch 64, embedding 128, hidden 256, 2 layers,
   bidirectional, lengths drawn from 5..60: cuDNN ``nn.LSTM`` straight on the padded batch (fast, inexact
   for the backward direction of short rows: the baseline), packed, padded per distinct length, two fused
   calls per layer (``execution="two_call"``, the CUDA default), GRU two-call, the layer-norm LSTM eager,
   as Triton kernels (the CUDA default; and the layer-norm GRU) where triton is installed, and under
   ``torch.compile`` (compile time apart);
2. the KMOU tagger's training step (word BiLSTM 200 + character BiLSTM 50 + CRF, batch 32, Adam):
   tokens/s;
3. classifier inference (``SequenceClassifier`` as ``classify predict`` runs it, batches of 256 rows):
   rows/s of the model, without tokenizing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import torch

from nlprnn.models import RNNEncoder, SequenceClassifier, SequenceTagger
from nlprnn.models.layer_norm_rnn import triton_usable


def timed(step: Callable[[], object], iterations: int, device: torch.device) -> float:
    """Seconds per call of ``step`` after two warm-up calls (allocations, cuDNN plans, compiling)."""
    for _ in range(2):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iterations


def ragged(batch: int, low: int, high: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(low, high + 1, (batch,), generator=generator)


def encoder_rows(device: torch.device, iterations: int, size: dict[str, int],
                 compile: bool = True) -> list[tuple[str, float, str]]:
    g = torch.Generator().manual_seed(0)
    lengths = ragged(size["batch"], 5, size["max_len"], g)
    x = torch.randn(size["batch"], int(lengths.max()), size["emb"], generator=g).to(device).requires_grad_(True)
    real = int(lengths.sum())
    common = dict(num_layers=2, bidirectional=True)

    def encoder(**options: object) -> RNNEncoder:
        return RNNEncoder(size["emb"], size["hidden"], **common, **options).to(device)  # type: ignore[arg-type]

    def run(model: RNNEncoder, inexact: bool = False) -> Callable[[], object]:
        def step() -> None:
            out = model.rnn(x)[0] if inexact else model(x, lengths)[0]
            out.sum().backward()
        return step

    rows: list[tuple[str, float, str]] = []
    configs: list[tuple[str, RNNEncoder, bool]] = [
        ("cuDNN nn.LSTM on the padded batch (inexact; baseline)", encoder(), True),
        ("nn.LSTM packed", encoder(execution="packed"), False),
        ("nn.LSTM padded, one call per distinct length (exact)", encoder(execution="padded"), False),
        ("nn.LSTM two fused calls per layer (exact; CUDA default)", encoder(execution="two_call"), False),
        ("nn.GRU two fused calls per layer (exact)", encoder(cell="gru", execution="two_call"), False),
        ("layer-norm LSTM, eager", encoder(layer_norm=True, compile=False, triton=False), False),
    ]
    if triton_usable(device):  # the CUDA default where triton is installed
        configs += [("layer-norm LSTM, Triton kernels (CUDA default)", encoder(layer_norm=True, triton=True), False),
                    ("layer-norm GRU, Triton kernels", encoder(cell="gru", layer_norm=True, triton=True), False)]
    for name, model, inexact in configs:
        rows.append((name, real / timed(run(model, inexact), iterations, device), ""))
    if not compile:
        return rows
    compiled = encoder(layer_norm=True, compile=True, triton=False)
    start = time.perf_counter()
    run(compiled)()
    if device.type == "cuda":
        torch.cuda.synchronize()
    compile_s = time.perf_counter() - start
    rows.append(("layer-norm LSTM, torch.compile", real / timed(run(compiled), iterations, device),
                 f"compile {compile_s:.1f} s"))
    return rows


def tagger_rate(device: torch.device, iterations: int, size: dict[str, int]) -> float:
    """Training tokens/s of the KMOU reproduction's tagger on generated sentences of KMOU's sizes."""
    g = torch.Generator().manual_seed(1)
    batch, words = size["tag_batch"], size["max_len"]
    lengths = ragged(batch, 3, words, g)
    steps = int(lengths.max())
    tokens = torch.randint(2, size["vocab"], (batch, steps), generator=g)
    chars = torch.randint(2, 2000, (batch, steps, 8), generator=g)
    char_lengths = torch.randint(1, 9, (batch, steps), generator=g)
    chars = chars * (torch.arange(8)[None, None, :] < char_lengths[..., None])
    tags = torch.randint(0, 9, (batch, steps), generator=g)
    model = SequenceTagger(size["vocab"], 9, embedding_dim=100, hidden_size=200, crf=True, padding_idx=0,
                           char_vocab_size=2000, char_dim=32, char_hidden=50, input_dropout=0.5, layer_dropout=0.5,
                           output_dropout=0.5, bidirectional=True).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    tokens, chars, char_lengths, tags = (t.to(device) for t in (tokens, chars, char_lengths, tags))

    def step() -> None:
        optimizer.zero_grad()
        loss = model.loss(model(tokens, lengths, chars, char_lengths), tags, lengths)
        loss.backward()
        optimizer.step()

    return int(lengths.sum()) / timed(step, iterations, device)


@torch.no_grad()
def classify_rate(device: torch.device, iterations: int, size: dict[str, int]) -> float:
    g = torch.Generator().manual_seed(2)
    lengths = ragged(size["predict_batch"], 5, size["max_len"], g)
    tokens = torch.randint(2, size["vocab"], (len(lengths), int(lengths.max())), generator=g).to(device)
    model = SequenceClassifier(size["vocab"], 2, embedding_dim=128, hidden_size=128, num_layers=2,
                               bidirectional=True, padding_idx=0).to(device).eval()
    return len(lengths) / timed(lambda: model(tokens, lengths).argmax(-1), iterations, device)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--small", action="store_true", help="tiny sizes: a smoke test of the script, not a figure")
    parser.add_argument("--skip-compile", action="store_true", help="leave out the torch.compile row (its compiling "
                        "takes half a minute on a CPU)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: torch sees no CUDA device here; run on a GPU machine, or pass --device cpu --small to "
              "check the script", file=sys.stderr)
        return 2
    size = dict(batch=64, emb=128, hidden=256, max_len=60, tag_batch=32, vocab=20000, predict_batch=256)
    if args.small:
        size = dict(batch=4, emb=8, hidden=8, max_len=6, tag_batch=4, vocab=50, predict_batch=8)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; torch {torch.__version__}; {'small sizes (smoke test)' if args.small else 'full sizes'}\n")
    print("| part | what | rate | vs baseline | note |")
    print("|---|---|---|---|---|")
    rows = encoder_rows(device, args.iterations, size, compile=not args.skip_compile)
    baseline = rows[0][1]
    for what, rate, note in rows:
        print(f"| encoder (fwd+bwd) | {what} | {rate:,.0f} real tokens/s | {rate / baseline:.2f}x | {note} |", flush=True)
    print(f"| KMOU tagger (train step) | BiLSTM-CRF + character BiLSTM | "
          f"{tagger_rate(device, args.iterations, size):,.0f} tokens/s | | |", flush=True)
    print(f"| classify predict (model) | SequenceClassifier, batches of {size['predict_batch']} | "
          f"{classify_rate(device, args.iterations, size):,.0f} rows/s | | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
