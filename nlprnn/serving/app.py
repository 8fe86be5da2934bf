"""The HTTP service of a trained bundle (FastAPI): ``POST /predict``, ``GET /health``, ``GET /info``, the
OpenAPI schema at ``/openapi.json`` with its ``/docs`` page, and ``GET /``, a page a person can use.

Safe under bad input and load: limits on the body's bytes (413), on the texts of a request and the
characters of a text (422, naming the limit), malformed JSON or a body that is not UTF-8 (400), a full
queue (503 with ``Retry-After``); every error is a JSON object ``{"error", ...}``, never a traceback.
"""

# no `from __future__ import annotations`: FastAPI reads the request models' annotations at run time
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from nlprnn.errors import NlprnnError
from nlprnn.predictor import Predictor
from nlprnn.serving.batcher import Batcher, QueueFull

log = logging.getLogger("nlprnn.serving")


@dataclass
class Limits:
    """What one request may hold, and how requests are gathered."""

    max_body_bytes: int = 1_000_000
    max_texts: int = 64
    max_chars: int = 2_000
    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    max_queue: int = 1_024
    batching: bool = True
    retry_after_s: int = 1


class Entity(BaseModel):
    start: int = Field(description="offset of the entity's first character (token, for token input)")
    end: int = Field(description="offset after its last character (token)")
    type: str
    text: str


class ClassifyResult(BaseModel):
    label: str
    probability: float
    scores: dict[str, float] = Field(description="every label's probability")


class NerResult(BaseModel):
    text: str
    entities: list[Entity]


class LMResult(BaseModel):
    text: str
    perplexity: float
    tokens: int


class RegressResult(BaseModel):
    forecast: float


RESULTS: dict[str, type[BaseModel]] = {"classify": ClassifyResult, "ner": NerResult, "lm": LMResult,
                                       "regress": RegressResult}


class Problem(BaseModel):
    """Every error the service answers with."""

    error: str
    limit: str | None = None
    index: int | None = None


def create_app(predictor: Predictor, limits: Limits | None = None) -> FastAPI:
    """The FastAPI app serving ``predictor`` (start it with uvicorn, or ``python -m pipelines.serve``)."""
    limits = limits or Limits()
    predictor.max_chars = min(predictor.max_chars, limits.max_chars)
    batcher = Batcher(predictor, max_batch_size=limits.max_batch_size, max_wait=limits.max_wait_ms / 1000,
                      max_queue=limits.max_queue, gather=limits.batching)
    task = predictor.name
    text = Annotated[str, Field(min_length=1, max_length=limits.max_chars)]
    window = Annotated[list[float], Field(min_length=1, max_length=limits.max_chars)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        if task == "regress":
            texts: Annotated[list[window], Field(min_length=1, max_length=limits.max_texts,  # type: ignore[valid-type]
                                                 description="windows of the series, the latest value last")]
        else:
            texts: Annotated[list[text], Field(min_length=1, max_length=limits.max_texts,  # type: ignore[valid-type, no-redef]
                                               description="raw texts, one result each")]

    class PredictResponse(BaseModel):
        results: list[RESULTS[task]]  # type: ignore[valid-type]

    class GenerateRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        prompt: text  # type: ignore[valid-type]
        max_tokens: int = Field(50, ge=1, le=500)
        temperature: float = Field(0.8, gt=0, le=5)
        seed: int | None = Field(0, ge=0, le=2**31 - 1)

    class GenerateResponse(BaseModel):
        text: str
        continuation: str

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        yield
        await batcher.stop()  # uvicorn has answered the requests in flight by now

    app = FastAPI(title=f"nlprnn {task}", version=str(predictor.info()["nlprnn"]), lifespan=lifespan,
                  description=f"A trained nlprnn {task} model. POST texts to /predict; / is a page to try it.")
    app.state.batcher = batcher
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": Problem, "description": "malformed JSON, or a body that is not UTF-8"},
        413: {"model": Problem, "description": f"a body over {limits.max_body_bytes:,} bytes"},
        422: {"model": Problem, "description": "a request outside the limits, or an input the model cannot use"},
        503: {"model": Problem, "description": "the queue is full: retry after Retry-After seconds"},
    }

    @app.post("/predict", response_model=PredictResponse, responses=errors)
    async def predict(request: PredictRequest) -> dict[str, Any]:
        """One result per text, the texts of concurrent requests computed in one batch."""
        predictor.check(request.texts)  # an unusable input is refused before it waits in the queue
        # the results are the predictor's own dicts: sent as they are, not validated again field by field
        return JSONResponse({"results": await batcher.submit(request.texts)})  # type: ignore[return-value]

    if task == "lm":
        @app.post("/generate", response_model=GenerateResponse, responses=errors)
        async def generate(request: GenerateRequest) -> dict[str, Any]:
            """The language model's continuation of a prompt."""
            out = predictor.generate(request.prompt, max_tokens=request.max_tokens, temperature=request.temperature,
                                     seed=request.seed)
            return {"text": request.prompt, "continuation": out.removeprefix(request.prompt)}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "waiting": batcher.waiting}

    @app.get("/info")
    async def info() -> dict[str, Any]:
        """The task, its labels or entity types, its analyzer, the version and the limits."""
        return {**predictor.info(), "limits": vars(limits), "batches": batcher.batches}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return resources.files("nlprnn.serving").joinpath("page.html").read_text(encoding="utf-8")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return _validation_problem(error, limits)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if error.detail != "There was an error parsing the body" else \
            "the body is not UTF-8 JSON"
        return JSONResponse({"error": str(detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(NlprnnError)
    async def refused(request: Request, error: NlprnnError) -> JSONResponse:
        index = _index_of(str(error))
        return JSONResponse({"error": str(error), "index": index}, status_code=422)

    @app.exception_handler(QueueFull)
    async def full(request: Request, error: QueueFull) -> JSONResponse:
        return JSONResponse({"error": f"busy: {error}; retry later", "limit": "max_queue"}, status_code=503,
                            headers={"Retry-After": str(limits.retry_after_s)})

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> JSONResponse:
        log.exception("prediction failed")  # the traceback goes to the server's log, never to the client
        return JSONResponse({"error": f"the model failed on this request ({type(error).__name__})"}, status_code=500)

    app.add_middleware(BodyGuard, limits=limits)  # type: ignore[arg-type]
    return app


class BodyGuard:
    """ASGI middleware: a body over ``max_body_bytes`` is refused (413) while it arrives, before anything
    parses it; the rest goes on, its body replayed."""

    def __init__(self, app: Any, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limits.max_body_bytes):
            await _too_large(self.limits)(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limits.max_body_bytes:
                await _too_large(self.limits)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the client to go away, as a server would
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _too_large(limits: Limits) -> JSONResponse:
    return JSONResponse({"error": f"the body is over {limits.max_body_bytes:,} bytes", "limit": "max_body_bytes"},
                        status_code=413)


def _validation_problem(error: RequestValidationError, limits: Limits) -> JSONResponse:
    """A pydantic refusal as one JSON error naming the limit it broke, where it broke one."""
    first = error.errors()[0]
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "not JSON")
        return JSONResponse({"error": f"malformed JSON: {reason}", "limit": None, "index": None}, status_code=400)
    where = [str(part) for part in first.get("loc", ()) if part != "body"]
    limit = None
    if first.get("type") in ("too_long", "string_too_long"):
        limit = "max_chars" if len(where) >= 2 and where[0] == "texts" else "max_texts" if where == ["texts"] else None
    message = f"{'.'.join(where) or 'body'}: {first.get('msg', 'invalid')}"
    if limit:
        message += f" (limit {limit}={getattr(limits, limit)})"
    index = int(where[1]) if len(where) >= 2 and where[0] == "texts" and where[1].isdigit() else None
    return JSONResponse({"error": message, "limit": limit, "index": index}, status_code=422)


def _index_of(message: str) -> int | None:
    """The input's index in a predictor's ``texts[3]: ...`` message."""
    if message.startswith("texts[") and "]" in message:
        number = message[len("texts["):message.index("]")]
        return int(number) if number.isdigit() else None
    return None
