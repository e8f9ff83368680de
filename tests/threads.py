"""Real threads against the real database, for the concurrency tests."""

import threading
from collections.abc import Callable

from django.db import connection

THREAD_TIMEOUT = 20


def run_in_threads(
    count: int, work: Callable[[int], object], *, timeout: float = THREAD_TIMEOUT
) -> list:
    """Runs work(0) ... work(count - 1) in `count` threads released together by a barrier,
    and returns their results in index order. Each thread closes its own database
    connection. A failure in any thread fails the test, and so does a thread still
    running after `timeout` (a deadlock would otherwise hang the suite)."""
    start = threading.Barrier(count)
    results: list = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    if failures:
        raise failures[0]
    return results
