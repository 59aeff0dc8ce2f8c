"""Running an action under an Idempotency-Key: claim, validate, charge, handle, store.

The order is the contract (docs/actions.md):

1. claim the key in Postgres (a stored answer this process has seen is answered
   from its in-memory copy) — a stored answer is replayed, a running one is 409,
   another body is 422 ``IDEMPOTENCY_KEY_REUSED``; none of these is charged;
2. validate the body — a 422 ``VALIDATION_FAILED`` is stored and replayed;
3. charge the rate limits and quotas — a 429 releases the key (nothing ran);
4. run the handler — success and definitive rejections are stored; retriable
   failures release the key so the client's retry runs again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hub.actions.executions import execution_row
from hub.actions.handlers import ActionCall, ActionFailed, ActionRejected
from hub.actions.idempotency import effective_key, fingerprint
from hub.actions.metrics import ACTIONS, CONFLICTS, LATENCY, REPLAYS, child
from hub.actions.records import Answer, Claim, InProgress, Owned, Replay, Reused
from hub.actions.spec import ActionSpec
from hub.actions.state import ActionsState
from hub.runtime import Runtime
from hub.tenancy.auth import IntegrationPrincipal
from hub.web.decoding import collect_errors
from hub.web.errors import PROBLEM_CONTENT_TYPE, FieldError, ProblemError
from hub.web.input_rules import timestamp_errors
from hub.web.json_numbers import integral_floats_to_ints

log = logging.getLogger("hub.actions")

JSON = "application/json"
REPLAYED_HEADER = "Idempotent-Replayed"


class ActionResult(msgspec.Struct):
    execution_id: str
    action: str
    status: str
    outputs: Any


@dataclass(frozen=True, slots=True)
class ActionResponse:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


_result_encoder = msgspec.json.Encoder()


def _problem_answer(problem: ProblemError, correlation_id: str) -> Answer:
    return Answer(problem.status, PROBLEM_CONTENT_TYPE, problem.body(correlation_id))


async def run_action(
    rt: Runtime,
    state: ActionsState,
    principal: IntegrationPrincipal,
    spec: ActionSpec,
    key: str,
    body: Any,
    correlation_id: str,
) -> ActionResponse:
    """``body`` is the decoded JSON (any shape): it is fingerprinted before validation."""
    digest = fingerprint(spec.name, body)
    key = effective_key(key, digest)
    now = rt.clock.now()
    claim: Claim
    cached = state.answers.get(principal.integration_id, key, now)
    if cached is not None:
        claim = cached[1] if cached[0] == digest else Reused()
    else:
        claim = await state.store.claim(
            tenant_id=principal.tenant_id,
            integration_id=principal.integration_id,
            key=key,
            action=spec.name,
            fingerprint=digest,
            now=now,
        )
        if isinstance(claim, Replay):
            state.answers.put(principal.integration_id, key, digest, claim)
    if isinstance(claim, Replay):
        child(REPLAYS, spec.name).inc()
        child(ACTIONS, spec.name, "replayed").inc()
        if claim.execution_id is not None:
            state.replays.add(claim.execution_id)
        return ActionResponse(claim.status, claim.media_type, claim.body, {REPLAYED_HEADER: "true"})
    if isinstance(claim, InProgress):
        child(CONFLICTS, spec.name, "in_progress").inc()
        child(ACTIONS, spec.name, "in_progress").inc()
        raise ProblemError(
            "IDEMPOTENCY_IN_PROGRESS",
            "a request with this Idempotency-Key is still running; retry shortly",
            headers={"Retry-After": str(claim.retry_after)},
        )
    if isinstance(claim, Reused):
        child(CONFLICTS, spec.name, "key_reused").inc()
        child(ACTIONS, spec.name, "key_reused").inc()
        raise ProblemError(
            "IDEMPOTENCY_KEY_REUSED",
            "this Idempotency-Key was used with another action or body; "
            "use a new key for a new request",
        )
    return await _execute(rt, state, principal, spec, key, digest, body, correlation_id, claim)


async def _execute(
    rt: Runtime,
    state: ActionsState,
    principal: IntegrationPrincipal,
    spec: ActionSpec,
    key: str,
    digest: str,
    body: Any,
    correlation_id: str,
    owned: Owned,
) -> ActionResponse:

    async def store(answer: Answer, execution: dict[str, Any] | None) -> None:
        if await state.store.complete(owned, answer, execution):
            replay = Replay(
                answer.status,
                answer.media_type,
                answer.body,
                owned.execution_id if execution is not None else None,
                owned.expires_at,
            )
            state.answers.put(principal.integration_id, key, digest, replay)

    try:
        inputs = _inputs(body, spec.input_type)
        errors = timestamp_errors(inputs, spec.input_type)
    except msgspec.ValidationError:
        body = integral_floats_to_ints(body, spec.input_type)
        errors = collect_errors(body, spec.input_type) or [
            FieldError(path="$", message="invalid body")
        ]
    if errors:
        problem = ProblemError(
            "VALIDATION_FAILED", "the body does not match the action's input schema", errors=errors
        )
        answer = _problem_answer(problem, correlation_id)
        await store(answer, None)
        child(ACTIONS, spec.name, "invalid").inc()
        return ActionResponse(answer.status, answer.media_type, answer.body)

    try:
        limit_headers = await state.limiter.charge(principal)
    except ProblemError:
        await state.store.release(owned, None)
        child(ACTIONS, spec.name, "throttled").inc()
        raise

    handler_name = spec.handler_for(principal.sandbox)
    started_at = rt.clock.now()
    started = time.perf_counter()
    call = ActionCall(
        action=spec,
        inputs=inputs,
        tenant_id=principal.tenant_id,
        integration_id=principal.integration_id,
        execution_id=owned.execution_id,
        idempotency_key=key,
        idempotency_id=owned.record_id,
        correlation_id=correlation_id,
        sandbox=principal.sandbox,
        started_at=started_at,
    )

    def execution(status: str, http_status: int, error_code: str | None) -> dict[str, Any]:
        return execution_row(
            execution_id=owned.execution_id,
            tenant_id=principal.tenant_id,
            integration_id=principal.integration_id,
            action=spec.name,
            sandbox=principal.sandbox,
            handler=handler_name,
            status=status,
            error_code=error_code,
            http_status=http_status,
            idempotency_key=key,
            attempt=owned.attempt,
            correlation_id=correlation_id,
            started_at=started_at,
            duration_ms=int((time.perf_counter() - started) * 1000),
        )

    try:
        handler_name, handler = await state.route(handler_name, principal.tenant_id, spec.name)
        outputs = _outputs(spec, await handler(rt, call))
    except ActionRejected as rejected:
        problem = ProblemError(
            "VALIDATION_FAILED", rejected.detail, errors=rejected.errors, extra=rejected.extra
        )
        answer = _problem_answer(problem, correlation_id)
        await store(answer, execution("rejected", 422, problem.code))
        _observe(spec, handler_name, "rejected", started)
        return ActionResponse(answer.status, answer.media_type, answer.body, limit_headers)
    except ActionFailed as failed:
        problem = ProblemError(
            failed.code,
            failed.detail,
            errors=failed.errors,
            headers=(
                {"Retry-After": str(failed.retry_after)} if failed.retry_after is not None else {}
            ),
        )
        await state.store.release(owned, execution("failed", problem.status, problem.code))
        _observe(spec, handler_name, "failed", started)
        raise problem from None
    except ProblemError as problem:
        # A hub service the handler used said no (e.g. event ingest): a 4xx is as
        # definitive as a rejection, anything else may pass on a retry.
        if 400 <= problem.status < 500:
            answer = _problem_answer(problem, correlation_id)
            await store(answer, execution("rejected", problem.status, problem.code))
            _observe(spec, handler_name, "rejected", started)
            return ActionResponse(answer.status, answer.media_type, answer.body, limit_headers)
        await state.store.release(owned, execution("failed", problem.status, problem.code))
        _observe(spec, handler_name, "failed", started)
        raise
    except Exception:
        log.exception("action handler crashed", extra={"action": spec.name})
        await state.store.release(owned, execution("failed", 500, "INTERNAL"))
        _observe(spec, handler_name, "failed", started)
        raise ProblemError("INTERNAL", "the action failed unexpectedly; retry later") from None

    answer = Answer(
        200,
        JSON,
        _result_encoder.encode(
            ActionResult(
                execution_id=owned.execution_id,
                action=spec.name,
                status="succeeded",
                outputs=outputs,
            )
        ),
    )
    await store(answer, execution("succeeded", 200, None))
    _observe(spec, handler_name, "succeeded", started)
    return ActionResponse(answer.status, answer.media_type, answer.body, limit_headers)


def _inputs(body: Any, input_type: Any) -> Any:
    try:
        return msgspec.convert(body, input_type)
    except msgspec.ValidationError:
        # JSON Schema's integers include 1.0 (the document says "integer").
        return msgspec.convert(integral_floats_to_ints(body, input_type), input_type)


def _outputs(spec: ActionSpec, outputs: Any) -> Any:
    if isinstance(outputs, spec.output_type):
        return outputs
    try:
        return msgspec.convert(outputs, spec.output_type)
    except msgspec.ValidationError as exc:
        raise ActionFailed(
            "UPSTREAM_ERROR", f"the handler's outputs do not match the action's schema: {exc}"
        ) from None


def _observe(spec: ActionSpec, handler: str, outcome: str, started: float) -> None:
    child(ACTIONS, spec.name, outcome).inc()
    child(LATENCY, spec.name, handler).observe(time.perf_counter() - started)
