"""Command line: `llm-router serve | check | explain | test` (`python -m router`).

No work happens at import time; each subcommand imports what it needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

SERVE_HELP = """\
Serve the OpenAI-compatible API (/v1/chat/completions, /v1/responses), the
explain endpoint /v1/route, /v1/models, /health, /ready, /metrics, /v1/metrics,
/v1/ab and POST /admin/reload. Flags win over the LLR_* environment variables.
SIGHUP (and, with --watch, a change of the file) reloads the policy; SIGTERM
finishes in-flight requests and stops."""

SERVE_EPILOG = """\
examples:
  llm-router serve --policy policy.yaml --port 3030
  llm-router serve --workers 2 --watch --log-format json
  LLR_API_KEYS=key1,key2 llm-router serve --host 0.0.0.0"""

CHECK_HELP = """\
Validate a policy file without serving it. Prints ok and exits 0, or prints
every problem as FILE:LINE:COL: path.to.field: message and exits 1. Warnings
about locality (a local: true host with a public address, an Ollama that is
not on loopback) go to stderr and still exit 0."""

TEST_HELP = """\
Decide each case of CASES with the serving code path (as if every backend
were usable) and compare with its `expect` (route, backend, model, pinned,
sensitivity, task). Exits 0 when all hold, else 1 with each failing case and
what differs."""

EXPLAIN_HELP = """\
Read one chat-completions or Responses request body, classify it and decide
its route as the server would (POST /v1/route), without sending it anywhere.
Backends whose API key is unset count as disabled, as when serving."""

EXPLAIN_EPILOG = """\
examples:
  echo '{"model": "auto", "messages": [{"role": "user", "content": "hi"}]}' \\
    | llm-router explain --format table
  llm-router explain --policy policy.yaml body.json"""


def _version() -> str:
    from router import __version__

    return f"llm-router {__version__}"


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="llm-router",
        description="OpenAI-compatible proxy that routes each request by policy.",
        epilog="Run `llm-router COMMAND --help` for a command's options.",
    )
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "serve",
        help="serve the HTTP API",
        description=SERVE_HELP,
        epilog=SERVE_EPILOG,
        formatter_class=formatter,
    )
    s.add_argument("--policy", help="policy file (env LLR_POLICY)")
    s.add_argument("--host", help="bind address (env LLR_HOST, default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (env LLR_PORT, default 3030)")
    s.add_argument(
        "--db", help="metrics database, or off (env LLR_DB, default ./metrics.db)"
    )
    s.add_argument("--workers", type=int, help="worker processes (env LLR_WORKERS)")
    s.add_argument(
        "--max-body-bytes",
        type=int,
        help="largest request body accepted (env LLR_MAX_BODY_BYTES, default 32 MiB)",
    )

    s.add_argument(
        "--watch",
        action="store_true",
        default=None,
        help="reload the policy when its file changes (env LLR_WATCH=1)",
    )
    s.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="text, or JSON lines with one object per request (env LLR_LOG_FORMAT, "
        "default text)",
    )
    s.add_argument(
        "--log-level",
        type=str.lower,
        choices=["debug", "info", "warning", "error"],
        help="least severe level logged; JSON request lines are info "
        "(env LLR_LOG_LEVEL, default info)",
    )

    c = sub.add_parser(
        "check",
        help="validate a policy file",
        description=CHECK_HELP,
        epilog="example:\n  llm-router check policy.yaml",
        formatter_class=formatter,
    )
    c.add_argument("policy", help="policy file")

    t = sub.add_parser(
        "test",
        help="check a policy's routing against its cases",
        description=TEST_HELP,
        epilog="example:\n  llm-router test policy.example.yaml "
        "policy.example.cases.yaml",
        formatter_class=formatter,
    )
    t.add_argument("policy", help="policy file")
    t.add_argument("cases", help="cases file (YAML list)")

    e = sub.add_parser(
        "explain",
        help="classify and route one request body",
        description=EXPLAIN_HELP,
        epilog=EXPLAIN_EPILOG,
        formatter_class=formatter,
    )
    e.add_argument("--policy", help="policy file (env LLR_POLICY)")
    e.add_argument(
        "--format",
        choices=["json", "table"],
        default="json",
        help="the explain JSON (default), or the same as an aligned table",
    )
    e.add_argument("file", nargs="?", default="-", help="request body (- = stdin)")
    return p


def _check(path: str) -> int:
    from router.policy import check_policy, locality_warnings

    problems = check_policy(path)
    if not problems:
        for warning in locality_warnings(path):
            print(warning, file=sys.stderr)
        print("ok")
        return 0
    for problem in problems:
        print(problem)
    return 1


def _explain(policy_path: str | None, file: str, fmt: str = "json") -> int:
    import orjson

    from router.errors import HTTPError, PolicyError
    from router.explain import explain
    from router.policy import load_policy
    from router.settings import default_policy_path

    path = policy_path or default_policy_path(os.environ)
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        if file == "-":
            body = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as f:
                body = f.read()
    except OSError as exc:
        print(f"{file}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1

    from router.api.jsonio import decode_body

    try:
        request = decode_body(body)
    except HTTPError as exc:
        print(f"{file}: {exc.message}", file=sys.stderr)
        return 1
    from router.backends.pool import disabled_backends

    disabled = disabled_backends(policy.backends)
    out = explain(request, policy, body=body, disabled=disabled)
    if fmt == "table":
        from router.render import explain_table

        print(explain_table(out))
        return 0
    sys.stdout.buffer.write(orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from router.errors import PolicyError
    from router.logs import configure
    from router.policy import load_policy
    from router.serve import serve
    from router.settings import settings_from

    settings = settings_from(
        policy=args.policy,
        host=args.host,
        port=args.port,
        db=args.db,
        workers=args.workers,
        max_body_bytes=args.max_body_bytes,
        watch=args.watch,
        log_format=args.log_format,
        log_level=args.log_level,
    )
    configure(settings.log_format, settings.log_level)
    try:
        policy = load_policy(settings.policy)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    serve(policy, settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args.policy)
    if args.command == "explain":
        return _explain(args.policy, args.file, args.format)
    if args.command == "test":
        from router.cases import run

        return run(args.policy, args.cases)
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
