"""`ripple apply -f` and `ripple delete -f`: manifests in, kubectl-style one-line results out.

`register` is called by `ripple.cli.main`; `delete_files` by `resources.run_delete`.
Loading is done, and every document checked, before the first request, so a typo in the
third file stops the run before the first file is applied. Apply is create-or-replace:
POST, and on 409 a PUT of the current object carrying the manifest's fields, merged by
`ripple.merging` (the rule `ripple up -f` uses too). Manifests are read by
`ripple.decoding`, the server's own decoder.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from ripple import errors, merging
from ripple.cli.client import ApiError, Client
from ripple.cli.commands import common, waiting

EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Document:
    source: str
    index: int
    obj: dict[str, Any]

    @property
    def label(self) -> str:
        meta = self.obj.get("metadata") or {}
        return f"{self.source} (document {self.index}, {self.obj.get('kind')}/{meta.get('name')})"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    parser = commands.add_parser("apply", parents=parents, help="create or update from manifests")
    parser.add_argument("-f", "--filename", action="append", required=True,
                        help="a FILE, a DIR of *.yaml/*.yml/*.json, or - for stdin; repeatable")
    parser.add_argument("-R", "--recursive", action="store_true", help="walk DIRs recursively")
    common.add_namespace(parser)
    waiting.add_wait_flags(parser, "--timeout")
    parser.set_defaults(handler=run_apply)


def run_apply(args: argparse.Namespace, api: Client) -> int:
    docs = load_documents(args.filename, sys.stdin, recursive=args.recursive)
    if not docs:
        raise errors.Invalid(no_objects(args.filename, args.recursive))
    for doc in docs:
        try:
            print(apply_one(api, doc.obj, common.namespace(args)), flush=True)
        except errors.RippleError as failure:
            raise errors.RippleError(f"{doc.label}: {failure}") from None
    if args.wait:  # after every object is applied: they become Ready together
        for doc in docs:
            rtype = api.type_of(doc.obj["apiVersion"], doc.obj["kind"])
            meta = doc.obj["metadata"]
            ns = (meta.get("namespace") or common.namespace(args)) if rtype.namespaced else None
            waiting.created(args, api, rtype, ns, meta["name"])
    return 0


def no_objects(paths: list[str], recursive: bool) -> str:
    """kubectl's "no objects passed to apply", with a hint when -R would have found some."""
    message = "no objects passed to apply"
    if not recursive and any(os.path.isdir(p) and _files(p, True) for p in paths if p != "-"):
        message += " (the manifests are in subdirectories: add -R/--recursive)"
    return message


def delete_files(api: Client, args: argparse.Namespace) -> int:
    docs = load_documents(args.filename, sys.stdin, recursive=args.recursive)
    if not docs:
        raise errors.Invalid(no_objects(args.filename, args.recursive).replace("apply", "delete"))
    for doc in docs:
        try:
            rtype = api.type_of(doc.obj["apiVersion"], doc.obj["kind"])
            name = doc.obj["metadata"]["name"]
            ns = doc.obj["metadata"].get("namespace") or common.namespace(args)
            api.call("DELETE", rtype.path(ns, name))
        except ApiError as failure:
            if failure.code == 404 and args.ignore_not_found:
                continue
            raise errors.RippleError(f"{doc.label}: {failure}") from None
        except errors.RippleError as failure:
            raise errors.RippleError(f"{doc.label}: {failure}") from None
        print(f'{rtype.qualified} "{name}" deleted')
    return 0


def apply_one(api: Client, desired: dict[str, Any], default_ns: str) -> str:
    """Create or replace one object; returns kubectl's line, e.g. `broker.x/default created`."""
    rtype = api.type_of(desired["apiVersion"], desired["kind"])
    meta = dict(desired["metadata"])
    ns = (meta.get("namespace") or default_ns) if rtype.namespaced else None
    if ns is not None:
        meta["namespace"] = ns
    desired = {**desired, "metadata": meta}
    name = meta["name"]
    title = f"{rtype.qualified}/{name}"
    try:
        api.call("POST", rtype.path(ns), desired)
        return f"{title} created"
    except ApiError as failure:
        if failure.code != 409:
            raise
    current = api.call("GET", rtype.path(ns, name))
    merged = merging.merge_for_update(current, desired)
    if merging.unchanged(current, merged):
        return f"{title} unchanged"
    stored = api.call("PUT", rtype.path(ns, name), merged)
    return f"{title} {merging.outcome(current, stored)}"


def load_documents(paths: list[str], stdin: TextIO, *, recursive: bool = False) -> list[Document]:
    """Every document of every path, in order: DIRs in sorted order, `-` for stdin."""
    docs: list[Document] = []
    for path in paths:
        if path == "-":
            docs += parse_documents(stdin.read(), "<stdin>")
            continue
        if not os.path.exists(path):
            raise errors.Invalid(f'the path "{path}" does not exist')
        for file in _files(path, recursive) if os.path.isdir(path) else [path]:
            with open(file, encoding="utf-8") as handle:
                docs += parse_documents(handle.read(), file)
    return docs


def _files(directory: str, recursive: bool) -> list[str]:
    found = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        found += [os.path.join(root, n) for n in sorted(names) if n.endswith(EXTENSIONS)]
        if not recursive:
            break
    return found


def parse_documents(text: str, source: str) -> list[Document]:
    """The objects in one YAML (multi-document) or JSON text; Lists are expanded."""
    # The server's decoder (ripple.api.loading uses it too); only manifest commands pay
    # for PyYAML's import.
    from ripple import decoding

    try:
        loaded = decoding.decode(text, as_json=source.endswith(".json"))
    except decoding.DecodeError as failure:
        where = f" (document {failure.document + 1})" if failure.document else ""
        raise errors.Invalid(f"{source}{where}: cannot parse: {failure.message}") from None
    objects: list[Any] = []
    for item in loaded:
        if decoding.is_list(item):
            objects += item["items"] or []
        elif item is not None:  # a `---` with nothing after it
            objects.append(item)
    docs = [Document(source, i, obj) for i, obj in enumerate(objects, start=1)]
    for doc in docs:
        check_document(doc)
    return docs


def check_document(doc: Document) -> None:
    """kubectl's client-side checks: an object with apiVersion, kind and metadata.name."""
    if not isinstance(doc.obj, dict):
        raise errors.Invalid(f"{doc.source} (document {doc.index}): not an object")
    missing = [k for k in ("apiVersion", "kind") if not doc.obj.get(k)]
    meta = doc.obj.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        missing.append("metadata.name")
    if missing:
        raise errors.Invalid(f"{doc.source} (document {doc.index}): {', '.join(missing)} not set")
