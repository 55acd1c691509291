"""Checks schemathesis runs on every answer, beside its own (loaded through SCHEMATHESIS_HOOKS)."""

import re

import schemathesis

# A Node stack frame ("    at fn (/app/src/x.ts:12:5)"), a file:line:column, or a Python traceback.
STACK_TRACE = re.compile(r"\n\s+at\s|\bat\s.+\.(?:ts|js|mjs|cjs):\d+|\.(?:ts|js|mjs|cjs):\d+:\d+|Traceback \(most recent call last\)")


@schemathesis.check
def no_stack_trace(ctx, response, case):
    """No answer may reveal a stack trace: error details belong in the server log only."""
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith(("application/json", "text/")):
        return None  # object bytes are the caller's own data
    if STACK_TRACE.search(response.text or ""):
        raise AssertionError(f"the answer ({response.status_code}) carries a stack trace")
    return None
