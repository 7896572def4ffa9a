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
from collections.abc import Callable
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


OWN = frozenset({"ripple", "channels", "broker", "sources", "serving", "controllers", "bench", "__main__"})
"""Ripple's own top-level packages: their records are never held back."""


class Repeats(logging.Filter):
    """Holds back a library's record that repeats one let through less than `window`
    seconds ago (same logger, level and message template): a Kafka cluster that went away
    made aiokafka log about 250 identical errors a second. The first record after the
    window carries `repeated`, how many were held back since the last one shown. Ripple's
    own records (`OWN`) always pass: each of them is written to be read."""

    MAX_KINDS = 1000

    def __init__(self, window: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window, self.clock = window, clock
        self._shown: dict[tuple[str, int, str], tuple[float, int]] = {}
        """Per kind: when one was last shown, and how many were held back since."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] in OWN:
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        shown = self._shown.get(kind)
        if shown is not None and now - shown[0] < self.window:
            self._shown[kind] = (shown[0], shown[1] + 1)
            return False
        if shown is not None and shown[1]:
            record.repeated = shown[1]
        if len(self._shown) >= self.MAX_KINDS:
            self._shown.clear()
        self._shown[kind] = (now, 0)
        return True


def configure(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(format_name(fmt), sys.stderr))
    handler.addFilter(Repeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name(level))
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
