"""Step 1 of the CI Sequence: clone the pushed commit.

Receives the GitHub or GitLab push event, checks the commit out in the run's workspace
(any URL git clones: `file://` needs no network), and replies `dev.ripple.ci.checkedout`
carrying the run. A push that is not to the default branch (GitLab's events carry no `ref`
attribute for the Trigger to filter on) ends here: no reply. A clone that fails raises:
the host answers 500, the step's delivery retries, then dead-letters the push.
"""

import ciflow


def main(event, context):
    run = ciflow.read_push(event)
    if run is None:
        context.logger.info("push %s is not to the default branch: nothing to build", event["id"])
        return None
    with ciflow.step(run, "checkout"):
        ciflow.checkout(run)
    return ciflow.reply(run, ciflow.CHECKED_OUT)
