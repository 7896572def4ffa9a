"""Git pushes as GitHub delivers them: a throwaway repository, the push payload, the signature.

Used by the CI demo (`ripple.cli.demo.ci`) and its e2e test. `Repository` makes a bare
"remote" and a working clone on disk and pushes commits to it with the real `git`;
`github_push` builds the body GitHub posts for a push (the shape of GitHub's documented
payload, as in octokit/webhooks' examples), and `github_headers` the headers that come with
it, `X-Hub-Signature-256` included (HMAC-SHA256 of the exact body, hex, `sha256=` prefix).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

ZERO_SHA = "0" * 40
AUTHOR = {"name": "Ripple Demo", "email": "demo@ripple.invalid", "username": "ripple-demo"}


@dataclasses.dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    message: str
    timestamp: str
    added: list[str]
    modified: list[str]
    removed: list[str]


@dataclasses.dataclass(frozen=True)
class Push:
    ref: str
    before: str
    after: str
    commits: list[Commit]


class Repository:
    """A bare repository at `<root>/origin.git` (what a clone URL names) and a working
    clone at `<root>/work`, on branch `branch`."""

    def __init__(self, root: Path, full_name: str = "example/hello-ripple",
                 branch: str = "main") -> None:
        self.root, self.full_name, self.branch = root, full_name, branch
        self.origin, self.work = root / "origin.git", root / "work"

    @property
    def clone_url(self) -> str:
        return self.origin.resolve().as_uri()

    def create(self) -> Repository:
        self.root.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", f"--initial-branch={self.branch}", str(self.origin))
        git("init", "--quiet", f"--initial-branch={self.branch}", str(self.work))
        git("remote", "add", "origin", str(self.origin), cwd=self.work)
        return self

    def head(self) -> str:
        return self.rev_parse("HEAD") if (self.work / ".git").exists() else ZERO_SHA

    def rev_parse(self, what: str) -> str:
        try:
            return git("rev-parse", "--verify", "--quiet", what, cwd=self.work)
        except RuntimeError:
            return ZERO_SHA

    def commit(self, files: dict[str, str], message: str) -> Commit:
        """Write `files` (path -> text), commit them; what changed is read back from git."""
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("add", "--all", cwd=self.work)
        git("-c", f"user.name={AUTHOR['name']}", "-c", f"user.email={AUTHOR['email']}",
            "commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        sha = self.rev_parse("HEAD")
        changes = git("show", "--name-status", "--format=", sha, cwd=self.work).splitlines()
        by_kind: dict[str, list[str]] = {"A": [], "M": [], "D": []}
        for line in changes:
            kind, _, name = line.partition("\t")
            by_kind.setdefault(kind[:1], []).append(name)
        return Commit(sha=sha, tree=git("rev-parse", f"{sha}^{{tree}}", cwd=self.work),
                      message=message,
                      timestamp=git("show", "-s", "--format=%cI", sha, cwd=self.work),
                      added=by_kind["A"], modified=by_kind["M"], removed=by_kind["D"])

    def push(self, commits: list[Commit]) -> Push:
        """`git push origin <branch>`: what the remote had before, and what it has now."""
        before = git_or_zero(self.origin, f"refs/heads/{self.branch}")
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{self.branch}", cwd=self.work)
        after = git_or_zero(self.origin, f"refs/heads/{self.branch}")
        return Push(ref=f"refs/heads/{self.branch}", before=before, after=after, commits=commits)


def github_push(repository: Repository, push: Push, *, now: float | None = None) -> dict[str, Any]:
    """The body of GitHub's `push` webhook for `push` to `repository`."""
    owner, _, name = repository.full_name.partition("/")
    html = f"https://github.com/{repository.full_name}"
    pushed_at = int(now if now is not None else time.time())
    user = {"login": owner, "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": False,
            "html_url": f"https://github.com/{owner}", "url": f"https://api.github.com/users/{owner}"}
    commits = [_commit(html, c) for c in push.commits]
    return {
        "ref": push.ref,
        "before": push.before,
        "after": push.after,
        "repository": {
            "id": 1, "node_id": "MDEwOlJlcG9zaXRvcnkx", "name": name,
            "full_name": repository.full_name, "private": False,
            "owner": {"name": owner, "email": None, **user},
            "html_url": html, "description": "A throwaway repository for Ripple's CI demo",
            "fork": False, "url": html, "created_at": pushed_at, "pushed_at": pushed_at,
            "git_url": repository.clone_url, "ssh_url": repository.clone_url,
            "clone_url": repository.clone_url, "svn_url": html, "homepage": None, "size": 0,
            "language": "Python", "default_branch": repository.branch,
            "master_branch": repository.branch, "archived": False, "disabled": False,
            "visibility": "public", "topics": [],
        },
        "pusher": {"name": AUTHOR["username"], "email": AUTHOR["email"]},
        "sender": user,
        "created": push.before == ZERO_SHA,
        "deleted": push.after == ZERO_SHA,
        "forced": False,
        "base_ref": None,
        "compare": f"{html}/compare/{push.before[:12]}...{push.after[:12]}",
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
    }


def _commit(html: str, commit: Commit) -> dict[str, Any]:
    person = dict(AUTHOR)
    return {"id": commit.sha, "tree_id": commit.tree, "distinct": True, "message": commit.message,
            "timestamp": commit.timestamp, "url": f"{html}/commit/{commit.sha}",
            "author": person, "committer": person, "added": commit.added,
            "removed": commit.removed, "modified": commit.modified}


def encode(payload: dict[str, Any]) -> bytes:
    """The body as GitHub sends it: JSON, compact."""
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(event: str, body: bytes, secret: str,
                   delivery: str | None = None) -> dict[str, str]:
    """The headers of one GitHub delivery (a new `X-GitHub-Delivery` GUID unless given)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/ripple-demo",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-GitHub-Hook-Installation-Target-ID": "1",
        "X-Hub-Signature-256": signature(secret, body),
    }


def git_or_zero(repository: Path, ref: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", ref, cwd=repository)
    except RuntimeError:
        return ZERO_SHA


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git; its stdout, stripped. RuntimeError with git's message when it fails."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])}: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()
