"""GitHubSource and GitLabSource on Ripple: webhook deliveries in, CloudEvents out.

The plane mounts `receiver` on the ingress; the local platform's registrar uses
`registration`. Everything else is pure and tested without I/O:

    receiver      raw ASGI, one endpoint for every source: /webhooks/<provider>/<ns>/<name>
    signatures    verify_github (X-Hub-Signature-256 HMAC), verify_gitlab (X-Gitlab-Token)
    github        to_event, event_name: a GitHub delivery as Knative's GitHubSource emits it
    gitlab        to_event, event_type_option: a GitLab delivery as Knative's GitLabSource emits it
    registration  register_* / unregister_*: the provider REST APIs that create the hook

Call sites import the modules, not their names: `from sources.webhooks import github`,
then `github.to_event(...)`.
"""
