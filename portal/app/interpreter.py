"""A workaround for the Python this runs on.

CPython before 3.13 keeps the AST constructor's recursion counter in one state shared by every thread
(python/cpython#106905, fixed by #113035). When a garbage collection inside ``ast.parse`` runs a finalizer that
lets another thread parse too, the first parse fails with ``SystemError: AST constructor recursion depth
mismatch``. The portal parses in several threads at once: werkzeug compiles every URL rule with ``ast.parse``
(each app built), Jinja reads number literals with ``ast.literal_eval`` (each template compiled), and report
jobs render templates in their own threads beside the request threads. So ``ast.parse`` is taken one thread at
a time (``literal_eval`` calls it too). Re-entrant, because the finalizer may parse in the same thread.
"""
from __future__ import annotations

import ast
import functools
import sys
import threading

AFFECTED = sys.version_info < (3, 13)
unguarded_parse = getattr(ast.parse, "__wrapped__", ast.parse)


def guard_ast_parse() -> bool:
    """Make ``ast.parse`` one thread at a time on an affected interpreter (idempotent); True when guarded."""
    if not AFFECTED:
        return False
    if getattr(ast.parse, "ccus_guarded", False):
        return True
    lock = threading.RLock()

    @functools.wraps(unguarded_parse)
    def parse(*args, **kwargs):
        with lock:
            return unguarded_parse(*args, **kwargs)

    parse.ccus_guarded = True
    ast.parse = parse
    return True
