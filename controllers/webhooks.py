"""The handler of `RegisterWebhook`: creates a GitHubSource's or GitLabSource's hook with
the provider's REST API (`sources.webhooks.registration`) and returns its id.

The effect is asked for by `controllers.reconcilers.sources` for sources annotated
`ripple.dev/register-webhook: "true"` that have an `accessToken`; the reconciler records
the id, or the provider's refusal (`WebhookConfigured` False, `RegistrationFailed`). The
hook is not removed from the provider when the source is deleted: that needs finalizers,
which the local store does not have yet.
"""

from __future__ import annotations

import aiohttp

from controllers.reconcilers.sources import RegisterWebhook
from sources.webhooks import registration


async def register(effect: RegisterWebhook) -> str:
    async with aiohttp.ClientSession() as session:
        if effect.provider == "github":
            return await registration.register_github(
                session, api_url=effect.api_url, owner_and_repository=effect.repository,
                token=effect.token, hook_url=effect.hook_url, secret=effect.secret,
                events=list(effect.events))
        return await registration.register_gitlab(
            session, base_url=effect.api_url, project_url=effect.repository, token=effect.token,
            hook_url=effect.hook_url, secret=effect.secret, events=list(effect.events),
            ssl_verify=effect.ssl_verify)


HANDLERS = {RegisterWebhook: register}
