"""The ast.parse guard (portal.app.interpreter): on this interpreter two threads' parses corrupt each other, and
through the guard they do not."""
from __future__ import annotations

import ast
import gc
import threading

import pytest

import portal  # noqa: F401  (installs the guard)
from portal.app import interpreter

SOURCE = "\n".join(f"def f{i}(a):\n    return [x * {i} for x in range(a)]" for i in range(50))


def parses_while_another_thread_parses(parse, other_parse=None, attempts: int = 3) -> tuple[list[SystemError], list[bool]]:
    """Parse SOURCE with a cyclic garbage object whose finalizer (run by a collection inside the parse) lets a
    second thread parse and waits for it: the errors that came of it, and for each finalizer run whether the
    second thread got its parse done meanwhile."""
    go, done, stopping = threading.Event(), threading.Event(), threading.Event()
    other_parsed = []

    def other() -> None:
        while go.wait():
            go.clear()
            if stopping.is_set():
                return
            try:
                (other_parse or parse)("x = 1")
            finally:
                done.set()

    class Handshake:
        def __del__(self):
            done.clear()
            go.set()
            other_parsed.append(done.wait(0.3))  # the guard keeps the other thread out: then this times out

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    errors = []
    threshold = gc.get_threshold()
    try:
        for _ in range(attempts):
            gc.collect(1)  # the young and middle counts start at nought
            garbage = Handshake()
            garbage.cycle = garbage
            gc.collect(0)  # the garbage-to-be moves to the middle generation, which is collected ...
            del garbage
            gc.set_threshold(1, 20)  # ... after 20 young collections: some 40 allocations into the parse
            try:
                parse(SOURCE)
            except SystemError as error:
                errors.append(error)
            finally:
                gc.set_threshold(*threshold)
    finally:
        stopping.set()
        go.set()
        thread.join(5)
    return errors, other_parsed


def test_parses_in_two_threads_at_once_do_not_fail():
    if not interpreter.AFFECTED:
        pytest.skip("this interpreter keeps each parse's recursion count apart")
    assert ast.parse is not interpreter.unguarded_parse and ast.parse.ccus_guarded
    race, other_parsed = parses_while_another_thread_parses(interpreter.unguarded_parse)
    assert other_parsed == [True, True, True]  # the second thread parsed inside the first one's parse
    if not race:
        pytest.skip("the race did not show on this interpreter (a later 3.11 or 3.12 with the fix)")
    assert "recursion depth mismatch" in str(race[0])
    assert parses_while_another_thread_parses(ast.parse) == ([], [False, False, False])
    # Jinja's number literals go through ast.literal_eval, which calls the guarded parse
    assert parses_while_another_thread_parses(ast.parse, lambda text: ast.literal_eval("1.5")) == (
        [], [False, False, False])


def test_the_guard_is_installed_once():
    guarded = ast.parse
    assert interpreter.guard_ast_parse() is interpreter.AFFECTED
    assert ast.parse is guarded
