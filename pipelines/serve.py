"""``python -m pipelines.serve --bundle RUN/bundle``: a trained model as an HTTP service, with a page.

    python -m pipelines.serve --bundle runs/ner/bundle              # http://127.0.0.1:8000/ (the page), /docs
    curl -s localhost:8000/predict -H 'Content-Type: application/json' -d '{"texts": ["장민재와 박지훈은 어제 만났다."]}'

Concurrent requests are gathered into batches (--max-batch-size inputs, waiting at most --max-wait-ms);
Ctrl-C or SIGTERM lets the requests in flight finish. Needs ``pip install 'nlprnn[serve]'``.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli import run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True, help="a trained bundle (RUN/bundle) of any task")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--device", help="cpu, cuda, cuda:1 (default: CUDA when visible)")
    parser.add_argument("--max-batch-size", type=int, default=64, help="inputs per model call")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="how long a batch waits for more requests")
    parser.add_argument("--max-queue", type=int, default=1024, help="inputs waiting before requests get 503")
    parser.add_argument("--max-texts", type=int, default=64, help="inputs per request")
    parser.add_argument("--max-chars", type=int, default=2000, help="characters per text")
    parser.add_argument("--max-body-bytes", type=int, default=1_000_000)
    parser.add_argument("--no-batching", action="store_true", help="run each request alone (for comparison)")
    parser.add_argument("--threads", type=int, help="torch's CPU threads for the model (default: one core fewer "
                        "than this machine has, at least 1, leaving one to take requests)")
    args = parser.parse_args(argv)

    def body() -> None:
        try:
            import uvicorn

            from nlprnn.serving.app import Limits, create_app
        except ImportError as error:
            from nlprnn.errors import TokenizerUnavailableError

            raise TokenizerUnavailableError(f"serving needs FastAPI and uvicorn ({error.name} is missing): "
                                            "pip install 'nlprnn[serve]'") from None
        import torch

        from nlprnn.parallel import cpu_count
        from nlprnn.predictor import load

        # the event loop parses requests while the model runs: on a core of its own, not fighting torch's threads
        torch.set_num_threads(args.threads if args.threads else max(1, cpu_count() - 1))
        limits = Limits(max_body_bytes=args.max_body_bytes, max_texts=args.max_texts, max_chars=args.max_chars,
                        max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms, max_queue=args.max_queue,
                        batching=not args.no_batching)
        app = create_app(load(args.bundle, device=args.device), limits)
        print(f"serving {args.bundle} on http://{args.host}:{args.port}/ (API docs: /docs)", file=sys.stderr)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=30)

    return run_command(body)


if __name__ == "__main__":
    sys.exit(main())
