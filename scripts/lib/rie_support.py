"""What scripts/rie_check.py's steps share (scripts/lib/rie_steps.py): the names the events use,
the tally of checks, HTTP, the functions' environments, a bootstrap under the emulator, and the
Context the steps pass along (the command line, the tally, the services' addresses)."""

from __future__ import annotations

import argparse
import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import fakes
import processes
from fakes import FakeSkyPay
from processes import Rie, log_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLE = "skypay-ledger"
USER = "AppName@skypay"
# SkyPay's sample key: what the events in events/ carry.
KEY = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75"
PREFIX = "SKY01"
SENDER = "Lender App"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"

# The numbers the events in events/ use.
PICKUP = "SKY0112345678"  # events/payout-payout.json
CONTRACT = "SKY0187654321"  # events/collection-collect.json
PUSHED = "SKY01123456789"  # events/payout-queue-payout.json
QUEUED = "SKY0100000077"  # events/payout-queue.json
RECONCILED = "SKY0100000088"  # written directly, as an open pushed payout

# The test key the encrypted events were made with (events/encrypted/make.sh).
ENCRYPTION_KEY = "SkyPay-Partner-Secret"


def json_lines(output):
    """The JSON objects among a function's output lines (the runtime adds lines of its own)."""
    found = []
    for line in output.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found

def decrypt(text):
    """SkyPay's AES layer (AES-128-ECB, PKCS#7, Base64), by Python's cryptography."""
    return fakes.decrypt(fakes.aes_key(ENCRYPTION_KEY), text)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok    {name}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok


def http(method, url, body=None, timeout=30, headers=None):
    """(status, body bytes); HTTP error statuses are answers too."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(what, ready, proc, seconds=60):
    log_path = proc.log_paths[1]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log_path}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {seconds} s; see {log_path}")


def allowed_dynamodb_actions(logical_id):
    """The dynamodb:* actions template.yaml grants one function (read from its resource)."""
    with open(os.path.join(ROOT, "template.yaml")) as f:
        lines = f.read().splitlines()
    start = lines.index(f"  {logical_id}:")
    block = []
    for line in lines[start + 1 :]:
        if re.match(r"^  \S", line) or re.match(r"^\S", line):
            break
        block.append(line)
    return set(re.findall(r"dynamodb:(\w+)", "\n".join(block)))


def base_env():
    """A clean environment: nothing of the caller's AWS setup leaks into the functions."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def function_env(ddb_url, timeout_seconds):
    env = base_env()
    env.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": ddb_url,
            "AWS_REGION": "ap-southeast-1",
            "AWS_DEFAULT_REGION": "ap-southeast-1",
            "AWS_ACCESS_KEY_ID": "rie-check",
            "AWS_SECRET_ACCESS_KEY": "rie-check",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_seconds),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "TABLE_NAME": TABLE,
            "SKYPAY_USERNAME": USER,
            "SKYPAY_AUTH_KEYS": KEY,
            "CONTROL_NUMBER_PREFIX": PREFIX,
        }
    )
    return env


class Emulator:
    """aws-lambda-rie running one bootstrap (processes.Rie), answers parsed as JSON."""

    def __init__(self, rie, name, bootstrap, env):
        self.rie = Rie(rie, [bootstrap], dict(env, AWS_LAMBDA_FUNCTION_NAME=name),
                       name=f"rie-{name}", cwd=ROOT)
        self.log_path = processes.LOG_DIR / f"rie-{name}.err"

    def invoke(self, event_bytes):
        status, body, _ = self.rie.invoke(event_bytes)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"unparsed": body.decode("utf-8", "replace")}

    def output(self):
        """Everything RIE and the bootstrap wrote."""
        return log_text(self.rie.proc)

    def stop(self):
        self.rie.stop()


def envelope_code(answer):
    """responseCode of an API Gateway (HTTP API) response whose body is SkyPay's envelope."""
    if not isinstance(answer, dict) or answer.get("statusCode") != 200:
        return None
    try:
        return json.loads(answer.get("body") or "").get("responseCode")
    except (ValueError, AttributeError):
        return None


def event(name):
    with open(os.path.join(ROOT, "events", f"{name}.json"), "rb") as f:
        return f.read()


@dataclass
class Context:
    """What the steps share, in the order they run: the command line and the tally; ddb-local's
    address and the API Gateway functions' environment (start_ddb_local); skypay-local's
    (seed_ledger); the fake SkyPay and payout-queue's environment (check_payout_queue, used again
    by check_partner_api and check_payout_reconcile)."""

    args: argparse.Namespace
    checks: Checks = field(default_factory=Checks)
    ddb_url: str = ""
    http_env: dict = field(default_factory=dict)
    local: str = ""
    skypay: FakeSkyPay | None = None
    queue_env: dict = field(default_factory=dict)

    def counts(self):
        return json.loads(http("GET", f"{self.ddb_url}/__counts")[1])["byOperation"]

    def iam_actions(self):
        return set(json.loads(http("GET", f"{self.ddb_url}/__counts")[1])["iamActions"])

    def reset_counts(self):
        http("POST", f"{self.ddb_url}/__counts/reset", b"")

    def ledger(self, kind, number):
        status, body = http("GET", f"{self.local}/admin/{kind}/{number}")
        return json.loads(body) if status == 200 else {"httpStatus": status}

    def ops_check(self, name, logical_id, expected, spare=()):
        """The requests a function made, and that the template grants exactly what it used
        (plus `spare`: grants for a path this run does not take)."""
        seen = self.counts()
        self.checks.check(f"{name}: DynamoDB requests {expected}", seen == expected, f"saw {seen}")
        allowed = allowed_dynamodb_actions(logical_id)
        needed = {a.removeprefix("dynamodb:") for a in self.iam_actions()}
        self.checks.check(
            f"{name}: template.yaml grants exactly what it used ({', '.join(sorted(needed))})"
            + (f" and {', '.join(spare)}" if spare else ""),
            needed | set(spare) == allowed,
            f"{logical_id} has {sorted(allowed)}",
        )

    def emulator(self, name, env, bootstrap=None):
        """The bootstrap `bootstrap` (default: the function `name`) under aws-lambda-rie."""
        return Emulator(self.args.rie, name, os.path.join(self.args.bins, bootstrap or name), env)

    def invoke_once(self, name, logical_id, event_name, expected, requests, env=None):
        """One bootstrap under the emulator: each expected code in turn, then its requests
        (env: the API Gateway functions' by default)."""
        self.reset_counts()
        rie = self.emulator(name, self.http_env if env is None else env)
        answers = []
        for code in expected:
            status, answer = rie.invoke(event(event_name))
            answers.append(answer)
            self.checks.check(f"{name}: statusCode 200, responseCode {code}",
                              status == 200 and envelope_code(answer) == code, f"{status} {answer}")
        self.ops_check(name, logical_id, requests)
        rie.stop()
        return answers
