"""The local platform's webhook registrar: registers a GitHubSource's or GitLabSource's
receiver URL with the provider, for sources annotated `ripple.dev/register-webhook: "true"`
that have an `accessToken`.

`LocalController` calls `register_pending` after each reconcile pass. The reconcilers are
pure and only say what is wanted (`WebhookConfigured` Unknown, `status.webhookUrl` set, no
hook id yet); this does the I/O through `sources.webhooks.registration` and records the
provider's hook id (`status.webhookIDKey` for GitHub, `status.webhookID` for GitLab),
after which the reconciler marks `WebhookConfigured` True. A refusal is written as
`WebhookConfigured` False, reason `RegistrationFailed`, with the provider's answer, and
retried after `retry_after` seconds.

The hook is not removed from the provider when the source is deleted: that needs a
finalizer, which the local store does not have yet.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from controllers.reconcilers.sources import REGISTRATION_FAILED
from ripple import errors
from ripple.api import meta
from ripple.api.core import secret as secrets
from ripple.api.sources import (
    github_source_lifecycle,
    github_source_types,
    gitlab_source_lifecycle,
    gitlab_source_types,
)
from ripple.informers import Informer
from sources.webhooks import registration

log = logging.getLogger(__name__)

GITHUB_API = "https://api.github.com"
ID_FIELDS = {"GitHubSource": "webhookIDKey", "GitLabSource": "webhookID"}


class WebhookRegistrar:
    def __init__(self, store: Any, informer: Informer, *, retry_after: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.informer, self.retry_after, self.clock = store, informer, retry_after, clock
        self._failed_at: dict[tuple[str, str, str], float] = {}

    @property
    def waiting(self) -> bool:
        """Some registration failed and waits for its retry."""
        return bool(self._failed_at)

    async def register_pending(self) -> int:
        """Register every hook that is wanted and not yet registered; returns how many."""
        done = 0
        for kind, types in (("GitHubSource", github_source_types), ("GitLabSource", gitlab_source_types)):
            for source in self.informer.list(kind):
                if self._pending(kind, types, source):
                    done += await self._register(kind, source)
        return done

    def _pending(self, kind: str, types: Any, source: dict[str, Any]) -> bool:
        status = source.get("status") or {}
        if not types.wants_registration(source) or status.get(ID_FIELDS[kind]) or not status.get("webhookUrl"):
            return False
        failed = self._failed_at.get((kind, *meta.key(source)))
        return failed is None or self.clock() - failed >= self.retry_after

    async def _register(self, kind: str, source: dict[str, Any]) -> int:
        namespace, name = meta.key(source)
        spec = source.get("spec") or {}
        status = dict(source.get("status") or {})
        try:
            token = self._secret(namespace, spec, "accessToken")
            secret = self._secret(namespace, spec, "secretToken")
            async with aiohttp.ClientSession() as session:
                if kind == "GitHubSource":
                    hook_id = await registration.register_github(
                        session, api_url=spec.get("githubAPIURL") or GITHUB_API,
                        owner_and_repository=spec["ownerAndRepository"], token=token,
                        hook_url=status["webhookUrl"], secret=secret, events=list(spec["eventTypes"]))
                else:
                    parts = urlsplit(spec["projectUrl"])
                    hook_id = await registration.register_gitlab(
                        session, base_url=f"{parts.scheme}://{parts.netloc}", project_url=spec["projectUrl"],
                        token=token, hook_url=status["webhookUrl"], secret=secret,
                        events=list(spec["eventTypes"]), ssl_verify=bool(spec.get("sslverify", True)))
        except Exception as exc:  # the provider's answer goes into the condition
            self._failed_at[(kind, namespace, name)] = self.clock()
            lifecycle = github_source_lifecycle if kind == "GitHubSource" else gitlab_source_lifecycle
            lifecycle.mark_webhook_not_configured(status, REGISTRATION_FAILED, str(exc),
                                                  now=dt.datetime.now(dt.UTC))
            log.warning("webhook registration failed", extra={"source": f"{kind} {namespace}/{name}",
                                                              "error": str(exc)})
            await self._write(source, status)
            return 0
        self._failed_at.pop((kind, namespace, name), None)
        status[ID_FIELDS[kind]] = hook_id
        await self._write(source, status)
        log.info("webhook registered", extra={"source": f"{kind} {namespace}/{name}", "hook": hook_id})
        return 1

    def _secret(self, namespace: str, spec: dict[str, Any], field: str) -> str:
        ref = (spec.get(field) or {}).get("secretKeyRef") or {}
        secret = self.informer.get("Secret", namespace, str(ref.get("name", "")))
        if secret is None:
            raise errors.NotFound(f'spec.{field}: secret "{namespace}/{ref.get("name")}" not found')
        return secrets.secret_value(secret, str(ref.get("key", ""))).decode()

    async def _write(self, source: dict[str, Any], status: dict[str, Any]) -> None:
        try:
            await self.store.update_status({**source, "status": status})
        except (errors.Conflict, errors.NotFound):
            pass  # the next pass sees the newer object and tries again
