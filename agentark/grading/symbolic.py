"""Symbolic answer equivalence with Hugging Face's math-verify, bounded in time from any thread.

``grading.answers_equal`` decides plain numbers and equal text itself and asks here only when both
answers look like mathematics it could not decide: radicals written two ways, sets and intervals,
polynomials in another form. math-verify turns LaTeX into SymPy and compares; a comparison can run for
a long time (simplifying a large expression), so each one is bounded by ``AGENTARK_SYMBOLIC_TIMEOUT``
seconds and counts as "not equal" when it runs out.

Design decision: math-verify bounds its own work with ``SIGALRM``, which only a process's main thread
may use. In the main thread (the CLI, job workers, tests) it does so. Any other thread (the app's script
runner, a thread pool) hands the comparison to one helper process, whose main thread runs math-verify
with its alarm; the caller waits a little longer than the timeout and kills and replaces a helper that
does not answer. Results are cached per (reference, answer) pair, so majority votes and regrading cost
one comparison per distinct pair.
"""
from __future__ import annotations

import functools
import multiprocessing
import threading

from agentark.config import symbolic_timeout_s

# The helper process imports math-verify and SymPy before it answers its first request.
HELPER_START_S = 120.0


def _parse(text: str, timeout_s: int) -> list:
    from math_verify import LatexExtractionConfig, parse

    # The answers arrive already extracted (a \boxed{} content, the text after "The answer is"), so they
    # are read as one math span.
    return parse(f"${text}$", extraction_config=[LatexExtractionConfig()],
                 parsing_timeout=timeout_s)


def compare(reference: str, answer: str, timeout_s: int) -> bool:
    """math-verify's verdict in this thread, which must be a main thread (its timeout is ``SIGALRM``)."""
    from math_verify import verify

    gold, pred = _parse(reference, timeout_s), _parse(answer, timeout_s)
    if not gold or not pred:
        return False
    return bool(verify(gold, pred, timeout_seconds=timeout_s))


def _serve(conn) -> None:
    """The helper process: answer (reference, answer, timeout) requests until the pipe closes."""
    import math_verify  # noqa: F401  (loaded before "ready", so the first request is not slowed by it)

    conn.send("ready")
    while True:
        try:
            reference, answer, timeout_s = conn.recv()
        except EOFError:
            return
        try:
            result = compare(reference, answer, timeout_s)
        except Exception:  # a comparison math-verify cannot make is not an equality
            result = False
        conn.send(result)


class _Helper:
    """One helper process shared by every non-main thread, one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = None
        self._conn = None

    def compare(self, reference: str, answer: str, timeout_s: int) -> bool:
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self._start()
            self._conn.send((reference, answer, timeout_s))
            # math-verify gives up after timeout_s per parse and per comparison; past that the helper hangs.
            if self._conn.poll(3 * timeout_s + 1):
                return bool(self._conn.recv())
            self.stop()
            return False

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # forking a threaded process (the app) is unsafe
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True, name="agentark-symbolic")
        self._process.start()
        child.close()
        if not self._conn.poll(HELPER_START_S) or self._conn.recv() != "ready":
            self.stop()
            raise RuntimeError("the symbolic grading helper process did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        self._process, self._conn = None, None


_HELPER = _Helper()


@functools.lru_cache(maxsize=1 << 16)
def symbolic_equal(reference: str, answer: str) -> bool:
    """Whether math-verify finds ``answer`` equivalent to ``reference`` within the timeout; False otherwise.

    math-verify is not symmetric (an equation in the reference may match its right-hand side), so the
    reference comes first.
    """
    timeout_s = symbolic_timeout_s()
    if threading.current_thread() is threading.main_thread():
        return compare(reference, answer, timeout_s)
    try:
        return _HELPER.compare(reference, answer, timeout_s)
    except (RuntimeError, OSError, EOFError):
        return False
