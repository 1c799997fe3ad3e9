"""Route moto's Lambda `Invoke` to our Python handlers, in-process.

moto has no public hook for running Lambda code without Docker: with
`config={"lambda": {"use_docker": False}}` every invoke lands in
`moto.awslambda_simple.models.LambdaSimpleBackend.invoke`, which echoes the request body. This
module replaces that one method (and nothing else) while a `LambdaBridge` is installed, so
`boto3.client("lambda").invoke(...)`, the Step Functions interpreter's `lambda:invoke` tasks and
`aws lambda invoke` against the threaded server all run the handler registered for the function.

The patched method keeps moto's own function lookup (`get_function`), so an unknown function is
still a ResourceNotFoundException, and reports a handler exception the way Lambda does: the
`X-Amz-Function-Error: Unhandled` header and an `{"errorType", "errorMessage", ...}` payload. The
Step Functions interpreter turns that into a TaskFailed whose error is `errorType`, which a
`Catch` can match.

moto is pinned exactly (pyproject.toml); `check_moto_compatibility()` and the tests in
tests/integration/local/test_local_lambda_bridge.py fail loudly if an upgrade moves the patched method.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from infra import config

LOG = logging.getLogger("medbill.local.lambda_bridge")

Handler = Callable[[Any, Any], Any]

# The patched attribute and the parameters moto calls it with (moto 5.2.5).
PATCH_TARGET = "moto.awslambda_simple.models.LambdaSimpleBackend.invoke"
EXPECTED_PARAMETERS = ("self", "function_name", "qualifier", "body", "headers", "response_headers")

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class BridgeError(RuntimeError):
    """The bridge cannot be installed (moto changed) or a handler cannot be found."""


# --- the Lambda context object ------------------------------------------------------------------
class LocalLambdaContext:
    """The attributes and method of the Python Lambda runtime's context object.

    Powertools' `inject_lambda_context` reads function_name, memory_limit_in_mb,
    invoked_function_arn and aws_request_id; idempotency reads get_remaining_time_in_millis.
    """

    def __init__(
        self,
        function_name: str,
        *,
        memory_limit_in_mb: int = 128,
        timeout_seconds: int = 30,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT,
        invoked_function_arn: str | None = None,
        aws_request_id: str | None = None,
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = (
            invoked_function_arn or f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        )
        self.memory_limit_in_mb = int(memory_limit_in_mb)
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/") + "[$LATEST]" + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --- the result of one invocation -------------------------------------------------------------------
@dataclass(frozen=True)
class HandlerFailure:
    """A handler exception, kept so tests and the runtime can surface it (logs carry no message)."""

    function_name: str
    request_id: str
    error_type: str
    exception: BaseException


@dataclass
class Invocation:
    function_name: str
    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" like Lambda, or None


def _release_frames(exc: BaseException) -> None:
    """Drop the locals of a kept exception's frames (and of its causes'): `failures` keeps every
    exception of a long run, and a handler's frames hold whole files and batches. Line numbers stay."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        # The handler's frames, not the bridge's own.
        "stackTrace": traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None),
    }


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


# --- the bridge -------------------------------------------------------------------------------------
@dataclass
class LambdaBridge:
    """A registry function name -> handler, and the moto patch that calls it.

    Use as a context manager (`with LambdaBridge(handlers): ...`) or `install()` / `uninstall()`.
    `handlers` maps a Lambda function name ("medbill-registration") or a FUNCTIONS key
    ("registration") to `handler(event, context)`. `resolver` is asked for names not registered
    (e.g. `load_project_handlers(lazy=True)`), so handlers load on first use.
    """

    handlers: dict[str, Handler] = field(default_factory=dict)
    resolver: Callable[[str], Handler | None] | None = None
    failures: list[HandlerFailure] = field(default_factory=list)
    in_flight: int = 0  # handlers running now (the runtime's idle check reads it)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.handlers = {_function_name(k): v for k, v in dict(self.handlers).items()}

    # registry
    def register(self, name: str, handler: Handler) -> None:
        with self._lock:
            self.handlers[_function_name(name)] = handler

    def handler_for(self, name: str) -> Handler:
        function_name = _function_name(name)
        with self._lock:
            handler = self.handlers.get(function_name)
        if handler is None and self.resolver is not None:
            handler = self.resolver(function_name)
            if handler is not None:
                self.register(function_name, handler)
        if handler is None:
            raise BridgeError(f"no local handler registered for Lambda function {function_name!r}")
        return handler

    def context_for(self, name: str, **overrides: Any) -> LocalLambdaContext:
        function_name = _function_name(name)
        spec = _SPECS_BY_FUNCTION_NAME.get(function_name)
        kwargs: dict[str, Any] = {}
        if spec is not None:
            kwargs = {"memory_limit_in_mb": spec.memory_mb, "timeout_seconds": spec.timeout_seconds}
        kwargs.update(overrides)
        return LocalLambdaContext(function_name, **kwargs)

    def invoke(self, name: str, event: Any, context: LocalLambdaContext | None = None) -> Invocation:
        """Run one handler like the Lambda runtime does: JSON out, exceptions as a function error.

        Used by the moto patch and directly by the SQS poller and the API server.
        """
        function_name = _function_name(name)
        ctx = context or self.context_for(function_name)
        with self._lock:
            self.in_flight += 1
        try:
            handler = self.handler_for(function_name)
            # One invocation at a time per process, as in a Lambda execution environment:
            # Powertools Logger/Metrics keep per-invocation state in module globals, which
            # concurrent Step Functions threads would otherwise interleave.
            with INVOCATION_LOCK:
                result = handler(event, ctx)
            payload = b"null" if result is None else json.dumps(result).encode("utf-8")
        except Exception as exc:
            failure = HandlerFailure(function_name, ctx.aws_request_id, type(exc).__name__, exc)
            with self._lock:
                self.failures.append(failure)
            # Type and location only: an exception message may quote a patient's data.
            LOG.error(
                "Lambda %s request %s failed: %s at %s",
                function_name,
                ctx.aws_request_id,
                type(exc).__name__,
                _where(exc),
            )
            body = _error_payload(exc, ctx.aws_request_id)
            if isinstance(exc, TypeError | ValueError) and "JSON serializable" in str(exc):
                body["errorType"] = "Runtime.MarshalError"
            _release_frames(exc)
            return Invocation(function_name, ctx.aws_request_id, json.dumps(body).encode(), "Unhandled")
        finally:
            with self._lock:
                self.in_flight -= 1
        return Invocation(function_name, ctx.aws_request_id, payload, None)

    def call(self, name: str, event: Any) -> Any:
        """Invoke and return the decoded result; a handler exception is re-raised."""
        function_name = _function_name(name)
        ctx = self.context_for(function_name)
        handler = self.handler_for(function_name)
        with self._lock:
            self.in_flight += 1
        try:
            # The same one-at-a-time rule as `invoke`: a direct call (tests, tools) can run while the
            # state machine's threads invoke other handlers against the same moto backends.
            with INVOCATION_LOCK:
                return handler(event, ctx)
        finally:
            with self._lock:
                self.in_flight -= 1

    # the patch
    def install(self) -> None:
        _install(self)

    def uninstall(self) -> None:
        _uninstall(self)

    def __enter__(self) -> LambdaBridge:
        self.install()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.uninstall()


_SPECS_BY_FUNCTION_NAME = {spec.function_name: spec for spec in config.LOCAL_FUNCTIONS.values()}


def _function_name(name: str) -> str:
    """'registration' -> 'medbill-registration'; a function name or ARN -> the function name."""
    if name.startswith("arn:"):
        name = name.split(":")[6]
    if name in config.LOCAL_FUNCTIONS:
        return config.LOCAL_FUNCTIONS[name].function_name
    return name


# --- installing the patch ---------------------------------------------------------------------------
_INSTALL_LOCK = threading.RLock()
INVOCATION_LOCK = threading.RLock()
_ACTIVE: list[LambdaBridge] = []  # a stack: the innermost bridge answers
_ORIGINAL: dict[str, Callable[..., Any]] = {}


def _simple_backend_class() -> type:
    try:
        from moto.awslambda_simple.models import LambdaSimpleBackend
    except ImportError as exc:  # pragma: no cover - only on an incompatible moto
        raise BridgeError(f"moto no longer has {PATCH_TARGET}: {exc}") from exc
    return LambdaSimpleBackend


def check_moto_compatibility() -> None:
    """Raise BridgeError unless moto still has the method we patch, with the expected signature."""
    cls = _simple_backend_class()
    method = cls.__dict__.get("invoke")
    if method is None or not callable(method):
        raise BridgeError(f"{PATCH_TARGET} is gone: the local Lambda bridge needs updating for this moto")
    if getattr(method, "__medbill_bridge__", False):
        method = _ORIGINAL.get("invoke", method)
    params = tuple(inspect.signature(method).parameters)
    if params != EXPECTED_PARAMETERS:
        raise BridgeError(f"{PATCH_TARGET} signature changed: {params} != {EXPECTED_PARAMETERS}")


def _patched_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes | None:
    with _INSTALL_LOCK:
        bridge = _ACTIVE[-1] if _ACTIVE else None
    if bridge is None:  # uninstalled while a request was in flight: behave like moto
        return _ORIGINAL["invoke"](self, function_name, qualifier, body, headers, response_headers)
    fn = self.get_function(function_name, qualifier)  # ResourceNotFoundException for unknown names
    headers = headers or {}
    invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event = json.loads(body) if body else {}
    ctx = LocalLambdaContext(
        fn.function_name,
        memory_limit_in_mb=int(fn.memory_size or 128),
        timeout_seconds=int(fn.timeout or 3),
        region=fn.region,
        account_id=fn.account_id,
        invoked_function_arn=fn.function_arn,
    )
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        # Asynchronous invoke: Lambda queues the event and answers 202 at once.
        threading.Thread(
            target=bridge.invoke, args=(fn.function_name, event, ctx), daemon=True, name="lambda-event"
        ).start()
        return b""
    result = bridge.invoke(fn.function_name, event, ctx)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = "$LATEST"
    response_headers["Content-Length"] = str(len(result.payload))
    return result.payload


_patched_invoke.__medbill_bridge__ = True  # type: ignore[attr-defined]


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and hasattr(headers, "items"):
        for key, val in headers.items():
            if str(key).lower() == name.lower():
                return str(val)
    return None if value is None else str(value)


def _install(bridge: LambdaBridge) -> None:
    with _INSTALL_LOCK:
        check_moto_compatibility()
        cls = _simple_backend_class()
        if not _ACTIVE:
            _ORIGINAL["invoke"] = cls.__dict__["invoke"]
            cls.invoke = _patched_invoke  # type: ignore[attr-defined]
        _ACTIVE.append(bridge)


def _uninstall(bridge: LambdaBridge) -> None:
    with _INSTALL_LOCK:
        if bridge in _ACTIVE:
            _ACTIVE.remove(bridge)
        if not _ACTIVE and "invoke" in _ORIGINAL:
            cls = _simple_backend_class()
            cls.invoke = _ORIGINAL.pop("invoke")  # type: ignore[attr-defined]


def is_installed() -> bool:
    return getattr(_simple_backend_class().__dict__.get("invoke"), "__medbill_bridge__", False)


@contextmanager
def lambda_bridge(handlers: Mapping[str, Handler]) -> Iterator[LambdaBridge]:
    with LambdaBridge(dict(handlers)) as bridge:
        yield bridge


# --- loading the project's handlers -----------------------------------------------------------------
def _load_module(name: str, functions_path: Path) -> ModuleType:
    """functions/<name>/handler.py (`name`: a FunctionSpec.code_dir)."""
    path = functions_path / name / "handler.py"
    if not path.is_file():
        raise BridgeError(f"no handler file for Lambda {name!r}: {path}")
    # A unique module name per function: every handler file is called handler.py.
    module_name = f"medbill_local_functions.{name}.handler"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise BridgeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ProjectHandlers:
    """Imports `functions/<name>/handler.py` for each config.FUNCTIONS entry, once, on first use."""

    def __init__(self, functions_path: Path = config.FUNCTIONS_PATH) -> None:
        self.functions_path = functions_path
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()

    def __call__(self, function_name: str) -> Handler | None:
        spec = _SPECS_BY_FUNCTION_NAME.get(function_name)
        if spec is None:
            return None
        name = spec.code_dir  # several functions may share one handler file (followup's schedules)
        with self._lock:
            module = self._modules.get(name)
            if module is None:
                module = self._modules[name] = _load_module(name, self.functions_path)
        handler = getattr(module, spec.entry, None)
        if not callable(handler):
            raise BridgeError(f"functions/{name}/handler.py has no callable `{spec.entry}`")
        return handler


def load_project_handlers(
    *, lazy: bool = True, functions_path: Path = config.FUNCTIONS_PATH
) -> tuple[dict[str, Handler], Callable[[str], Handler | None]]:
    """(eager handlers, resolver). Lazy: nothing imported until a function is first invoked.

    Lazy is the default so one handler with an import error fails its own invocations (as a
    Lambda init error would) instead of the whole runtime.
    """
    resolver = ProjectHandlers(functions_path)
    eager: dict[str, Handler] = {}
    if not lazy:
        for spec in config.LOCAL_FUNCTIONS.values():
            handler = resolver(spec.function_name)
            if handler is not None:
                eager[spec.function_name] = handler
    return eager, resolver


def project_bridge(*, lazy: bool = True, overrides: Mapping[str, Handler] | None = None) -> LambdaBridge:
    eager, resolver = load_project_handlers(lazy=lazy)
    bridge = LambdaBridge(eager, resolver=resolver)
    for name, handler in (overrides or {}).items():
        bridge.register(name, handler)
    return bridge
