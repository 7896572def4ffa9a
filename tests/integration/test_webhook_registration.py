"""Webhook registration clients (sources/webhooks/registration.py) against a local recording
HTTP server standing in for the GitHub and GitLab REST APIs: the method, path, headers and
JSON body each sends, the hook id it returns, and how provider errors are translated."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from ripple import errors
from sources.webhooks import registration
from tests.support.sinks import Answer, Received, RecordingSink

TOKEN = "ghp_t0k3n"
SECRET = "It's a Secret to Everybody"
HOOK_URL = "https://ripple.example.com/webhooks/github/default/hello"


class API:
    """A RecordingSink that also takes GET, PATCH and DELETE and remembers each request's
    method."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.sink = RecordingSink(lambda _r, n: self.answers[min(n, len(self.answers) - 1)])
        self.methods: list[str] = []
        handler = self.sink.server.RequestHandlerClass
        record = handler.do_POST  # type: ignore[attr-defined]
        methods = self.methods

        def do_any(request: Any) -> None:
            methods.append(request.command)
            record(request)

        handler.do_POST = handler.do_GET = handler.do_PATCH = handler.do_DELETE = do_any  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return self.sink.url

    def answer(self, status: int, body: Any = None, **headers: str) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.answers.append(Answer(status, raw, {"content-type": "application/json", **headers}))

    def only(self) -> tuple[str, Received]:
        assert len(self.sink.received) == 1
        return self.methods[0], self.sink.received[0]


@pytest.fixture(scope="module")
def server() -> Iterator[API]:
    fake = API()  # one server for the module: stopping one takes half a second
    with fake.sink:
        yield fake


@pytest.fixture
def api(server: API) -> API:
    server.answers.clear()
    server.methods.clear()
    server.sink.received.clear()
    return server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def json_body(request: Received) -> Any:
    assert request.headers["content-type"].startswith("application/json")
    return json.loads(request.body)


async def register_github(session: aiohttp.ClientSession, api_url: str,
                          owner_and_repository: str = "Codertocat/Hello-World",
                          **more: Any) -> str:
    return await registration.register_github(
        session, api_url=api_url, owner_and_repository=owner_and_repository, token=TOKEN,
        hook_url=HOOK_URL, secret=SECRET, events=["push", "pull_request"], **more)


# --- GitHub -------------------------------------------------------------------------------


async def test_github_register_repository_hook(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"id": 12345678, "name": "web", "active": True})
    assert await register_github(session, api.url) == "12345678"
    method, request = api.only()
    assert (method, request.path) == ("POST", "/repos/Codertocat/Hello-World/hooks")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert json_body(request) == {
        "name": "web",
        "active": True,
        "events": ["push", "pull_request"],
        "config": {"url": HOOK_URL, "content_type": "json", "secret": SECRET, "insecure_ssl": "0"},
    }


async def test_github_register_organisation_hook(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"id": 7})
    assert await register_github(session, api.url, "Octocoders", insecure_ssl=True) == "7"
    method, request = api.only()
    assert (method, request.path) == ("POST", "/orgs/Octocoders/hooks")
    assert json_body(request)["config"]["insecure_ssl"] == "1"


async def test_github_enterprise_api_url_keeps_its_path(
        api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"id": 1})
    await register_github(session, f"{api.url}/api/v3/")
    assert api.only()[1].path == "/api/v3/repos/Codertocat/Hello-World/hooks"


async def test_github_unregister(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(204)
    await registration.unregister_github(
        session, api_url=api.url, owner_and_repository="Codertocat/Hello-World", token=TOKEN,
        hook_id="12345678")
    method, request = api.only()
    assert (method, request.path) == ("DELETE", "/repos/Codertocat/Hello-World/hooks/12345678")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.body == b""


async def test_github_unregister_a_hook_already_gone(
        api: API, session: aiohttp.ClientSession) -> None:
    api.answer(404, {"message": "Not Found"})
    await registration.unregister_github(
        session, api_url=api.url, owner_and_repository="Octocoders", token=TOKEN, hook_id="9")
    method, request = api.only()
    assert (method, request.path) == ("DELETE", "/orgs/Octocoders/hooks/9")


async def test_github_refusal_is_permanent_with_status_and_body(
        api: API, session: aiohttp.ClientSession) -> None:
    api.answer(422, {"message": "Validation Failed", "errors": [
        {"resource": "Hook", "code": "invalid", "field": "events"}]})
    with pytest.raises(errors.PermanentError) as caught:
        await register_github(session, api.url)
    message = str(caught.value)
    assert "GitHub API POST" in message and "/repos/Codertocat/Hello-World/hooks" in message
    assert "answered 422" in message and '"field": "events"' in message
    assert TOKEN not in message and SECRET not in message
    assert api.methods == ["POST"]


ALREADY_EXISTS = {"message": "Validation Failed", "errors": [
    {"resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"}]}


async def test_github_register_again_adopts_the_hook_with_our_url(
        api: API, session: aiohttp.ClientSession) -> None:
    """A registration whose answer was lost is retried: GitHub refuses the duplicate, and the
    existing hook with our URL is updated to our secret and events and its id returned."""
    api.answer(422, ALREADY_EXISTS)
    api.answer(200, [{"id": 1, "config": {"url": "https://elsewhere.example.com/hook"}},
                     {"id": 42, "config": {"url": HOOK_URL, "content_type": "json"}}])
    api.answer(200, {"id": 42, "active": True})
    assert await register_github(session, api.url) == "42"
    assert api.methods == ["POST", "GET", "PATCH"]
    listed, patched = api.sink.received[1:]
    assert listed.path == "/repos/Codertocat/Hello-World/hooks"
    assert patched.path == "/repos/Codertocat/Hello-World/hooks/42"
    assert json_body(patched) == {
        "active": True, "events": ["push", "pull_request"],
        "config": {"url": HOOK_URL, "content_type": "json", "secret": SECRET, "insecure_ssl": "0"},
    }


async def test_github_already_exists_without_our_url_is_the_refusal(
        api: API, session: aiohttp.ClientSession) -> None:
    api.answer(422, ALREADY_EXISTS)
    api.answer(200, [{"id": 1, "config": {"url": "https://elsewhere.example.com/hook"}}])
    with pytest.raises(errors.PermanentError, match="POST .*answered 422: .*already exists"):
        await register_github(session, api.url)
    assert api.methods == ["POST", "GET"]


async def test_github_unauthorized_is_permanent(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(401, {"message": "Bad credentials"})
    with pytest.raises(errors.PermanentError, match="answered 401: .*Bad credentials"):
        await register_github(session, api.url)


@pytest.mark.parametrize("status, headers, delay", [
    (503, {"Retry-After": "7"}, 7.0),
    (502, {}, 60.0),
    (429, {"Retry-After": "30"}, 30.0),
    (403, {"X-RateLimit-Remaining": "0"}, 60.0),
])
async def test_github_overload_is_temporary(api: API, session: aiohttp.ClientSession, status: int,
                                            headers: dict[str, str], delay: float) -> None:
    api.answer(status, {"message": "try later"}, **headers)
    with pytest.raises(errors.TemporaryError) as caught:
        await register_github(session, api.url)
    assert caught.value.delay == delay
    assert f"answered {status}" in str(caught.value)


async def test_github_answer_without_id(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"name": "web"})
    with pytest.raises(errors.PermanentError, match="no id"):
        await register_github(session, api.url)


async def test_unreachable_api_is_temporary(session: aiohttp.ClientSession) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(errors.TemporaryError, match="GitHub API POST"):
        await register_github(session, f"http://127.0.0.1:{port}")


# --- GitLab -------------------------------------------------------------------------------

PROJECT = "https://gitlab.example.com/group/sub/project"
GITLAB_TOKEN = "glpat-t0k3n"


async def register_gitlab(session: aiohttp.ClientSession, base_url: str, **more: Any) -> str:
    return await registration.register_gitlab(
        session, base_url=base_url, project_url=more.pop("project_url", PROJECT),
        token=GITLAB_TOKEN, hook_url=HOOK_URL, secret=SECRET,
        events=["push_events", "merge_requests_events"], **more)


async def test_gitlab_register_project_hook(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"id": 42, "url": HOOK_URL})
    assert await register_gitlab(session, api.url) == "42"
    method, request = api.only()
    assert (method, request.path) == ("POST", "/api/v4/projects/group%2Fsub%2Fproject/hooks")
    assert request.headers["private-token"] == GITLAB_TOKEN
    assert "authorization" not in request.headers
    body = json_body(request)
    assert {k: body[k] for k in ("url", "token", "enable_ssl_verification")} == {
        "url": HOOK_URL, "token": SECRET, "enable_ssl_verification": True}
    assert body["push_events"] is True and body["merge_requests_events"] is True
    # Every other option is sent false: GitLab would otherwise keep push_events on.
    others = {k: v for k, v in body.items()
              if k.endswith("_events") and k not in ("push_events", "merge_requests_events")}
    assert others and set(others.values()) == {False}
    assert {"tag_push_events", "issues_events", "note_events", "pipeline_events"} <= set(others)


async def test_gitlab_ssl_verification_off(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"id": 1})
    await register_gitlab(session, api.url, ssl_verify=False)
    assert json_body(api.only()[1])["enable_ssl_verification"] is False


async def test_gitlab_under_a_path_prefix(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(201, {"id": 1})
    await register_gitlab(session, f"{api.url}/gitlab",
                          project_url=f"{api.url}/gitlab/group/project/")
    assert api.only()[1].path == "/gitlab/api/v4/projects/group%2Fproject/hooks"


async def test_gitlab_unregister(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(204)
    await registration.unregister_gitlab(session, base_url=api.url, project_url=PROJECT,
                                         token=GITLAB_TOKEN, hook_id="42")
    method, request = api.only()
    assert (method, request.path) == ("DELETE", "/api/v4/projects/group%2Fsub%2Fproject/hooks/42")
    assert request.headers["private-token"] == GITLAB_TOKEN


async def test_gitlab_refusal_is_permanent(api: API, session: aiohttp.ClientSession) -> None:
    api.answer(404, {"message": "404 Project Not Found"})
    with pytest.raises(errors.PermanentError) as caught:
        await register_gitlab(session, api.url)
    message = str(caught.value)
    assert "GitLab API POST" in message and "answered 404" in message
    assert "404 Project Not Found" in message
    assert GITLAB_TOKEN not in message and SECRET not in message
