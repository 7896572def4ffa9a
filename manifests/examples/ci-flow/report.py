"""Step 3 of the CI Sequence, and the receiver of its dead letters: emit the result.

Replies `dev.ripple.ci.result` with the run: `status` passed or failed (the test command's
exit code), `commit`, `ref`, `duration_s` (from the push entering the broker to this
report) and every step. The same function receives, through the Trigger `ci-step-failed`,
the events a step dead-lettered: it then reports status "error", naming the step and why
(Knative's `knativeerrorcode` and `knativeerrordata`).

Two revisions run it, split 90/10 by the Route `ci-report`: REPORT_FORMAT=v2 adds a
one-line `summary`. Each run's steps name the revision that reported it.
"""

import os

import ciflow


def main(event, context):
    run = ciflow.run_of(event)
    failure = ciflow.dead_letter(event)
    with ciflow.step(run, "report"):
        if failure is not None:
            last = run["steps"][-1]["finished"] if run["steps"] else run["received"]
            run["steps"].append({"name": failure["step"], "revision": None, "started": last,
                                 "finished": ciflow.now(), "status": "error"})
            run["status"], run["reason"] = "error", failure["reason"]
        elif run.get("test", {}).get("exit_code") == 0:
            run["status"] = "passed"
        else:
            run["status"] = "failed"
            run["reason"] = f"test command exited {run.get('test', {}).get('exit_code')}"
        if os.environ.get("REPORT_FORMAT") == "v2":
            run["summary"] = summary(run)
    run["finished"] = run["steps"][-1]["finished"]
    run["duration_s"] = round(run["finished"] - run["received"], 3)
    ciflow.discard_workspace(run)
    return ciflow.reply(run, ciflow.RESULT, cistatus=run["status"], ref=run["ref"])


def summary(run):
    tail = (run.get("test") or {}).get("output_tail", "").strip().splitlines()
    last = tail[-1] if tail else run.get("reason", "")
    return f"{run['status']}: {run['commit'][:7]} on {run['ref']}: {last}"
