"""Creating and deleting the provider's webhook through its REST API, with aiohttp: called
by `controllers.webhooks`, the handler of the `RegisterWebhook` effect, for sources annotated
`ripple.dev/register-webhook: "true"`.

- GitHub (`POST /repos/{owner}/{repo}/hooks`, or `/orgs/{org}/hooks` when
  `ownerAndRepository` names only an organisation), the same hook Knative's
  `gitHubWebhookClient` creates: `name: web`, JSON content, the secret, the events.
  `api_url` is `spec.githubAPIURL` (GitHub Enterprise: `https://host/api/v3`).
- GitLab (`POST {base}/api/v4/projects/{url-encoded path}/hooks`), as Knative's
  `webhookClient.Add`, with one fix: every option of the CRD's enum is sent, false when
  not in `events`, because GitLab turns `push_events` on unless told otherwise.
  `base_url` is the scheme and host of `spec.projectUrl`.

The functions return the provider's hook id as a string. Failures are translated here:
a connection error, a timeout, a 429, a 5xx or GitHub's rate limit is an
`errors.TemporaryError` (retry); any other answer is an `errors.PermanentError` whose
message has the method, URL, status and the provider's body, for the source's condition.
Deleting a hook that is already gone (404) succeeds. Tokens never appear in messages.

Registering again is idempotent on GitHub: it refuses a second hook with the same URL (422,
"Hook already exists"), which happens when a registration's answer was lost, for example
to a leader change in the middle of the call. Then the existing hook with our URL is found
in the list of hooks, updated to our secret and events, and its id returned.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from ripple import errors
from ripple.api.sources import gitlab_source_types

TIMEOUT = 30.0
USER_AGENT = "ripple-webhook-registrar"
GITHUB_API_VERSION = "2022-11-28"
_BODY_SHOWN = 500  # characters of a provider's error body kept in the message


async def register_github(session: aiohttp.ClientSession, *, api_url: str,
                          owner_and_repository: str, token: str, hook_url: str, secret: str,
                          events: list[str], insecure_ssl: bool = False,
                          timeout: float = TIMEOUT) -> str:
    """Create the repository's (or organisation's) webhook; returns GitHub's hook id."""
    body = {
        "name": "web",
        "active": True,
        "events": list(events),
        "config": {"url": hook_url, "content_type": "json", "secret": secret,
                   "insecure_ssl": "1" if insecure_ssl else "0"},
    }
    hooks, headers = _github_hooks(api_url, owner_and_repository), _github_headers(token)
    try:
        answer = await _call(session, "POST", hooks, headers, body, "GitHub", timeout)
    except Refused as refused:
        if refused.status != 422 or "already exists" not in refused.body:
            raise
        existing = await _call(session, "GET", hooks, headers, None, "GitHub", timeout)
        hook_id = next((str(hook.get("id")) for hook in existing or []
                        if isinstance(hook, dict)
                        and (hook.get("config") or {}).get("url") == hook_url), None)
        if hook_id is None:
            raise
        answer = await _call(session, "PATCH", f"{hooks}/{quote(hook_id, safe='')}", headers,
                             {key: body[key] for key in ("active", "events", "config")},
                             "GitHub", timeout)
    return _hook_id(answer, "GitHub")


async def unregister_github(session: aiohttp.ClientSession, *, api_url: str,
                            owner_and_repository: str, token: str, hook_id: str,
                            timeout: float = TIMEOUT) -> None:
    """Delete the webhook; a hook that is already gone is fine.

    GitHub also answers 404 to a token that cannot see the repository, so a wrong token
    passes here unnoticed and the hook stays (GitHub disables it once deliveries fail).
    """
    url = f"{_github_hooks(api_url, owner_and_repository)}/{quote(str(hook_id), safe='')}"
    await _call(session, "DELETE", url, _github_headers(token), None, "GitHub", timeout,
                gone_ok=True)


async def register_gitlab(session: aiohttp.ClientSession, *, base_url: str, project_url: str,
                          token: str, hook_url: str, secret: str, events: list[str],
                          ssl_verify: bool = True, timeout: float = TIMEOUT) -> str:
    """Create the project's webhook; `events` are `*_events` option names. Returns its id."""
    body: dict[str, Any] = {"url": hook_url, "token": secret,
                            "enable_ssl_verification": ssl_verify}
    for option in (*gitlab_source_types.EVENT_TYPES, *events):
        body[option] = option in events
    answer = await _call(session, "POST", _gitlab_hooks(base_url, project_url),
                         _gitlab_headers(token), body, "GitLab", timeout)
    return _hook_id(answer, "GitLab")


async def unregister_gitlab(session: aiohttp.ClientSession, *, base_url: str, project_url: str,
                            token: str, hook_id: str, timeout: float = TIMEOUT) -> None:
    """Delete the project's webhook; a hook that is already gone is fine."""
    url = f"{_gitlab_hooks(base_url, project_url)}/{quote(str(hook_id), safe='')}"
    await _call(session, "DELETE", url, _gitlab_headers(token), None, "GitLab", timeout,
                gone_ok=True)


def _github_hooks(api_url: str, owner_and_repository: str) -> str:
    owner, _, repo = owner_and_repository.strip("/").partition("/")
    base = api_url.rstrip("/")
    if repo:
        return f"{base}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/hooks"
    return f"{base}/orgs/{quote(owner, safe='')}/hooks"


def _github_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION, "User-Agent": USER_AGENT}


def _gitlab_hooks(base_url: str, project_url: str) -> str:
    """`https://gitlab.com/group/sub/project` ->
    `<base>/api/v4/projects/group%2Fsub%2Fproject/hooks`.

    The path is taken relative to `base_url` when the project URL starts with it (a GitLab
    served under a path prefix), else it is the project URL's whole path.
    """
    base = base_url.rstrip("/")
    url = project_url.rstrip("/")
    path = url[len(base):] if url.startswith(base + "/") else urlsplit(url).path
    return f"{base}/api/v4/projects/{quote(path.strip('/'), safe='')}/hooks"


def _gitlab_headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token, "Accept": "application/json", "User-Agent": USER_AGENT}


class Refused(errors.PermanentError):
    """The provider refused the request: its status and body are kept for the caller."""

    def __init__(self, message: str, *, status: int, body: str):
        super().__init__(message)
        self.status, self.body = status, body


async def _call(session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
                body: dict[str, Any] | None, provider: str, timeout: float, *,
                gone_ok: bool = False) -> Any:
    """One API request: the JSON answer (None when empty), or a translated error."""
    what = f"{provider} API {method} {url}"
    try:
        async with session.request(method, url, headers=headers, json=body,
                                   timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            text = await response.text(errors="replace")
            status, retry_after = response.status, response.headers.get("Retry-After")
            rate_limited = response.headers.get("X-RateLimit-Remaining") == "0"
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise errors.TemporaryError(f"{what} failed: {str(exc) or type(exc).__name__}",
                                    delay=10.0) from None
    if 200 <= status < 300:
        return _json(text)
    if status == 404 and gone_ok:
        return None
    message = f"{what} answered {status}: {text[:_BODY_SHOWN]}"
    if status == 429 or status >= 500 or (status == 403 and rate_limited):
        raise errors.TemporaryError(message, delay=_delay(retry_after))
    raise Refused(message, status=status, body=text)


def _json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _hook_id(answer: Any, provider: str) -> str:
    hook_id = answer.get("id") if isinstance(answer, dict) else None
    if isinstance(hook_id, bool) or not isinstance(hook_id, (int, str)) or hook_id == "":
        raise errors.PermanentError(f"{provider} created the hook but its answer has no id: "
                                    f"{json.dumps(answer)[:_BODY_SHOWN]}")
    return str(hook_id)


def _delay(retry_after: str | None) -> float:
    """Seconds from a Retry-After in seconds; 60 when absent or a date."""
    if retry_after and retry_after.strip().isdigit():
        return max(1.0, float(retry_after.strip()))
    return 60.0
