"""The nodes' HTTP APIs (FastAPI app factories): every node serves `/health` and `/metrics`;
the worker adds its result API.

- `GET /v1/results/{job_id}`: the output bytes (base64) and their hash, which requesters and
  verifiers check against the commitment on chain. `?format=raw` returns the bytes. A result
  is served only once this worker has committed it.
- `GET /v1/results?ids=1&ids=2`: up to 256 results in one response, and the ids this worker has
  no result for: what a verifier auditing many jobs, or a requester reading a batch, asks for.
- `GET /v1/stream/{job_id}`: a generation's text as it is generated, one JSON object per line
  (`{"text": ...}`, then `{"finish_reason": ...}`), once this worker has taken its batch on
  chain (so that it can no longer be cancelled); the committed output's text after that.
- `GET /health`: liveness, the node's address, models and cursor.
- `GET /metrics`: Prometheus text format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from node.chain.protocol import batch_of, index_of
from node.inference.errors import OutputDecodeError
from node.inference.generation import Generation
from node.metrics import Metrics
from node.server import MAX_RESULTS
from node.server.streams import TokenStreams
from node.store import Store, WorkerBatch
from node.wire import ServedResult, ServedResults

# The largest job id a node stores (SQLite's integer): the chain's ids stay far below it.
MAX_JOB_ID = 2**63 - 1

# The worker's local statuses of batches it has committed (see `node.worker`).
SERVED_STATUSES = frozenset({WorkerBatch.COMMITTED, WorkerBatch.FINALIZED, WorkerBatch.FORFEITED})
STREAM_DEADLINE_S = 300.0  # The longest a stream follows one generation.


@dataclass
class NodeInfo:
    """What the API reports about its node."""

    address: str
    models: list[str]


def create_node_app(store: Store, metrics: Metrics, info: NodeInfo, title: str = "Nightshift verifier") -> FastAPI:
    """A node's `/health` and `/metrics`."""
    app = FastAPI(title=title, version="1")
    app.state.store, app.state.metrics, app.state.info = store, metrics, info
    return _node_routes(app)


def create_app(store: Store, metrics: Metrics, info: NodeInfo, streams: TokenStreams | None = None) -> FastAPI:
    """The worker's API: `/health`, `/metrics`, its results and its generations' streams."""
    app = create_node_app(store, metrics, info, "Nightshift worker")
    app.state.streams = streams or TokenStreams()
    return _result_routes(app)


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _info(request: Request) -> NodeInfo:
    return request.app.state.info  # type: ignore[no-any-return]


def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


def _streams(request: Request) -> TokenStreams:
    return request.app.state.streams  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(_store)]
StreamsDep = Annotated[TokenStreams, Depends(_streams)]
InfoDep = Annotated[NodeInfo, Depends(_info)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]


def _result(job_id: int, data: bytes, digest: bytes) -> ServedResult:
    return ServedResult(
        job_id=job_id, batch_id=batch_of(job_id), index=index_of(job_id), output_hash="0x" + digest.hex(), output=data
    )


def _committed(store: Store, job_id: int) -> bool:
    """Outputs are served only once this worker's commit of them is on chain: before that, a
    requester could read them and cancel its batch, and another worker commit them as its own."""
    batch = store.batch(batch_of(job_id))
    return batch is not None and batch[1] in SERVED_STATUSES


def _result_routes(app: FastAPI) -> FastAPI:
    @app.get("/v1/results")
    def get_results(
        ids: Annotated[
            list[Annotated[int, Field(ge=0, le=MAX_JOB_ID)]],
            Query(min_length=1, max_length=MAX_RESULTS, description="job ids (batchId << 16 | index)"),
        ],
        store: StoreDep,
    ) -> ServedResults:
        found = {j: o for j, o in store.outputs(ids).items() if _committed(store, j)}
        return ServedResults(
            results=[_result(job, *found[job]) for job in ids if job in found],
            missing=[job for job in ids if job not in found],
        )

    @app.get("/v1/results/{job_id}", response_model=None)
    def get_result(
        job_id: Annotated[int, Path(ge=0, le=MAX_JOB_ID, description="batchId << 16 | index")],
        store: StoreDep,
        format: Annotated[str, Query(pattern="^(json|raw)$")] = "json",
    ) -> Response | ServedResult:
        found = store.output(job_id) if _committed(store, job_id) else None
        if found is None:
            raise HTTPException(status_code=404, detail=f"no result for job {job_id} on this worker")
        data, digest = found
        if format == "raw":
            return Response(data, media_type="application/octet-stream", headers={"X-Output-Hash": "0x" + digest.hex()})
        return _result(job_id, data, digest)

    @app.get("/v1/stream/{job_id}", response_model=None)
    def stream(
        job_id: Annotated[int, Path(ge=0, le=MAX_JOB_ID, description="batchId << 16 | index")],
        store: StoreDep,
        streams: StreamsDep,
    ) -> StreamingResponse:
        batch = store.batch(batch_of(job_id))
        taken = batch is not None and (batch[1] == WorkerBatch.TAKEN or batch[1] in SERVED_STATUSES)
        if not taken or batch is None or index_of(job_id) >= batch[2]["size"]:
            raise HTTPException(status_code=404, detail=f"job {job_id} is not taken on by this worker")
        stored = store.output(job_id) if batch[1] in SERVED_STATUSES else None

        def lines() -> Iterator[bytes]:
            if stored is not None:
                try:
                    done = Generation.decode(stored[0])
                except OutputDecodeError:
                    return  # Not a generation: nothing to stream.
                yield _line({"text": done.text}) + _line({"finish_reason": done.finish.label})
                return
            for text, finish in streams.follow(job_id, STREAM_DEADLINE_S):
                yield _line({"text": text} if finish is None else {"finish_reason": finish})

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return app


def _line(obj: dict[str, str]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def _node_routes(app: FastAPI) -> FastAPI:
    @app.get("/health")
    def health(store: StoreDep, info: InfoDep) -> dict[str, object]:
        return {"status": "ok", "address": info.address, "models": info.models, "cursor": store.cursor()}

    @app.get("/metrics")
    def metrics(m: MetricsDep) -> Response:
        return Response(m.render(), media_type="text/plain; version=0.0.4")

    # Starlette's own (an unknown path, a wrong method) as well as the routes': one error shape.
    @app.exception_handler(StarletteHTTPException)
    def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return JSONResponse({"error": f"{where}: {first['msg']}"}, status_code=422)

    return app
