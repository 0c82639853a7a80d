"""The `trainscope` command."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from trainscope.app import create_app
from trainscope.config import Settings


def serve(args: argparse.Namespace) -> None:
    overrides: dict[str, Any] = {
        key: value for key, value in vars(args).items() if key in Settings.model_fields and value is not None
    }
    settings = Settings(**overrides)
    print(f"Trainscope: http://{settings.host}:{settings.port}/", flush=True)
    # permessage-deflate doubles server CPU for our small messages (measured): off.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws_per_message_deflate=False,
        ws_max_size=settings.limits.max_ws_message_bytes,  # larger client messages are closed with 1009
        log_level="info",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="trainscope", description="Watch real neural networks learn.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the web app (settings also from TRAINSCOPE_* variables)")
    serve_parser.add_argument("--host")
    serve_parser.add_argument("--port", type=int)
    serve_parser.add_argument("--workers", type=int, help="worker processes")
    serve_parser.add_argument("--database-url", dest="database_url")
    serve_parser.set_defaults(run=serve)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
