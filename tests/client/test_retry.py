"""The retry loop that takes over after the first, bare attempt."""

from __future__ import annotations

import pytest

from kakaclo_refunds import retry
from kakaclo_refunds.errors import ServerError


def _server_error() -> ServerError:
    return ServerError(503, None, "boom")


def test_the_loop_after_a_bare_attempt_makes_the_rest_and_numbers_them_on() -> None:
    policy = retry.RetryPolicy(attempts=4, jitter=lambda: 1.0)
    waits: list[float] = []
    tries = 0

    def run() -> None:
        nonlocal tries
        for state in retry.retrying(policy, waits.append, done=1):
            with state:
                tries += 1
                raise _server_error()

    with pytest.raises(ServerError):
        run()
    assert tries == 3  # 4 attempts in all, one made before the loop
    assert waits == [1.0, 2.0]  # the backoff of attempts 2 and 3, not 1 and 2


@pytest.mark.parametrize("done", [-1, 4])
def test_the_loop_refuses_a_count_outside_the_policy(done: int) -> None:
    with pytest.raises(ValueError, match=r"done must be in 0\.\.3"):
        retry.retrying(retry.RetryPolicy(attempts=4), lambda _: None, done=done)
