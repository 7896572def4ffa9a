"""The machinery of issue #5's R4 fuzz check (`tests/reliability/test_fuzz.py`): a client
that keeps one HTTP connection and judges every answer, and the Hypothesis strategies of
malformed requests for each of Ripple's receivers.

The rule every answer must meet (`problem_of`):
- never a 5xx;
- a 405 carries `Allow`;
- a 4xx (except to HEAD, which has no body) is a JSON object whose `code` is the status
  and whose `message` is non-empty, is not a bare reason phrase ("Not Found"), and names
  its subject: every cause's `field` (from `causes` or a Kubernetes Status's
  `details.causes`) appears in it, each cause has a message, and the message contains
  - 400, 422: a cause's field, a header the request sent, or a noun of `NOUNS`;
  - 401: the credential's header (`X-Hub-Signature-256`, `X-Gitlab-Token`,
    `Authorization`) or `secretToken`;
  - 404, 409: the request path, one of its segments, a quoted name (`"fuzz-a"`), or a
    noun of `NOUNS`;
  - 405: the method refused;
  - 413: the word "limit".
Requests stay valid HTTP/1.1 (no control bytes in header values, token header names), so
each one reaches Ripple instead of the HTTP parser's own plain-text 400.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import math
import re
import string
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from hypothesis import strategies as st

from controllers.platforms.local import routing

REASON_PHRASES = frozenset(s.phrase.lower() for s in HTTPStatus) | {"internal error", "error"}
NOUNS = ("body", "json", "content-type", "header", "attribute", "specversion", "apiversion",
         "kind", "metadata", "namespace", "name", "resourceversion", "timeoutseconds", "status",
         "spec", "path", "url", "resource")
CREDENTIAL_HEADERS = ("x-hub-signature-256", "x-gitlab-token", "secrettoken", "authorization")
MAX_RECORDED = 20  # problems kept per target, with their requests


@dataclass
class Request:
    method: str
    path: str  # already percent-encoded, with any query string
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    body: bytes = b""
    authorize: bool = True
    """Whether `Client` adds the API token to a control path that sets no Authorization."""

    def describe(self) -> str:
        headers = {k: (v[:120] + b"..." if len(v) > 120 else v) for k, v in self.headers}
        body = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        return f"{self.method} {self.path[:300]} headers={headers} body={body!r}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Client:
    """One persistent HTTP/1.1 connection to `ripple up`; counts and judges each request."""

    def __init__(self, port: int, timeout: float = 15.0, *, token: str | None = None) -> None:
        """`token`: the API token, sent on every control path (`routing.is_control`) by a
        request that carries no Authorization of its own."""
        self.port, self.timeout, self.token = port, timeout, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.counts: Counter[str] = Counter()
        self.waited: defaultdict[str, float] = defaultdict(float)  # seconds awaiting answers
        self.statuses: dict[str, Counter[int]] = {}
        self.problems: dict[str, list[str]] = {}

    def send(self, target: str, request: Request) -> Answer:
        started = time.monotonic()
        answer = self._exchange(request)
        self.waited[target] += time.monotonic() - started
        self.counts[target] += 1
        self.statuses.setdefault(target, Counter())[answer.status] += 1
        problem = problem_of(request, answer)
        if problem is not None:
            found = self.problems.setdefault(target, [])
            if len(found) < MAX_RECORDED:
                found.append(f"{problem}\n    request: {request.describe()}\n"
                             f"    answer: {answer.status} {answer.body[:500]!r}")
        return answer

    def _exchange(self, request: Request) -> Answer:
        for attempt in (1, 2):
            try:
                self.conn.putrequest(request.method, request.path, skip_accept_encoding=True)
                for name, value in request.headers:
                    self.conn.putheader(name, value)
                if self.token and request.authorize and routing.is_control(request.path.split("?", 1)[0]) and \
                        not any(n.lower() == "authorization" for n, _ in request.headers):
                    self.conn.putheader("authorization", f"Bearer {self.token}")
                self.conn.putheader("content-length", str(len(request.body)))
                self.conn.endheaders(request.body)
                response = self.conn.getresponse()
                body = response.read()
                headers = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close:
                    self.conn.close()
                return Answer(response.status, headers, body)
            except (ConnectionError, http.client.HTTPException):
                # The server closed a kept-alive connection (after a 413 it may not read the
                # rest of the body): a fresh one, once; twice is an answer no client gets.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()

    def table(self) -> str:
        lines = [f"{'target':<24}{'requests':>9}  statuses"]
        for target, count in self.counts.items():
            statuses = " ".join(f"{s}:{n}" for s, n in sorted(self.statuses[target].items()))
            lines.append(f"{target:<24}{count:>9}  {statuses}")
        lines.append(f"{'total':<24}{sum(self.counts.values()):>9}")
        return "\n".join(lines)


def problem_of(request: Request, answer: Answer) -> str | None:
    """What is wrong with `answer` to `request` (see the module's docstring), or None."""
    status = answer.status
    if status >= 500:
        return f"a {status}"
    if status < 400:
        return None
    if status == 405 and "allow" not in answer.headers:
        return "a 405 without an Allow header"
    if request.method == "HEAD":
        return None
    try:
        body = json.loads(answer.body)
    except ValueError:
        return f"a {status} whose body is not JSON"
    if not isinstance(body, dict):
        return f"a {status} whose body is not a JSON object"
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        return f"a {status} with an empty message"
    if message.strip().lower() in REASON_PHRASES:
        return f"a {status} whose message is a bare reason phrase"
    if body.get("code") != status:
        return f"a {status} whose code is {body.get('code')!r}"
    causes = body.get("causes") or (body.get("details") or {}).get("causes") or []
    fields = [c.get("field") or "" for c in causes]
    if any(not c.get("message") for c in causes):
        return f"a {status} with a cause that has no message"
    if any(f and f not in message for f in fields):
        return f"a {status} whose message leaves out a cause's field"
    if not _names_subject(request, status, message, fields):
        return f"a {status} whose message names no field, header or rule"
    return None


def _names_subject(request: Request, status: int, message: str, fields: list[str]) -> bool:
    text = message.lower()
    if status == 401:
        return any(h in text for h in CREDENTIAL_HEADERS)
    if status == 405:
        return request.method.lower() in text
    if status == 413:
        return "limit" in text
    nouns = any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text) for n in NOUNS)
    if status in (404, 409):
        quoted = re.search(r'"[^"]+"', message) is not None
        return nouns or quoted or _names_path(request.path, message)
    headers = [name.lower() for name, _ in request.headers]
    attributes = [h[3:] for h in headers if h.startswith("ce-") and len(h) > 4]
    return any(fields) or nouns or any(h in text for h in headers + attributes)


def _names_path(raw: str, message: str) -> bool:
    path = urllib.parse.unquote(raw.split("?", 1)[0], errors="replace")
    segments = [s for s in path.split("/") if s]
    return path in message or any(
        f'"{s}"' in message or f"/{s}" in message or f"{s}/" in message for s in segments)


# --- values -------------------------------------------------------------------------------
# Hypothesis pays per draw, and `st.text` and `st.recursive` draw a lot: strings come from
# bytes (surrogateescape keeps the odd ones), odd scalars from lists, JSON nests two levels,
# and every strategy is built once, here. A request then takes about 2 ms to draw.

_CTL = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])
TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"


def header_safe(value: bytes) -> bytes:
    """The bytes HTTP allows in a field value: no control byte but tab, obs-text kept."""
    return value.translate(None, _CTL).strip(b" \t")


ONE_IN_4, ONE_IN_8, ONE_IN_10 = (st.integers(0, n - 1).map(lambda i: i == 0) for n in (4, 8, 10))


ODD_VALUES = ["", "1.0", "0.3", "2.0", "1.0 ", "1", "0", "-1", "2147483648", "9" * 50, "true",
              "null", "%", "%zz", "%ff%fe", "%c3%28", "%C3%A9", "%00", '"', '""', '"a\\"b"',
              "\\", "yesterday", "2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z",
              "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2020-02-29T23:59:60.5+23:59",
              "/", "http://", "mailto:x", "a b", "é", "\u2028", "\ufffe", "text/", "/json",
              "application/json; charset=utf-8", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"]
ODD_SCALARS: list[Any] = [None, True, False, 0, -1, 1.5, -0.0, 1e308, math.inf, math.nan, 2**31,
               -(2**31) - 1, 2**64, 10**400, "", "\x00", "\ud800", "\ufffe", "a", "1.0", "é", "/",
               "http://x", "2024-01-01T00:00:00Z", [], {}]

texts = st.binary(max_size=16).map(lambda b: b.decode("utf-8", "surrogateescape"))
tokens = st.binary(max_size=16).map(lambda b: "".join(TOKEN[x % len(TOKEN)] for x in b))
uuids = st.binary(min_size=16, max_size=16).map(lambda b: str(uuid.UUID(bytes=b)).encode())
header_values = st.one_of(
    st.sampled_from(ODD_VALUES).map(lambda s: s.encode("utf-8")),
    st.binary(max_size=40).map(header_safe),
    st.integers(1_000, 20_000).map(lambda n: b"x" * n),
)
json_scalars = st.one_of(st.sampled_from(ODD_SCALARS), st.integers(), texts)
json_keys = st.one_of(st.sampled_from(["", "a", "type", "id", "data", "name", "uri", "ref"]), texts)
_flat = st.one_of(json_scalars, st.lists(json_scalars, max_size=3),
                  st.dictionaries(json_keys, json_scalars, max_size=3))
json_values = st.one_of(json_scalars, json_scalars, st.lists(_flat, max_size=3),
                        st.dictionaries(json_keys, _flat, max_size=3))


def dumps(value: Any, *, ascii_only: bool = True) -> bytes:
    """JSON as a sloppy producer writes it: NaN and Infinity allowed, lone surrogates kept."""
    text = json.dumps(value, allow_nan=True, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogateescape" if ascii_only else "surrogatepass")


_DAMAGES = st.sampled_from(["none", "none", "none", "truncate", "byte", "prefix"])
_PREFIXES = st.sampled_from([b"\xef\xbb\xbf", b"\xff", b" ", b"NaN", b"[" * 3000])
_FRACTIONS = st.floats(0, 1, exclude_max=True)
_BYTE = st.binary(min_size=1, max_size=1)


def broken_json(draw: st.DrawFn, value: Any) -> bytes:
    """`value` as JSON text, sometimes damaged: truncated, a byte changed, non-UTF-8.

    A function of `draw`, not a strategy: a strategy built per value is validated per draw."""
    raw = dumps(value, ascii_only=draw(st.booleans()))
    damage = draw(_DAMAGES)
    if damage == "truncate" and raw:
        return raw[: int(draw(_FRACTIONS) * len(raw))]
    if damage == "byte" and raw:
        at = int(draw(_FRACTIONS) * len(raw))
        return raw[:at] + draw(_BYTE) + raw[at + 1:]
    if damage == "prefix":
        return draw(_PREFIXES) + raw
    return raw


deep = st.integers(500, 100_000).flatmap(
    lambda n: st.sampled_from([b"[" * n, b'{"a":' * n, b"[" * n + b"]" * n]))
bodies = st.one_of(st.just(b""), st.binary(max_size=200), json_values.map(dumps), deep)


# --- CloudEvents ----------------------------------------------------------------------------

VALID_BINARY = {"ce-specversion": b"1.0", "ce-id": b"fuzz-1", "ce-source": b"/fuzz",
                "ce-type": b"dev.ripple.fuzz"}
VALID_STRUCTURED = {"specversion": "1.0", "id": "fuzz-1", "source": "/fuzz",
                    "type": "dev.ripple.fuzz"}
CORE = ["specversion", "id", "source", "type", "time", "subject", "dataschema",
        "datacontenttype", "schemaurl", "datacontentencoding", "data", "data_base64",
        "knativebrokerttl", "traceparent", "tracestate", "partitionkey", "sequence"]
core_names = st.sampled_from(CORE)
header_attribute_names = st.one_of(
    core_names, st.sampled_from(["", "Type", "ID", "a_b", "x-y", "a" * 300, "0", "ext1"]), tokens)
attribute_names = st.one_of(header_attribute_names, st.sampled_from(["é", "a b", "\x00"]), texts)
content_types = st.one_of(
    st.none(),
    st.sampled_from([
        "application/json", "text/plain", "application/octet-stream", "application/cloudevents",
        "application/cloudevents+json", "application/cloudevents-batch+json",
        "APPLICATION/CLOUDEVENTS+JSON; charset=utf-8", "application/cloudevents+xml",
        "application/cloudevents-batch", "application/cloudeventsx", "application/cloudevents+",
        "", ";", "/", "text/", "application/json;;;", "multipart/form-data; boundary=x",
    ]).map(str.encode),
    header_values,
)
_ACTIONS = st.sampled_from(["drop", "set", "set", "add"])
_BINARY_NAMES = st.sampled_from(sorted(VALID_BINARY))
_STRUCTURED_NAMES = st.sampled_from(sorted(VALID_STRUCTURED))
_MUTATIONS = st.integers(1, 4)


@st.composite
def binary_requests(draw: st.DrawFn, path: str) -> Request:
    """Binary mode: the valid `ce-*` headers with some dropped, changed or added."""
    headers = dict(VALID_BINARY)
    for _ in range(draw(_MUTATIONS)):
        action = draw(_ACTIONS)
        if action == "drop":
            headers.pop(draw(_BINARY_NAMES), None)
        elif action == "set":
            headers[draw(_BINARY_NAMES)] = draw(header_values)
        else:
            headers["ce-" + draw(header_attribute_names)] = draw(header_values)
    content_type = draw(content_types)
    if content_type is not None and not content_type.lower().startswith(b"application/cloudevents"):
        headers["content-type"] = content_type
    return Request("POST", path, list(headers.items()), draw(bodies))


@st.composite
def structured_events(draw: st.DrawFn) -> Any:
    """A JSON event with wrong types, missing or odd members; now and then not an object."""
    if draw(ONE_IN_10):
        return draw(json_values)
    event: dict[str, Any] = dict(VALID_STRUCTURED)
    for _ in range(draw(_MUTATIONS)):
        action = draw(_ACTIONS)
        if action == "drop":
            event.pop(draw(_STRUCTURED_NAMES), None)
        else:
            event[draw(core_names if action == "set" else attribute_names)] = draw(json_values)
    return event


_BATCH_TYPES = st.sampled_from(["application/cloudevents-batch+json",
                                "application/cloudevents-batch"])
_STRUCTURED_TYPES = st.sampled_from(["application/cloudevents+json", "application/cloudevents",
                                     "Application/CloudEvents+JSON; charset=utf-8"])
_EVENTS = structured_events()
_BATCHES = st.lists(_EVENTS, max_size=4)


@st.composite
def structured_requests(draw: st.DrawFn, path: str) -> Request:
    """Structured or batch mode: a JSON body (maybe broken) under a CloudEvents media type."""
    batch = draw(st.booleans())
    value = draw(_BATCHES if batch and not draw(ONE_IN_10) else _EVENTS)
    body = draw(bodies) if draw(ONE_IN_8) else broken_json(draw, value)
    headers = [("content-type", draw(_BATCH_TYPES if batch else _STRUCTURED_TYPES).encode())]
    if draw(st.booleans()):  # binary-mode headers on a structured body are ignored
        headers.append(("ce-specversion", draw(header_values)))
    return Request("POST", path, headers, body)


def event_requests(path: str) -> st.SearchStrategy[Request]:
    return st.one_of(binary_requests(path), structured_requests(path))


# --- paths and methods ----------------------------------------------------------------------

# Methods the HTTP parser (llhttp) knows; it answers any other itself, before Ripple.
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND",
           "QUERY", "PURGE", "M-SEARCH", "LINK", "REPORT", "MKCOL", "SEARCH", "SOURCE"]
SEGMENTS = ["apis", "api", "channels", "webhooks", "github", "gitlab", "tail", "metrics",
            "healthz", "openapi.json", "docs", "default", "fuzz", "namespaces", "v1", "status",
            "eventing.knative.dev", "messaging.knative.dev", "brokers", "triggers", "secrets",
            "..", ".", "", "%2F", "%00", "%ff", "%C3%A9"]
segments = st.one_of(st.sampled_from(SEGMENTS),
                     st.binary(max_size=12).map(lambda b: urllib.parse.quote(b, safe="")))
_QUERIES = st.lists(st.tuples(st.sampled_from(["resourceVersion", "timeoutSeconds", "x", ""]),
                              texts), max_size=3)
_METHODS = st.sampled_from(METHODS)
_PATHS = st.lists(segments, max_size=7)


@st.composite
def any_requests(draw: st.DrawFn) -> Request:
    """Any method at any path, with any body: routing and the error answers of every part."""
    path = "/" + "/".join(draw(_PATHS))
    if draw(ONE_IN_4):
        path += "?" + urllib.parse.urlencode(draw(_QUERIES), errors="surrogateescape")
    headers = [("content-type", draw(content_types) or b"application/json")]
    return Request(draw(_METHODS), path, headers, draw(bodies))


def is_stream(request: Request) -> bool:
    """Requests whose answer never ends: the live tail of an existing broker and watches
    (unless they go without the token: then a 401 ends them at once)."""
    path = urllib.parse.unquote(request.path)
    return request.authorize and request.method == "GET" and (
        re.fullmatch(r"/tail/+default/+fuzz/*(\?.*)?", path) is not None or "watch" in path)


# --- the API token (issue #15) --------------------------------------------------------------

def wrong_credentials(token: bytes) -> st.SearchStrategy[bytes | None]:
    """Authorization values that must never pass: none at all, noise, the token with one
    byte changed, cut or extended, and the right token in another scheme or none."""
    def flip(i: int) -> bytes:
        changed = bytes([token[i] ^ 1]) if 0x21 <= token[i] ^ 1 < 0x7F else b"!"
        return b"Bearer " + token[:i] + changed + token[i + 1:]

    index = st.integers(0, len(token) - 1)
    return st.one_of(
        st.none(),
        st.binary(max_size=90).map(header_safe).filter(lambda b: token not in b),
        st.binary(min_size=len(token), max_size=len(token)).map(lambda b: b"Bearer " + header_safe(b)),
        index.map(flip),
        index.map(lambda i: b"Bearer " + token[:i]),
        st.text(TOKEN, min_size=1, max_size=8).map(lambda t: b"Bearer " + token + t.encode()),
        st.sampled_from([b"Basic " + token, token, b"Bearer", b"Bearer  ", b"Token " + token,
                         b"Bearer " + token.upper(), b"Bearer " + token[::-1],
                         b"Bearer " + b"A" * len(token), b"Bearer, " + token]),
    )


# --- webhooks -------------------------------------------------------------------------------

GITHUB_EVENTS = ["push", "pull_request", "issues", "issue_comment", "release", "gollum", "status",
                 "create", "check_run", "installation", "ping", "unknown_kind", "", "Push",
                 "push!", " push "]
GITHUB_FIELDS = ["repository", "compare", "pusher", "sender", "installation", "ref", "created",
                 "deleted", "forced", "pull_request", "number", "label", "assignee", "comment",
                 "issue", "pages", "release", "action", "sha", "state", "check_run", "hook_id",
                 "zen", "owner", "organization"]
INNER_FIELDS = st.sampled_from(["name", "login", "id", "owner", "number", "html_url",
                                "full_name", "page_name", "tag_name"])
GITLAB_EVENTS = ["Push Hook", "Tag Push Hook", "Issue Hook", "Confidential Issue Hook",
                 "Merge Request Hook", "Note Hook", "Job Hook", "Build Hook", "System Hook",
                 "Push", "Hook", " Hook", "push hook", "Pipeline  Hook", "Émoji Hook"]

_inner = st.dictionaries(INNER_FIELDS, json_scalars, max_size=3)
payloads = st.dictionaries(st.sampled_from(GITHUB_FIELDS), st.one_of(
    json_values, st.dictionaries(INNER_FIELDS, st.one_of(json_scalars, _inner), max_size=3),
    st.lists(_inner, max_size=2)), max_size=4)
_BODY_KINDS = st.sampled_from(["payload", "payload", "payload", "form", "other"])
_FORM_FIELDS = st.sampled_from(["payload", "x"])
_WEBHOOK_TYPES = st.sampled_from(["application/json", None, "text/plain"])
_SIGNATURES = st.sampled_from(["valid"] * 6 + ["missing", "garbage", "wrong", "upper"])
_TOKENS = st.sampled_from(["valid"] * 6 + ["missing", "garbage", "prefix"])
_GITHUB_EVENTS = st.one_of(st.sampled_from(GITHUB_EVENTS).map(str.encode), header_values)
_GITLAB_EVENTS = st.one_of(st.sampled_from(GITLAB_EVENTS).map(str.encode), header_values)
_DELIVERY_IDS = st.one_of(uuids, header_values)


@st.composite
def webhook_bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """(body, content type): mostly payload-shaped JSON with wrong types, else anything."""
    kind = draw(_BODY_KINDS)
    if kind == "form":
        payload = dumps(draw(payloads)).decode("utf-8", "replace")
        return urllib.parse.urlencode({draw(_FORM_FIELDS): payload}).encode(), \
            "application/x-www-form-urlencoded"
    body = broken_json(draw, draw(payloads)) if kind == "payload" else draw(bodies)
    return body, draw(_WEBHOOK_TYPES)


def sign(secret: bytes, body: bytes) -> bytes:
    return b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()


@st.composite
def github_requests(draw: st.DrawFn, path: str, secret: bytes) -> Request:
    """A GitHub delivery; most are signed right, so the body parser is what is fuzzed."""
    body, content_type = draw(webhook_bodies())
    signature = {"valid": sign(secret, body), "upper": sign(secret, body).upper(),
                 "wrong": sign(b"not-the-secret", body), "missing": None}
    kind = draw(_SIGNATURES)
    value = signature[kind] if kind in signature else draw(header_values)
    headers = [] if value is None else [("X-Hub-Signature-256", value)]
    if not draw(ONE_IN_10):
        headers.append(("X-GitHub-Event", draw(_GITHUB_EVENTS)))
    if not draw(ONE_IN_10):
        headers.append(("X-GitHub-Delivery", draw(_DELIVERY_IDS)))
    if content_type is not None:
        headers.append(("content-type", content_type.encode()))
    return Request("POST", path, headers, body)


@st.composite
def gitlab_requests(draw: st.DrawFn, path: str, token: bytes) -> Request:
    """A GitLab delivery; most carry the right token, so the body parser is what is fuzzed."""
    body, content_type = draw(webhook_bodies())
    kind = draw(_TOKENS)
    value = {"valid": token, "prefix": token + b"x", "missing": None}.get(kind, b"")
    if kind == "garbage":
        value = draw(header_values)
    headers = [] if value is None else [("X-Gitlab-Token", value)]
    if not draw(ONE_IN_10):
        headers.append(("X-Gitlab-Event", draw(_GITLAB_EVENTS)))
    for name in ("Idempotency-Key", "X-Gitlab-Event-UUID"):
        if draw(st.booleans()):
            headers.append((name, draw(_DELIVERY_IDS)))
    if content_type is not None:
        headers.append(("content-type", content_type.encode()))
    return Request("POST", path, headers, body)


# --- the control API ------------------------------------------------------------------------

def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a manifest, inner nodes included: what a mutation may replace."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += key_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += key_paths(v, (*prefix, i))
    return found


def _other_than(kind: type) -> st.SearchStrategy[Any]:
    return json_values.filter(lambda v: not isinstance(v, kind) or isinstance(v, bool))


_WRONG_TYPES = {kind: _other_than(kind) for kind in (str, int, dict, list)}  # any type but this
_MANIFEST_ACTIONS = st.sampled_from(["wrong", "wrong", "wrong", "drop", "sibling"])


@st.composite
def broken_manifests(draw: st.DrawFn, manifest: dict[str, Any]) -> dict[str, Any]:
    """`manifest` with one to three known fields given a value of the wrong type, removed,
    or joined by an unknown sibling."""
    obj = json.loads(json.dumps(manifest))
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in key_paths(obj) if p[0] not in ("apiVersion", "kind")]
        if not candidates:
            break
        path = candidates[int(draw(_FRACTIONS) * len(candidates))]
        parent, key = obj, path[-1]
        for step in path[:-1]:
            parent = parent[step]
        action = draw(_MANIFEST_ACTIONS)
        if action == "wrong":
            original = parent[key]
            wrong = _WRONG_TYPES.get(type(original), json_values)
            parent[key] = draw(wrong)
        elif action == "drop" and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(tokens) or "x"] = draw(json_values)
    return obj


_CONDITION = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(["Ready", "Addressable", ""]), json_values),
    "status": st.one_of(st.sampled_from(["True", "False", "Unknown"]), json_values),
    "lastTransitionTime": st.one_of(st.just("2024-01-01T00:00:00Z"), json_values),
    "reason": json_values, "message": json_values})
broken_statuses = st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "conditions": st.one_of(st.lists(_CONDITION, max_size=3), json_values),
    "address": st.one_of(st.fixed_dictionaries({"url": json_values}), json_values),
    "observedGeneration": json_values, "subscriberUri": json_values,
    "deadLetterSinkUri": json_values, "sinkUri": json_values, "webhookUrl": json_values,
    "physicalSubscription": st.one_of(st.fixed_dictionaries({}, optional={
        "subscriberUri": json_values, "replyUri": json_values,
        "deadLetterSinkUri": json_values}), json_values),
    "subscribers": json_values, "ceAttributes": json_values}))
"""What a buggy controller might PUT to a /status subresource."""
