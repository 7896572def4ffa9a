"""Logs on stderr: JSON objects, one a line, for machines; short lines for a person at a
terminal. A record's `extra` fields are merged in either way.

Configured once by the composition root (`ripple up`, `--log-format auto|human|json`);
every module logs with `logging.getLogger(__name__)`. `auto` picks human when stderr is a
terminal and JSON otherwise (a pipe, a file, a log collector).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "color_message"}

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("auto", "human", "json")


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(_extra(record))
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class HumanFormatter(logging.Formatter):
    """`14:02:07 WARNING ripple.up: worker died; restarting worker=1 exit_code=-9`: local time,
    the level, the logger, the message, then the extra fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = " ".join(f"{k}={_value(v)}" for k, v in _extra(record).items())
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}" + (f" {fields}" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if not text or any(c in text for c in ' "=') else text


def level_name(value: str) -> str:
    """A log level in any case (`debug`, `Info`) as logging names it; ValueError otherwise."""
    name = value.strip().upper()
    if name == "WARN":
        name = "WARNING"
    if name not in LEVELS:
        raise ValueError(f"{value!r} is not a log level (choose from {', '.join(n.lower() for n in LEVELS)})")
    return name


def format_name(value: str) -> str:
    """A log format (`auto`, `human`, `json`, any case); ValueError otherwise."""
    name = value.strip().lower()
    if name not in FORMATS:
        raise ValueError(f"{value!r} is not a log format (choose from {', '.join(FORMATS)})")
    return name


def formatter_for(fmt: str, stream: TextIO) -> logging.Formatter:
    """`auto` is human on a terminal and JSON anywhere else."""
    if fmt == "auto":
        fmt = "human" if _isatty(stream) else "json"
    return HumanFormatter() if fmt == "human" else JSONFormatter()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def configure(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(format_name(fmt), sys.stderr))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name(level))
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
