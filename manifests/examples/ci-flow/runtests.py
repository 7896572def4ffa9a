"""Step 2 of the CI Sequence: run the project's test command in the checkout.

The command and its timeout come from the project's `.ripple-ci.json`
(`{"command": "...", "timeout_s": 60}`), else `python -m unittest discover -v` and
`CI_TEST_TIMEOUT`. The exit code and the tail of the output go into the run; a failing
test is a result, not an error. A command that outlives its timeout is killed and the step
raises: the event goes to the Sequence's dead-letter sink and the report says "error".
After a crash (a `ripple up` killed mid-run) the event is delivered again and the tests
run again, in the workspace checkout left, or a fresh clone.
"""

import ciflow


def main(event, context):
    run = ciflow.run_of(event)
    with ciflow.step(run, "test") as entry:
        path = ciflow.checkout(run)
        command, timeout = ciflow.test_command(path)
        run["test"] = ciflow.run_tests(command, path, timeout)
        entry["status"] = "ok" if run["test"]["exit_code"] == 0 else "failed"
    return ciflow.reply(run, ciflow.TESTED)
