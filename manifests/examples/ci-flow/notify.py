"""The notifier: a Trigger sends it the failed and errored CI results.

It logs one line per failure and appends it to `notifications.jsonl` in the CI state
dir, once per run (a redelivered result is not notified twice). Replace the body with a
chat webhook or an e-mail.
"""

import fcntl
import json

import ciflow


def main(event, context):
    run = ciflow.data_of(event)
    line = (f"CI {run['status'].upper()}: {run['repository']} {run['commit'][:7]} "
            f"on {run['ref']}: {run.get('reason', '')}")
    path = ciflow.state_dir() / "notifications.jsonl"
    with open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        if any(json.loads(seen).get("run") == run["run"] for seen in file if seen.strip()):
            return None
        file.write(json.dumps({"run": run["run"], "at": ciflow.now(), "message": line}) + "\n")
    context.logger.warning("%s", line)
    return None
