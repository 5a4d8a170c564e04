#!/usr/bin/env python3
"""Validate a real evidence folder's outputs against schemas/ (JSON Schema 2020-12, `jsonschema` from PyPI).

Usage: validate_schemas.py SCHEMAS_DIR FOLDER INCIDENT — prints one count per schema; exit 1 on any invalid document.
       validate_schemas.py SCHEMAS_DIR --plan PLAN.json… — saved plans (`evidence plan --out`) against plan.schema.json.
"""
import json
import os
import sys

from jsonschema import Draft202012Validator


def validator(schemas_dir, name):
    with open(os.path.join(schemas_dir, f"{name}.schema.json")) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def report(schemas_dir, docs):
    """Validate {schema name: [(where, document)]}; print one count per schema; 1 when any is invalid."""
    bad = 0
    counts = []
    for name, items in docs.items():
        v = validator(schemas_dir, name)
        for where, doc in items:
            for error in v.iter_errors(doc):
                bad += 1
                print(f"INVALID {name} {where}: {error.json_path}: {error.message}", file=sys.stderr)
        counts.append(f"{name}: {len(items)} valid" if items else f"{name}: none")
    print("; ".join(counts))
    return 1 if bad else 0


def main(schemas_dir, folder, incident):
    root = os.path.join(folder, incident)
    docs = {name: [] for name in ("journal-event", "manifest", "release-record", "signature", "custody-entry")}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            part = os.path.relpath(dirpath, root).split(os.sep)[0]
            if name.endswith(".sig.json"):
                docs["signature"].append((path, json.load(open(path))))
            elif part == "journal" and name.endswith(".ndjson"):
                for n, line in enumerate(open(path).read().splitlines(), start=1):
                    docs["journal-event"].append((f"{path}:{n}", json.loads(line)))
            elif part == "manifest":
                docs["manifest"].append((path, json.load(open(path))))
            elif part == "release":
                docs["release-record"].append((path, json.load(open(path))))
            elif part == "custody":
                docs["custody-entry"].append((path, json.load(open(path))))
    return report(schemas_dir, docs)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "--plan":
        sys.exit(report(sys.argv[1], {"plan": [(p, json.load(open(p))) for p in sys.argv[3:]]}))
    sys.exit(main(*sys.argv[1:4]))
