"""Every call the fake Slack answers, recorded for assertions and waited on by tests."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from supportbot.clock import Clock

from .methods import decode_json_fields
from .state import JsonDict

CallCause = Literal["scripted", "rate_limit"]
T = TypeVar("T")


@dataclass
class Outcome:
    """What the fake answers to one call: HTTP status, JSON body, headers, and why it failed
    when the method itself did not decide (``cause``)."""

    status: int
    body: JsonDict
    headers: dict[str, str] = field(default_factory=dict)
    cause: CallCause | None = None


@dataclass(frozen=True)
class SlackCall:
    """One request the fake answered.

    ``args`` are the arguments as the method saw them (form or JSON body plus query string,
    JSON-string fields such as ``blocks``/``view``/``files`` decoded, the token removed);
    ``response`` is the JSON body answered; ``cause`` says why a failure happened when it was
    not the method's own verdict: ``"scripted"`` (:meth:`FakeSlack.fail_next`) or
    ``"rate_limit"`` (the per-channel limit).
    """

    seq: int
    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]
    at: datetime
    cause: CallCause | None = None

    @property
    def ok(self) -> bool:
        return self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return str(error) if error is not None else None


class CallLog:
    """The recorded calls; its condition shares the state's lock, so waiting for a message
    and waiting for a call are one mechanism."""

    def __init__(self, lock: threading.RLock, clock: Clock) -> None:
        self._changed = threading.Condition(lock)
        self._clock = clock
        self._calls: list[SlackCall] = []
        self._subscribers: list[Callable[[SlackCall], None]] = []

    def record(
        self, method: str, args: Mapping[str, Any], token: str | None, outcome: Outcome
    ) -> SlackCall:
        with self._changed:
            call = SlackCall(
                seq=len(self._calls) + 1,
                method=method,
                args=copy.deepcopy(decode_json_fields(args)),
                token=token,
                status=outcome.status,
                response=copy.deepcopy(outcome.body),
                at=self._clock.now(),
                cause=outcome.cause,
            )
            self._calls.append(call)
            self._changed.notify_all()
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(call)
        return call

    def subscribe(self, callback: Callable[[SlackCall], None]) -> None:
        with self._changed:
            self._subscribers.append(callback)

    def calls(self, method: str | None = None) -> list[SlackCall]:
        with self._changed:
            return [c for c in self._calls if method is None or c.method == method]

    def reset(self) -> None:
        with self._changed:
            self._calls.clear()

    def rejections(self, *, include_scripted: bool, include_rate_limited: bool) -> list[SlackCall]:
        return [
            c
            for c in self.calls()
            if not c.ok
            and (include_scripted or c.cause != "scripted")
            and (include_rate_limited or c.cause != "rate_limit")
        ]

    def assert_no_rejections(self) -> None:
        rejected = self.rejections(include_scripted=False, include_rate_limited=False)
        if rejected:
            lines = [
                f"  #{c.seq} {c.method} -> {c.error}: {json.dumps(c.response)[:400]}"
                for c in rejected
            ]
            raise AssertionError("the fake Slack rejected calls:\n" + "\n".join(lines))

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] | None,
        *,
        count: int,
        timeout: float,
    ) -> SlackCall:
        def matching() -> list[SlackCall]:
            return [
                c for c in self._calls if c.method == method and (predicate is None or predicate(c))
            ]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout):
                seen = [f"{c.method}:{c.error or 'ok'}" for c in self._calls[-20:]]
                raise TimeoutError(
                    f"{len(matching())} matching {method} call(s) within {timeout} s, wanted "
                    f"{count}; last calls: {', '.join(seen) or 'none'}"
                )
            return matching()[count - 1]

    def wait_until(self, find: Callable[[], T | None], *, timeout: float, what: str) -> T:
        """Block until ``find()`` (run under the state lock after each call) finds something."""
        with self._changed:
            if not self._changed.wait_for(lambda: find() is not None, timeout):
                raise TimeoutError(f"no {what} within {timeout} s")
            found = find()
            assert found is not None
            return found
