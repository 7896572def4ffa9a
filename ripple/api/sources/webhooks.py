"""The `WebhookConfigured` marks GitHubSource and GitLabSource share, and `status.webhookUrl`.

Both lifecycles bind one `WebhookMarks` to their own condition set and re-export its
methods under Knative's names, as `dead_letters.Marks` and `source_spec.SinkMarks` do.
The hook id goes to the field each upstream status has: GitHub's `webhookIDKey` (a
string), GitLab's `webhookID` (an integer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ripple.api import conditions

WEBHOOK_CONFIGURED = "WebhookConfigured"

Status = dict[str, Any]


@dataclass(frozen=True)
class WebhookMarks:
    condition_set: conditions.ConditionSet
    id_field: str
    integer_ids: bool = False

    def configured(self, status: Status, url: str, *, now: datetime,
                   hook_id: int | str | None = None) -> None:
        """Publish the receiver URL and, when the provider gave one, the hook's id."""
        status["webhookUrl"] = url
        if hook_id is not None and hook_id != "":
            if self.integer_ids and isinstance(hook_id, str) and hook_id.isdecimal():
                hook_id = int(hook_id)
            status[self.id_field] = hook_id if self.integer_ids else str(hook_id)
        self.condition_set.mark_true(status, WEBHOOK_CONFIGURED, now=now)

    def not_configured(self, status: Status, reason: str, message: str, *, now: datetime) -> None:
        """Keeps `webhookUrl` (the user may still paste it) and the hook id (to delete it)."""
        self.condition_set.mark_false(status, WEBHOOK_CONFIGURED, reason, message, now=now)


def webhook_url(source: dict[str, Any]) -> str | None:
    """The receiver URL the reconciler published, if any."""
    status = source.get("status")
    url = status.get("webhookUrl") if isinstance(status, dict) else None
    return url if isinstance(url, str) and url else None
