#!/usr/bin/env python3
"""An independent verifier of a holdfast evidence folder, written from docs/evidence-format.md alone.

Usage: verify_evidence.py FOLDER|s3://BUCKET[/PREFIX] INCIDENT [--public-key PEM] [--require-signature]
                          [--aws-endpoint URL] [--s3-endpoint URL] [--json]
Exit: 0 nothing failed, 5 something failed (each failure printed), 2 no journal for the incident.

Standard library, plus `cryptography` (from PyPI) for Ed25519 and ECDSA P-256 signatures, and `boto3`
for a store on S3. A downloaded FOLDER holds the current version of every object, so versions cannot
be checked there. Given s3://BUCKET[/PREFIX] (S3 mode; credentials and region as boto3 finds them,
--s3-endpoint or AWS_ENDPOINT_URL for another endpoint), it reads every record, pinned journal copy
and artifact at exactly the VersionId the journal or a seal records, fails when a newer version of
such an object exists, and checks each artifact's Object Lock against what `preservation` records.
Platform-held evidence (snapshots) is reported "not checked (offline)" unless --aws-endpoint is given
(e.g. https://ec2.us-east-1.amazonaws.com style endpoints are derived per service when it is "aws"):
then each EBS/RDS snapshot is described through the AWS Query API, signed with SigV4 from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), and checked as section 9 step 6 says.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

ZERO = "0" * 64
SEAL_TYPES = ("capture.sealed", "release.sealed")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# --- RFC 8785 canonical JSON (section "Words") ---------------------------------------------------

def _number(n):
    if isinstance(n, bool):
        return "true" if n else "false"
    if isinstance(n, int):
        return str(n)
    if n.is_integer() and abs(n) < 1e21:
        return str(int(n))
    text = repr(n)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    return text


def canonical(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in keys) + "}"
    raise ValueError(f"not JSON: {value!r}")


# --- reading the folder ----------------------------------------------------------------------------

class Store:
    """A downloaded folder: one (current) version per key, no locks to read."""
    versioned = False

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def path(self, key):
        return os.path.join(self.root, *key.split("/"))

    def read(self, key, version=None):
        with open(self.path(key), "rb") as f:
            return f.read()

    def chunks(self, key, version=None):
        with open(self.path(key), "rb") as f:
            yield from iter(lambda: f.read(1 << 20), b"")

    def exists(self, key):
        return os.path.isfile(self.path(key))

    def list(self, prefix):
        base = self.path(prefix)
        if not os.path.isdir(base):
            return []
        out = []
        for dirpath, _, files in os.walk(base):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), self.root).replace(os.sep, "/")
                out.append(rel)
        return sorted(out)


class S3Store:
    """A store on S3 (section 1): objects read by VersionId; the current version and lock read with HeadObject."""
    versioned = True

    def __init__(self, url, endpoint=None):
        import boto3
        from botocore.config import Config

        bucket, _, prefix = url[len("s3://"):].partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.s3 = boto3.client("s3", endpoint_url=endpoint or os.environ.get("AWS_ENDPOINT_URL") or None,
                               region_name=os.environ.get("AWS_REGION") or "us-east-1",
                               config=Config(s3={"addressing_style": "path"}))

    def _key(self, key):
        return f"{self.prefix}/{key}" if self.prefix else key

    def _args(self, key, version):
        return {"Bucket": self.bucket, "Key": self._key(key), **({"VersionId": version} if version else {})}

    def read(self, key, version=None):
        return self.s3.get_object(**self._args(key, version))["Body"].read()

    def chunks(self, key, version=None):
        yield from self.s3.get_object(**self._args(key, version))["Body"].iter_chunks(1 << 20)

    def exists(self, key):
        try:
            self.s3.head_object(**self._args(key, None))
            return True
        except Exception:  # noqa: BLE001 - any failure to find it is "missing"
            return False

    def list(self, prefix):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for o in page.get("Contents", []):
                out.append(o["Key"][len(self.prefix) + 1:] if self.prefix else o["Key"])
        return sorted(out)

    def current_version(self, key):
        return self.s3.head_object(**self._args(key, None)).get("VersionId")

    def lock(self, key, version):
        """(mode or None, retain-until as a UTC datetime or None, legal hold on) of one version."""
        head = self.s3.head_object(**self._args(key, version))
        return head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate"), head.get("ObjectLockLegalHoldStatus") == "ON"


def newer_version(store, key, version):
    """Section 4 / 9: on a store with versions, a recorded version MUST still be the key's current one."""
    if not store.versioned or not version:
        return None
    current = store.current_version(key)
    return None if current == version else f"a newer version ({current}) of {key} replaced the recorded {version}"


def weakened_lock(store, key, version, preservation):
    """Section 9 step 6: an Object Lock weaker than `preservation` records (mode, retain-until, legal hold)."""
    p = preservation or {}
    if not store.versioned or p.get("lockMode") in (None, "none"):
        return None
    mode, until, hold = store.lock(key, version)
    if not mode:
        return f"recorded {p['lockMode']}, now no retention"
    if p["lockMode"] == "COMPLIANCE" and mode != "COMPLIANCE":
        return f"recorded COMPLIANCE, now {mode}"
    if p.get("retainUntil"):
        recorded = datetime.datetime.fromisoformat(p["retainUntil"].replace("Z", "+00:00"))
        if until is None or until < recorded:
            return f"retention shortened from {p['retainUntil']} to {until}"
    if p.get("legalHold") is True and not hold:
        return "legal hold removed"
    return None


class Report:
    def __init__(self):
        self.items = []

    def add(self, ok, kind, key, detail, status=None):
        self.items.append({"status": status or ("ok" if ok else "failed"), "kind": kind, "id": key, "detail": detail})

    @property
    def failed(self):
        return [i for i in self.items if i["status"] == "failed"]


# --- section 2: the chain --------------------------------------------------------------------------

def check_chain(data):
    problems, events = [], []
    text = data.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    else:
        problems.append("the copy does not end with a newline")
    prev = ZERO
    for n, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
        except ValueError:
            problems.append(f"line {n}: not JSON")
            prev = sha256(line.encode())
            continue
        if event.get("prev") != prev:
            problems.append(f"line {n}: prev does not match line {n - 1}")
        if event.get("seq") != n:
            problems.append(f"line {n}: seq {event.get('seq')}, expected {n}")
        if canonical(event) != line:
            problems.append(f"line {n}: not canonical JSON")
        events.append(event)
        prev = sha256(line.encode())
    return events, prev, problems


# --- section 7: signatures -------------------------------------------------------------------------

def signed_message(kind, incident, digest, key_id):
    return f"holdfast-signature-v2\nkind={kind}\nincident={incident}\nsha256={digest}\nsigner={key_id}\n".encode()


def check_signature(record, kind, incident, digest, run_signer, pinned_pem):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if record.get("schema") != "holdfast/signature@2":
        return f"signature schema {record.get('schema')!r}"
    if record.get("kind") != kind or record.get("incident") != incident or record.get("recordSha256") != digest:
        return "signature is for another record"
    try:
        key = serialization.load_pem_public_key(record["publicKey"].encode())
    except Exception as error:  # noqa: BLE001 - any unreadable key is a failure
        return f"public key unreadable: {error}"
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    fingerprint = sha256(der)
    if pinned_pem is not None:
        pinned = serialization.load_pem_public_key(pinned_pem.encode()).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if sha256(pinned) != fingerprint:
            return "signed by a key other than the pinned one"
    if run_signer is None:
        return "signed, but the journal records no signer for this run"
    if run_signer.get("publicKeyFingerprint") != fingerprint or run_signer.get("keyId") != record.get("keyId"):
        return f"signed by {record.get('keyId')}, the journal records {run_signer.get('keyId')}"
    signed = hashlib.sha256(signed_message(kind, incident, digest, record["keyId"])).digest()
    signature = base64.b64decode(record["signature"])
    try:
        if record["algorithm"] == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signed)
        elif record["algorithm"] == "ecdsa-p256-sha256" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
        else:
            return f"algorithm {record.get('algorithm')} does not match the key"
    except InvalidSignature:
        return "signature does not verify"
    return None


# --- sections 5 and 6: folds -----------------------------------------------------------------------

def fold_manifest(events, plan_steps):
    artifacts, changes, steps, limitations = {}, {}, {}, []
    starts = [e for e in events if e["type"] == "capture.started"]
    for e in events:
        t = e["type"]
        if t == "artifact.recorded":
            artifacts.pop(e["artifact"]["id"], None)
            artifacts[e["artifact"]["id"]] = e["artifact"]
        elif t == "change.recorded":
            changes.pop(e["change"]["id"], None)
            changes[e["change"]["id"]] = e["change"]
        elif t == "capture.limitation":
            if e["message"] not in limitations:
                limitations.append(e["message"])
        elif t in ("step.started", "step.done", "step.failed", "step.skipped"):
            s = steps.setdefault(e["stepId"], {"status": "started"})
            if t == "step.started":
                s["status"] = "started"
            elif t == "step.done":
                s.update(status="done", limitations=e["limitations"], failure=None)
            elif t == "step.failed":
                s.update(status="failed", failure={k: e[k] for k in ("stepId", "code", "message", "retryable")})
            elif s["status"] != "done":
                s.update(status="waiting" if e["reason"] == "awaits-approval" else "skipped", detail=e["detail"])
    for s in steps.values():
        for text in s.get("limitations") or []:
            if text not in limitations:
                limitations.append(text)
    ids = [p["id"] for p in plan_steps]
    failures, waiting = [], []
    for sid in ids:
        s = steps.get(sid)
        if s is None or s["status"] == "started":
            failures.append({"stepId": sid, "code": "NOT_RUN", "message": "step did not finish (interrupted)"})
        elif s["status"] == "failed" and s.get("failure"):
            failures.append(s["failure"])
        elif s["status"] == "skipped":
            failures.append({"stepId": sid, "code": "SKIPPED", "message": s.get("detail") or "skipped"})
        elif s["status"] == "waiting":
            waiting.append({"stepId": sid, "detail": s.get("detail") or "awaits approval"})
    statuses = [steps[sid]["status"] if sid in steps else None for sid in ids]
    if any(st in ("failed", "skipped", "started", None) for st in statuses):
        status = "failed" if all(st != "done" for st in statuses) else "partial"
    elif "waiting" in statuses:
        status = "awaiting-approval"
    else:
        status = "complete"
    return {
        "incident": events[0]["incident"] if events else "",
        "captureId": starts[0]["captureId"] if starts else "",
        "planDigest": starts[-1]["planDigest"] if starts else "",
        "operator": starts[-1]["operator"] if starts else {},
        "tool": starts[-1]["tool"] if starts else {},
        "startedAt": events[0]["at"] if events else None,
        "status": status,
        "steps": [steps[sid]["status"] if sid in steps else "not-run" for sid in ids],
        "artifacts": [a for a in artifacts.values() if a["stepId"] in ids],
        "changes": list(changes.values()),
        "failures": failures,
        "waiting": waiting,
        "limitations": limitations,
    }


def fold_release(events, since, incident, ended_at):
    segment = events[since:]
    record = {"schema": "holdfast/release-record@1", "incident": incident,
              "startedAt": segment[0]["at"] if segment else ended_at, "endedAt": ended_at,
              "restored": [], "left": [], "failed": []}
    for e in segment:
        if e["type"] == "change.released":
            if e["restored"]:
                record["restored"].append(e["changeId"])
            else:
                record["left"].append({"changeId": e["changeId"], "note": e.get("note", "")})
        elif e["type"] == "release.failed":
            record["failed"].append({k: e[k] for k in ("changeId", "code", "message")})
    return record


# --- section 9 step 6: platform-held evidence, online ----------------------------------------------

def aws_query(endpoint, service, region, params):
    """POST an AWS Query API call signed with SigV4; returns (status, XML root)."""
    if endpoint == "aws":
        endpoint = f"https://{service}.{region}.amazonaws.com"
    url = urllib.parse.urlparse(endpoint)
    body = urllib.parse.urlencode(sorted(params.items())).encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": url.netloc, "x-amz-date": amz_date}
    if os.environ.get("AWS_SESSION_TOKEN"):
        headers["x-amz-security-token"] = os.environ["AWS_SESSION_TOKEN"]
    signed = ";".join(sorted(headers))
    canonical_request = "\n".join(["POST", url.path or "/", "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, sha256(body)])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha256(canonical_request.encode())])
    key = ("AWS4" + os.environ.get("AWS_SECRET_ACCESS_KEY", "")).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={os.environ.get('AWS_ACCESS_KEY_ID', '')}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, ET.fromstring(response.read())
    except urllib.error.HTTPError as error:
        return error.code, ET.fromstring(error.read() or b"<Error/>")


def _find(node, name):
    return [e for e in node.iter() if e.tag.split("}")[-1] == name]


def _text(node, name):
    found = _find(node, name)
    return found[0].text if found else None


def _same_time(a, b):
    # To the nearest millisecond, as the manifest records times; the API may answer with microseconds.
    def parse(t):
        moment = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
        return round(moment.timestamp() * 1000)

    try:
        return a is not None and b is not None and parse(a) == parse(b)
    except ValueError:
        return False


def check_held(endpoint, artifact):
    """A problem text, or None when the snapshot is as recorded."""
    location, source = artifact.get("location") or {}, artifact.get("source") or {}
    region, sid = location.get("region") or "us-east-1", location.get("snapshotId")
    recorded_tags = (artifact.get("preservation") or {}).get("tags") or {}
    if artifact["type"] in ("ebs-snapshot", "ebs-snapshot-copy"):
        status, root = aws_query(endpoint, "ec2", region, {"Action": "DescribeSnapshots", "Version": "2016-11-15", "SnapshotId.1": sid})
        items = [i for i in _find(root, "item") if _text(i, "snapshotId") == sid]
        if status >= 400 or not items:
            return f"snapshot {sid} no longer exists"
        snap = items[0]
        tags = {_text(t, "key"): _text(t, "value") for t in _find(snap, "tagSet")[0]} if _find(snap, "tagSet") else {}
        problems = []
        if _text(snap, "status") != "completed":
            problems.append(f"state {_text(snap, 'status')}")
        if source.get("volumeId") and _text(snap, "volumeId") != source["volumeId"]:
            problems.append("source volume differs")
        if artifact["type"] == "ebs-snapshot" and not _same_time(_text(snap, "startTime"), artifact.get("acquiredAt")):
            problems.append(f"started {_text(snap, 'startTime')}, recorded {artifact.get('acquiredAt')}")
    elif artifact["type"] in ("rds-snapshot", "rds-cluster-snapshot"):
        cluster = artifact["type"] == "rds-cluster-snapshot"
        params = {"Action": "DescribeDBClusterSnapshots" if cluster else "DescribeDBSnapshots", "Version": "2014-10-31",
                  "DBClusterSnapshotIdentifier" if cluster else "DBSnapshotIdentifier": sid}
        status, root = aws_query(endpoint, "rds", region, params)
        found = _find(root, "DBClusterSnapshot" if cluster else "DBSnapshot")
        if status >= 400 or not found:
            return f"{artifact['type']} {sid} no longer exists"
        snap = found[0]
        tags = {_text(t, "Key"): _text(t, "Value") for t in _find(snap, "Tag")}
        problems = []
        if _text(snap, "Status") != "available":
            problems.append(f"status {_text(snap, 'Status')}")
        recorded = source.get("dbCluster" if cluster else "dbInstance")
        now = _text(snap, "DBClusterIdentifier" if cluster else "DBInstanceIdentifier")
        if recorded and now and now != recorded:
            problems.append("source database differs")
        if _text(snap, "SnapshotCreateTime") and not _same_time(_text(snap, "SnapshotCreateTime"), artifact.get("acquiredAt")):
            problems.append(f"created {_text(snap, 'SnapshotCreateTime')}, recorded {artifact.get('acquiredAt')}")
    else:
        return "unknown platform-held type"
    missing = [f"{k}={v}" for k, v in recorded_tags.items() if tags.get(k) != v]
    if missing:
        problems.append("tags changed or removed: " + ", ".join(missing))
    return f"{sid}: " + "; ".join(problems) if problems else None


# --- section 9: the algorithm ----------------------------------------------------------------------

def verify(store, incident, pinned_pem=None, require_signature=False, aws_endpoint=None):
    report = Report()
    keys = [k for k in store.list(f"{incident}/journal/") if k.endswith(".ndjson")]
    if not keys:
        return None
    copies = {k: store.read(k) for k in keys}
    newest_key = max(keys, key=lambda k: len(copies[k]))
    newest = copies[newest_key]
    events, head, problems = check_chain(newest)
    for p in problems:
        report.add(False, "journal", newest_key, p)
    for key, data in copies.items():
        if not newest.startswith(data):
            report.add(False, "journal", key, "copy is not a beginning of the newest copy")

    seals = [i for i, e in enumerate(events) if e.get("type") in SEAL_TYPES]
    if not seals:
        report.add(False, "seal", newest_key, "no seal")
    elif seals[-1] != len(events) - 1:
        tail = events[seals[-1] + 1:]
        report.add(False, "journal", newest_key,
                   f"unsealed tail: lines {seals[-1] + 2}-{len(events)} ({', '.join(sorted({e['type'] for e in tail}))})")
    elif events[seals[-1]]["journalKey"] != newest_key:
        report.add(False, "journal", newest_key, "the newest copy is not the one the last seal names")

    first_signer = next(((i, e["signer"]) for i, e in enumerate(events)
                         if e.get("type") in ("capture.started", "release.started") and e.get("signer")), None)
    pins, manifest = {}, None
    for n, p in enumerate(seals):
        line = events[p]
        kind = "manifest" if line["type"] == "capture.sealed" else "release"
        record_key = line["manifestKey"] if kind == "manifest" else line["recordKey"]
        digest_sealed = line["manifestSha256"] if kind == "manifest" else line["recordSha256"]
        record_version = line.get("manifestVersionId") if kind == "manifest" else line.get("recordVersionId")
        try:
            data = store.read(record_key, record_version)
        except Exception as error:  # noqa: BLE001 - a missing key or version is a failure, named
            report.add(False, "seal", record_key, f"record missing: {error}")
            continue
        digest = sha256(data)
        replaced = newer_version(store, record_key, record_version)
        report.add(digest == digest_sealed and not replaced, "seal", record_key,
                   replaced or ("digest matches" if digest == digest_sealed else f"digest {digest} differs from sealed {digest_sealed}"))
        # signatures (section 7)
        run_signer = None
        for e in reversed(events[:p]):
            if e["type"] in ("capture.started", "release.started"):
                run_signer = e.get("signer")
                break
        must = first_signer is not None and first_signer[0] < p
        sig_key = line.get("signatureKey")
        if not sig_key:
            ok = not (must or run_signer or require_signature or pinned_pem)
            report.add(ok, "signature", record_key, "not signed" if ok else "not signed, but a signature is required")
        elif not store.exists(sig_key):
            report.add(False, "signature", sig_key, "signature record missing")
        elif must and (run_signer or {}).get("publicKeyFingerprint") != first_signer[1]["publicKeyFingerprint"]:
            report.add(False, "signature", sig_key, "run signer differs from the incident's first signer")
        else:
            try:
                sig = json.loads(store.read(sig_key))
                problem = check_signature(sig, kind, incident, digest, run_signer, pinned_pem)
            except (ValueError, KeyError) as error:
                problem = f"signature record unreadable: {error}"
            report.add(problem is None, "signature", sig_key, problem or "valid")
        # content (sections 5, 6)
        try:
            record = json.loads(data)
        except ValueError:
            report.add(False, kind, record_key, "not JSON")
            continue
        before = events[:p]
        j = record.get("journal") or {}
        covered = j.get("head") == line["prev"] and j.get("events") == p and j.get("key") == line["journalKey"]
        if kind == "manifest":
            folded = fold_manifest(before, record.get("steps") or [])
            got = {k: record.get(k) for k in folded if k != "steps"}
            got["steps"] = [s.get("status") for s in record.get("steps") or []]
            same = got == folded and record.get("schema") == "holdfast/manifest@1"
            manifest = record if same and covered else None
        else:
            since = seals[n - 1] + 1 if n > 0 else 0
            folded = fold_release(before, since, incident, record.get("endedAt"))
            got = {k: record.get(k) for k in folded}
            same = got == folded
        differs = [k for k in folded if got.get(k) != folded[k]]
        report.add(same and covered, kind, record_key,
                   "matches the journal" if same and covered
                   else f"differs from the journal ({', '.join(differs) or 'journal coverage'})")
        for pin in j.get("copies") or []:
            pins[(pin["key"], pin.get("versionId"))] = pin

    for (key, version), pin in pins.items():
        try:
            data = store.read(key, version)
        except Exception as error:  # noqa: BLE001
            report.add(False, "journal", key, f"pinned copy missing{f' at version {version}' if version else ''}: {error}")
            continue
        replaced = newer_version(store, key, version)
        if sha256(data) != pin["sha256"] or len(data) != pin["size"]:
            report.add(False, "journal", key, "pinned copy differs from its pin")
        elif not newest.startswith(data):
            report.add(False, "journal", key, "pinned copy is not a beginning of the newest copy")
        elif replaced:
            report.add(False, "journal", key, f"{replaced} (pinned by a seal)")

    for artifact in (manifest or {}).get("artifacts", []):
        key = (artifact.get("location") or {}).get("key")
        if not key:
            if aws_endpoint is None:
                report.add(False, "artifact", artifact["id"], "held by the platform: not checked (offline)", "not-checked")
            else:
                problem = check_held(aws_endpoint, artifact)
                report.add(problem is None, "artifact", artifact["id"], problem or "snapshot exists as recorded")
            continue
        version = (artifact.get("location") or {}).get("versionId")
        h, size, head, tail = hashlib.sha256(), 0, b"", b""
        try:
            for chunk in store.chunks(key, version):
                h.update(chunk)
                size += len(chunk)
                head = (head + chunk)[:8] if len(head) < 8 else head
                tail = (tail + chunk)[-2:]
        except Exception as error:  # noqa: BLE001
            report.add(False, "artifact", artifact["id"], f"{key} missing: {error}")
            continue
        problem = None
        if h.hexdigest() != artifact.get("sha256") or size != artifact.get("size"):
            problem = f"sha256 {h.hexdigest()} ({size} bytes) differs"
        else:
            problem = (newer_version(store, key, version) or weakened_lock(store, key, version, artifact.get("preservation"))
                       or check_content(artifact, head, tail))
        report.add(problem is None, "artifact", artifact["id"], problem or "bytes match")

    check_custody(store, incident, first_signer[1] if first_signer else None, report)
    if not report.failed and not [i for i in report.items if i["kind"] == "journal"]:
        report.add(True, "journal", newest_key, f"{len(events)} events, chain intact, every event sealed")
    if not store.versioned:
        recorded = [e for e in events if e.get("manifestVersionId") or e.get("recordVersionId")]
        recorded += [p for p in pins.values() if p.get("versionId")]
        recorded += [a for a in (manifest or {}).get("artifacts", []) if (a.get("location") or {}).get("versionId")]
        if recorded:
            report.add(False, "journal", f"{incident}/", f"{len(recorded)} recorded S3 versions (and their locks): not checked "
                       "(a folder holds one version per key; verify the bucket itself)", "not-checked")
    return report


def check_content(artifact, head, tail):
    """Section 5: what an artifact type's bytes must look like, beyond their hash."""
    if artifact["type"] == "ec2-console-screenshot":
        if (artifact.get("method") or {}).get("wakeUp") is not False:
            return "screenshot not recorded as taken with WakeUp=false"
        if not head.startswith(b"\xff\xd8\xff") or tail != b"\xff\xd9":
            return "screenshot is not a JPEG (no SOI/EOI markers)"
    if artifact["type"] == "memory-image":
        fmt = (artifact.get("method") or {}).get("format")
        wanted = {"avml-compressed": b"AVML\x02\x00\x00\x00", "lime": b"EMiL\x01\x00\x00\x00"}.get(fmt)
        if wanted is None or not head.startswith(wanted):
            return f"memory image does not start with the {fmt} header"
    return None


def check_custody(store, incident, signer, report):
    keys = [k for k in store.list(f"{incident}/custody/") if k.endswith(".json") and not k.endswith(".sig.json")]
    prev = ZERO
    for n, key in enumerate(keys, start=1):
        data = store.read(key)
        try:
            entry = json.loads(data)
        except ValueError:
            report.add(False, "custody", key, "not JSON")
            return
        problem = None
        if (canonical(entry) + "\n").encode() != data:
            problem = "not canonical JSON"
        elif entry.get("seq") != n:
            problem = f"seq {entry.get('seq')}, expected {n}"
        elif entry.get("prev") != prev:
            problem = "prev does not match the previous entry"
        elif store.exists(key + ".sig.json"):
            sig = json.loads(store.read(key + ".sig.json"))
            run_signer = signer if entry.get("action") == "release" else {
                "keyId": sig.get("keyId"), "publicKeyFingerprint": sig.get("publicKeyFingerprint")}
            problem = check_signature(sig, "custody", incident, sha256(data), run_signer, None)
        elif entry.get("action") == "release" and signer:
            problem = "release entry not signed"
        if problem:
            report.add(False, "custody", key, problem)
            return
        prev = sha256(data)
    if keys:
        report.add(True, "custody", f"{incident}/custody/", f"{len(keys)} entries, chain intact")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    pinned, endpoint = None, None
    if "--aws-endpoint" in argv:
        endpoint = argv[argv.index("--aws-endpoint") + 1]
        args.remove(endpoint)
    s3_endpoint = None
    if "--s3-endpoint" in argv:
        s3_endpoint = argv[argv.index("--s3-endpoint") + 1]
        args.remove(s3_endpoint)
    if "--public-key" in argv:
        path = argv[argv.index("--public-key") + 1]
        args.remove(path)
        with open(path) as f:
            pinned = f.read()
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    store = S3Store(args[0], s3_endpoint) if args[0].startswith("s3://") else Store(args[0])
    report = verify(store, args[1], pinned, "--require-signature" in argv, endpoint)
    if report is None:
        print(f"no journal for {args[1]} in {args[0]}", file=sys.stderr)
        return 2
    if "--json" in argv:
        print(json.dumps({"ok": not report.failed, "items": report.items}))
    for item in report.items:
        mark = {"ok": "ok  ", "failed": "FAIL", "not-checked": "n/c "}[item["status"]]
        print(f"{mark} {item['kind']:9} {item['id']}  {item['detail']}", file=sys.stderr)
    return 5 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
