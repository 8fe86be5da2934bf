"""A trained bundle in memory and over HTTP: the same numbers as the predict command, one clear error per
bad input or request, concurrent requests gathered into batches, and an API that a fuzzer driven by its
own OpenAPI schema cannot make answer 500."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import nlprnn
from nlprnn import DataError
from nlprnn.tasks import runner
from pipelines.cli import task_command

fastapi = pytest.importorskip("fastapi", reason="serving needs pip install 'nlprnn[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from nlprnn.serving.app import Limits, create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ["장민재와 박지훈은 어제 만났다.", "김민수는 올해 경기 안양시에서 일했다."]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small trained bundle of each task."""
    out = tmp_path_factory.mktemp("bundles")
    commands = {
        "classify": ["train", "--tokenizer", "whitespace", "--epochs", "2"],
        "ner": ["train", "--data", str(ROOT / "data/ner_raw/train.txt"), "--valid", str(ROOT / "data/ner_raw/dev.txt"),
                "--set", "data.units=characters", "--epochs", "2", "--set", "model.hidden_size=32"],
        "lm": ["train", "--dry-run"],
        "regress": ["train", "--dry-run"],
    }
    for task, argv in commands.items():
        assert task_command(task)(argv + ["--out", str(out / task), "--no-progress"]) == 0
    return {task: out / task / "bundle" for task in commands}


def test_classify_in_memory_gives_the_predict_commands_numbers(bundles, tmp_path):
    predictor = nlprnn.load(bundles["classify"])
    written = tmp_path / "predictions.tsv"
    runner.predict(bundles["classify"], str(ROOT / "data/sentiment/test.tsv"), str(written), progress=False)
    rows = [line.split("\t") for line in written.read_text(encoding="utf-8").splitlines()[1:]]
    results = predictor([text for _, text, _, _ in rows])
    assert [r["label"] for r in results] == [label for *_, label, _ in rows]
    assert [f"{r['probability']:.4f}" for r in results] == [p for *_, p in rows]
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-5 for r in results)


def test_ner_in_memory_gives_the_predict_commands_entities(bundles, tmp_path):
    predictor = nlprnn.load(bundles["ner"])
    (tmp_path / "s.txt").write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    written = tmp_path / "entities.jsonl"
    runner.predict(bundles["ner"], str(tmp_path / "s.txt"), str(written), progress=False, data={"format": "text"})
    assert predictor(SENTENCES) == [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert set(predictor.info()["entity_types"]) == {"DT", "LC", "OG", "PS", "TI"}


def test_ner_takes_token_lists_too(bundles):
    (result,) = nlprnn.load(bundles["ner"])([["장민재", "와", "박지훈", "은"]])
    assert result["tokens"] == ["장민재", "와", "박지훈", "은"]
    assert all(0 <= e["start"] < e["end"] <= 4 for e in result["entities"])


def test_lm_scores_and_continues_text_and_regress_forecasts(bundles):
    lm = nlprnn.load(bundles["lm"])
    (scored,) = lm(["대한민국은 민주공화국이다."])
    assert scored["perplexity"] > 1 and scored["tokens"] == 14  # 14 characters and the line end, each predicted from the ones before
    assert lm.generate("대한민국", max_tokens=5, seed=0).startswith("대한민국")
    (forecast,) = nlprnn.load(bundles["regress"])([[float(i) for i in range(40)]])
    assert isinstance(forecast["forecast"], float)


@pytest.mark.parametrize(("bad", "message"), [
    ([""], r"texts\[0\]: is empty"), (["좋다", 3], r"texts\[1\]: is a int"), ("좋다", "expected a list"),
    (["가" * 20_000], r"texts\[0\]: has 20,000 characters"),
])
def test_an_input_that_cannot_be_used_is_named_by_its_index(bundles, bad, message):
    with pytest.raises(DataError, match=message):
        nlprnn.load(bundles["classify"])(bad)


@pytest.fixture(scope="module")
def client(bundles):
    app = create_app(nlprnn.load(bundles["ner"]), Limits(max_texts=4, max_chars=60, max_body_bytes=4_000))
    with TestClient(app) as client:
        yield client


def test_the_api_answers_entities_health_info_and_its_schema(client):
    answer = client.post("/predict", json={"texts": SENTENCES})
    assert answer.status_code == 200 and [r["text"] for r in answer.json()["results"]] == SENTENCES
    assert client.get("/health").json()["status"] == "ok"
    info = client.get("/info").json()
    assert info["task"] == "ner" and info["analyzer"] == "kiwi" and info["limits"]["max_texts"] == 4
    schema = client.get("/openapi.json").json()
    texts = schema["components"]["schemas"]["PredictRequest"]["properties"]["texts"]
    assert texts["maxItems"] == 4 and texts["items"]["maxLength"] == 60
    assert client.get("/docs").status_code == 200 and "<textarea" in client.get("/").text


@pytest.mark.parametrize(("body", "status", "limit"), [
    (b'{"texts": ["a", "b", "c", "d", "e"]}', 422, "max_texts"),
    (b'{"texts": ["' + "가".encode() * 61 + b'"]}', 422, "max_chars"),
    (b"x" * 5_000, 413, "max_body_bytes"),
    (b'{"texts": [', 400, None),
    (b'{"texts": ["\xff\xfe"]}', 400, None),
    (b'{"texts": ["   "]}', 422, None),
    (b'{"texts": []}', 422, None),
    (b'{"other": 1}', 422, None),
])
def test_a_bad_request_is_one_json_error_naming_the_limit(client, body, status, limit):
    answer = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    problem = answer.json()
    assert problem["error"] and problem.get("limit") == limit and "Traceback" not in answer.text


def test_concurrent_requests_are_gathered_into_batches(bundles):
    predictor = nlprnn.load(bundles["classify"])
    app = create_app(predictor, Limits(max_batch_size=32, max_wait_ms=50))

    async def many() -> list[dict]:
        import httpx

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                answers = await asyncio.gather(*(http.post("/predict", json={"texts": [f"좋은 영화 {i}"]})
                                                 for i in range(32)))
        return [a.json()["results"][0] for a in answers]

    results = asyncio.run(many())
    assert len(results) == 32 and app.state.batcher.batches < 8  # 32 requests, a few model calls
    assert results == predictor([f"좋은 영화 {i}" for i in range(32)])


def test_a_full_queue_answers_503_with_retry_after(bundles):
    app = create_app(nlprnn.load(bundles["classify"]), Limits(max_queue=2, max_texts=4))
    with TestClient(app) as client:
        answer = client.post("/predict", json={"texts": ["좋다", "싫다", "보통"]})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json()["limit"] == "max_queue"


def test_the_api_fuzzed_from_its_own_schema_never_answers_500(bundles):
    """Requests inside the schema (positive) and outside it (negative), for every operation."""
    import hypothesis
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode

    app = create_app(nlprnn.load(bundles["classify"]), Limits(max_texts=8, max_chars=200))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # a GET without parameters has nothing to get wrong: negative requests only where there is a body
        for mode in GenerationMode if operation.method.upper() == "POST" else [GenerationMode.POSITIVE]:
            @hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=list(hypothesis.HealthCheck),
                                 database=None)
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                response = case.call()
                statuses.append(response.status_code)
                case.validate_response(response, checks=[not_a_server_error])

            fuzz()
    assert len(statuses) >= 200 and max(statuses) < 500
    assert {200, 422} <= set(statuses)  # it reached the model, and it was refused with a reason
    print(f"fuzzed {len(statuses)} requests: " + ", ".join(f"{s}: {statuses.count(s)}" for s in sorted(set(statuses))))


def test_a_burst_of_requests_is_one_batch_that_starts_once_no_more_come():
    from nlprnn.serving.batcher import Batcher

    calls: list[list[str]] = []

    def predict(items: list[str]) -> list[str]:
        calls.append(list(items))
        return [item.upper() for item in items]

    async def scenario() -> tuple[list[list[str]], float]:
        batcher = Batcher(predict, max_batch_size=64, max_wait=5.0, idle_gap=0.05)
        await batcher.start()
        loop = asyncio.get_running_loop()
        began = loop.time()
        burst = await asyncio.gather(*(batcher.submit([text]) for text in ("a", "b", "c")))
        waited = loop.time() - began
        later = await batcher.submit(["d"])
        await batcher.stop()
        return [*burst, later], waited

    results, waited = asyncio.run(scenario())
    assert results == [["A"], ["B"], ["C"], ["D"]]
    assert calls == [["a", "b", "c"], ["d"]]  # the burst together, the late one alone
    assert waited < 2.0  # started after the 0.05 s gap, not at the 5 s max_wait
