#!/usr/bin/env python3
"""The real Lambda bootstraps under the AWS Lambda runtime interface emulator, without Docker.

Called by scripts/rie-check.sh, which builds the binaries and finds the emulator, with the
Python of the pinned aws-sam-cli venv: the standard library, plus `cryptography` (which
aws-sam-cli brings) for SkyPay's AES layer, an implementation independent of ours. Everything listens on 127.0.0.1 on ports the OS hands out, and every
process started here is stopped on the way out, whatever happens.

What runs:
  ddb-local      a DynamoDB API (embedded dynoxide behind a proxy that counts requests)
  skypay-local   seeds the ledger through /admin, and reads it back after each function
  fake SkyPay    answers payoutQueue with 1000, payoutQueryStatus (every number Completed),
                 balanceQuery and empty reports, and records what it was sent
  aws-lambda-rie one per function, with the function's bootstrap as its command

Prints one line per check and ends with "N passed, N failed"; exits 1 if any failed.
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import fakes  # noqa: E402 - the fakes shared with bench/bench.py
import processes  # noqa: E402 - the processes and the RIE runner, shared with bench/bench.py
from fakes import FakeEventBridge, FakeSkyPay  # noqa: E402
from processes import Rie, free_port, log_text, spawn, stop_all  # noqa: E402
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", required=True, help="directory of the bootstraps")
    parser.add_argument("--ddb-local", required=True)
    parser.add_argument("--skypay-local", required=True)
    parser.add_argument("--rie", required=True, help="aws-lambda-rie-x86_64")
    parser.add_argument("--logs", required=True)
    args = parser.parse_args()
    os.makedirs(args.logs, exist_ok=True)
    processes.LOG_DIR = Path(args.logs)
    processes.PID_FILE = Path(args.logs) / "pids"

    checks = Checks()
    skypay = None

    processes.stop_on_signals()

    try:
        # --- DynamoDB API on loopback ---------------------------------------------------------
        ddb_port = free_port()
        ddb_url = f"http://127.0.0.1:{ddb_port}"
        env = base_env()
        env["AWS_REGION"] = "ap-southeast-1"
        proc = spawn([args.ddb_local, "--listen", f"127.0.0.1:{ddb_port}"], log_name="ddb-local",
                     env=env, cwd=ROOT)
        wait_until("ddb-local", lambda: http("GET", f"{ddb_url}/__counts")[0] == 200, proc)
        print(f"ddb-local: {ddb_url} (table {TABLE})")

        def counts():
            return json.loads(http("GET", f"{ddb_url}/__counts")[1])["byOperation"]

        def iam_actions():
            return set(json.loads(http("GET", f"{ddb_url}/__counts")[1])["iamActions"])

        def reset_counts():
            http("POST", f"{ddb_url}/__counts/reset", b"")

        # --- Seed the ledger through skypay-local's /admin --------------------------------------
        local_port = free_port()
        local = f"http://127.0.0.1:{local_port}"
        env = base_env()
        env.update({"AWS_REGION": "ap-southeast-1", "TABLE_NAME": TABLE})
        proc = spawn(
            [args.skypay_local, "--listen", f"127.0.0.1:{local_port}", "--dynamodb-endpoint", ddb_url],
            log_name="skypay-local", env=env, cwd=ROOT,
        )
        wait_until("skypay-local", lambda: http("GET", f"{local}/healthz")[0] == 200, proc)
        print(f"skypay-local: {local} (seeding)")
        seeds = [
            ("/admin/payouts", {"controlNumber": PICKUP, "name": "Cruz,Juan", "phone": "09171234567",
                                "amount": "3400.00", "withdrawChannel": 1}),
            ("/admin/contracts", {"contractNumber": CONTRACT, "amountDue": "5000.00",
                                  "name": "Cruz,Juan", "phone": "09171234567"}),
            # A GCash payout; skypay-local runs without SKYPAY_API_URL, so it is QUEUED unpushed.
            ("/admin/payouts", {"controlNumber": PUSHED, "name": "Cruz,Juan", "phone": "09171234567",
                                "amount": "500.00", "withdrawChannel": 6, "accountNo": "09171234567"}),
        ]
        for path, body in seeds:
            status, answer = http("POST", local + path, body)
            number = body.get("controlNumber") or body.get("contractNumber")
            checks.check(f"seed {path} {number}: 201", status == 201, f"{status} {answer[:200]!r}")

        def ledger(kind, number):
            status, body = http("GET", f"{local}/admin/{kind}/{number}")
            return json.loads(body) if status == 200 else {"httpStatus": status}

        def ops_check(name, logical_id, expected, spare=()):
            """The requests a function made, and that the template grants exactly what it used
            (plus `spare`: grants for a path this run does not take)."""
            seen = counts()
            checks.check(f"{name}: DynamoDB requests {expected}", seen == expected, f"saw {seen}")
            allowed = allowed_dynamodb_actions(logical_id)
            needed = {a.removeprefix("dynamodb:") for a in iam_actions()}
            checks.check(
                f"{name}: template.yaml grants exactly what it used ({', '.join(sorted(needed))})"
                + (f" and {', '.join(spare)}" if spare else ""),
                needed | set(spare) == allowed,
                f"{logical_id} has {sorted(allowed)}",
            )

        http_env = function_env(ddb_url, 10)
        http_env["SKYPAY_SENDER"] = SENDER

        def invoke_once(name, logical_id, event_name, expected, requests, env=http_env):
            """One bootstrap under the emulator: each expected code in turn, then its requests."""
            reset_counts()
            rie = Emulator(args.rie, name, os.path.join(args.bins, name), env)
            answers = []
            for code in expected:
                status, answer = rie.invoke(event(event_name))
                answers.append(answer)
                checks.check(f"{name}: statusCode 200, responseCode {code}",
                             status == 200 and envelope_code(answer) == code, f"{status} {answer}")
            ops_check(name, logical_id, requests)
            rie.stop()
            return answers

        # --- payout-inquiry, before the payout: 1000 with the details -----------------------------
        print("payout-inquiry (events/payout-inquiry.json)")
        [answer] = invoke_once("payout-inquiry", "PayoutInquiryFunction", "payout-inquiry",
                               ["1000"], {"GetItem": 1})
        details = json.loads(answer.get("body") or "{}")
        checks.check("payout-inquiry: the details of the payout and our sender",
                     details.get("controlNumber") == PICKUP and details.get("amount") == "3400.00"
                     and details.get("name") == "Cruz,Juan" and details.get("sender") == SENDER
                     and list(details)[:3] == ["responseTime", "responseCode", "responseDescription"],
                     f"{details}")

        # --- payout-payout ----------------------------------------------------------------------
        print("payout-payout (events/payout-payout.json)")
        reset_counts()
        rie = Emulator(args.rie, "payout-payout", os.path.join(args.bins, "payout-payout"), http_env)
        for expected in ("1000", "-1026"):
            status, answer = rie.invoke(event("payout-payout"))
            code = envelope_code(answer)
            checks.check(f"payout-payout: statusCode 200, responseCode {expected}",
                         status == 200 and code == expected, f"{status} {answer}")
        ops_check("payout-payout", "PayoutPayoutFunction", {"UpdateItem": 2})
        rie.stop()
        status = ledger("payouts", PICKUP).get("status")
        checks.check(f"ledger: {PICKUP} is PAID", status == "PAID", f"status {status}")

        # --- payout-inquiry, encrypted, after the payout: -1026, answered encrypted ------------
        print("payout-inquiry (events/encrypted/payout-inquiry.json, SKYPAY_ENCRYPTION=required)")
        sealed_env = dict(http_env, SKYPAY_ENCRYPTION="required", SKYPAY_ENCRYPTION_KEY=ENCRYPTION_KEY)
        reset_counts()
        rie = Emulator(args.rie, "payout-inquiry-encrypted",
                       os.path.join(args.bins, "payout-inquiry"), sealed_env)
        status, answer = rie.invoke(event("encrypted/payout-inquiry"))
        try:
            plain = json.loads(decrypt(answer.get("body") or ""))
        except Exception as e:  # noqa: BLE001 - an unreadable reply is a failed check
            plain = {"undecryptable": str(e)}
        checks.check("payout-inquiry (encrypted): a text/plain reply that decrypts to -1026",
                     status == 200 and (answer.get("headers") or {}).get("content-type") == "text/plain"
                     and plain.get("responseCode") == "-1026", f"{status} {answer} {plain}")
        # SPEC 14.7: a body that begins with `{` was sent by someone who cannot read AES: 2001 in
        # plain JSON, even under `required`.
        status, answer = rie.invoke(event("payout-inquiry"))
        try:
            plain = json.loads(answer.get("body") or "")
        except ValueError as e:
            plain = {"unreadable": str(e)}
        checks.check("payout-inquiry (encrypted): a plain body is 2001, answered in plain JSON",
                     (answer.get("headers") or {}).get("content-type") == "application/json"
                     and plain.get("responseCode") == "2001", f"{status} {answer} {plain}")
        ops_check("payout-inquiry (encrypted)", "PayoutInquiryFunction", {"GetItem": 1})
        rie.stop()

        # --- collection-inquiry, before the collection -------------------------------------------
        print("collection-inquiry (events/collection-inquiry.json, SkyPay's sample)")
        [answer] = invoke_once("collection-inquiry", "CollectionInquiryFunction",
                               "collection-inquiry", ["1000"], {"GetItem": 1})
        details = json.loads(answer.get("body") or "{}")
        checks.check("collection-inquiry: the amount asked and the payer",
                     details.get("amount") == "3900.00" and details.get("payerName") == "Cruz,Juan"
                     and details.get("payerPhone") == "09171234567", f"{details}")

        # --- collection-collect -----------------------------------------------------------------
        print("collection-collect (events/collection-collect.json)")
        reset_counts()
        rie = Emulator(args.rie, "collection-collect",
                       os.path.join(args.bins, "collection-collect"), http_env)
        for expected in ("1000", "-1015"):
            status, answer = rie.invoke(event("collection-collect"))
            code = envelope_code(answer)
            checks.check(f"collection-collect: statusCode 200, responseCode {expected}",
                         status == 200 and code == expected, f"{status} {answer}")
        ops_check("collection-collect", "CollectionCollectFunction", {"TransactWriteItems": 2})
        rie.stop()
        contract = ledger("contracts", CONTRACT)
        receipts = contract.get("receipts") or []
        checks.check(f"ledger: {CONTRACT} has one receipt, collected 3400 of 5000",
                     len(receipts) == 1 and str(contract.get("collectedTotal")).startswith("3400"),
                     f"{contract}")

        # --- payout-queue-payout ----------------------------------------------------------------
        print("payout-queue-payout (events/payout-queue-payout.json)")
        reset_counts()
        rie = Emulator(args.rie, "payout-queue-payout",
                       os.path.join(args.bins, "payout-queue-payout"), http_env)
        status, answer = rie.invoke(event("payout-queue-payout"))
        code = envelope_code(answer)
        checks.check("payout-queue-payout: statusCode 200, responseCode 1000",
                     status == 200 and code == "1000", f"{status} {answer}")
        ops_check("payout-queue-payout", "PayoutQueuePayoutFunction", {"TransactWriteItems": 1})
        rie.stop()
        status = ledger("payouts", PUSHED).get("status")
        checks.check(f"ledger: {PUSHED} is UPLOADED (payType 1)", status == "UPLOADED", f"status {status}")

        # --- finance-notification ----------------------------------------------------------------
        print("finance-notification (events/finance-notification.json, SkyPay's sample)")
        invoke_once("finance-notification", "FinanceNotificationFunction",
                    "finance-notification", ["1000", "1000"], {"TransactWriteItems": 2})
        status, body = http("GET", f"{local}/admin/finance?date=2023-06-18")
        listed = json.loads(body).get("notifications", []) if status == 200 else []
        checks.check("ledger: the notification is stored once",
                     len(listed) == 1 and listed[0].get("referenceNumber") == "D-20231204-001",
                     f"{status} {body[:300]!r}")

        # --- payout-queue (SQS) -----------------------------------------------------------------
        print("payout-queue (events/payout-queue.json, an SQS event)")
        skypay = FakeSkyPay(fakes.aes_key(ENCRYPTION_KEY))
        queue_env = function_env(ddb_url, 30)
        queue_env.update({"SKYPAY_API_URL": skypay.url, "SKYPAY_SENDER": SENDER,
                          "SKYPAY_API_TIMEOUT_SECONDS": "5", "SKYPAY_ENCRYPTION": "required",
                          "SKYPAY_ENCRYPTION_KEY": ENCRYPTION_KEY})
        reset_counts()
        rie = Emulator(args.rie, "payout-queue", os.path.join(args.bins, "payout-queue"), queue_env)
        status, answer = rie.invoke(event("payout-queue"))
        checks.check("payout-queue: batchItemFailures is empty",
                     status == 200 and isinstance(answer, dict) and answer.get("batchItemFailures") == [],
                     f"{status} {answer}")
        pushed = skypay.received
        first = pushed[0] if pushed else {}
        checks.check(
            f"payout-queue: pushed {QUEUED} to SkyPay once, encrypted (text/plain; action payoutQueue, our user, key, sender)",
            len(pushed) == 1
            and first.get("contentType") == "text/plain"
            and first.get("action") == "payoutQueue"
            and first.get("controlNumber") == QUEUED
            and first.get("userName") == USER
            and first.get("authentication") == KEY
            and first.get("sender") == SENDER,
            f"received {pushed}",
        )
        # GetItem: only when a push outlived its lease (docs/ledger.md).
        ops_check("payout-queue", "PayoutQueueFunction", {"PutItem": 1, "UpdateItem": 1},
                  spare=("GetItem",))
        rie.stop()
        status = ledger("payouts", QUEUED).get("status")
        checks.check(f"ledger: {QUEUED} is QUEUED", status == "QUEUED", f"status {status}")

        # --- partner-api: the /admin router under API Gateway events ---------------------------
        print("partner-api (events/partner-api-*.json)")
        api_env = dict(function_env(ddb_url, 30), SKYPAY_API_URL=skypay.url, SKYPAY_SENDER=SENDER,
                       SKYPAY_API_TIMEOUT_SECONDS="5", PAYOUT_QUEUE_URL="http://127.0.0.1:9/queue",
                       PARTNER_API_CALLER_ARNS="arn:aws:iam::123456789012:role/loan-system")
        reset_counts()
        rie = Emulator(args.rie, "partner-api", os.path.join(args.bins, "partner-api"), api_env)
        steps = [("partner-api-register-payout", 201, "QUEUED"), ("partner-api-get-payout", 200, "QUEUED"),
                 ("partner-api-cancel-payout", 200, "CANCELLED"), ("partner-api-get-payout", 200, "CANCELLED"),
                 ("partner-api-register-contract", 201, "OPEN")]
        for name, want_status, want in steps:
            status, answer = rie.invoke(event(name))
            try:
                body = json.loads(answer.get("body") or "{}")
            except (ValueError, AttributeError):
                body = {}
            checks.check(f"partner-api: {name} answers {want_status}, status {want}",
                         status == 200 and answer.get("statusCode") == want_status and body.get("status") == want,
                         f"{status} {answer}")
        # SPEC 14.5: a direct invoke (no IAM identity from the HTTP API) and an unknown signer.
        for label, change in (("a direct invoke", None),
                              ("another principal", "arn:aws:sts::123456789012:assumed-role/intruder/s")):
            forged = json.loads(event("partner-api-register-payout"))
            if change is None:
                forged["requestContext"].pop("authorizer", None)
            else:
                forged["requestContext"]["authorizer"]["iam"]["userArn"] = change
            status, answer = rie.invoke(json.dumps(forged).encode())
            checks.check(f"partner-api: {label} is 403",
                         status == 200 and answer.get("statusCode") == 403, f"{status} {answer}")
        ops_check("partner-api", "PartnerApiFunction",
                  {"PutItem": 1, "GetItem": 5, "Query": 5, "UpdateItem": 2})
        rie.stop()
        checks.check("ledger: SKY0133334444 is CANCELLED",
                     ledger("payouts", "SKY0133334444").get("status") == "CANCELLED")

        # --- ledger-events: a DynamoDB stream event to EventBridge ----------------------------
        print("ledger-events (events/ledger-events.json, a DynamoDB stream event)")
        bus = FakeEventBridge()
        events_env = dict(function_env(ddb_url, 60), EVENT_BUS_NAME="skypay-ledger",
                          AWS_ENDPOINT_URL_EVENTBRIDGE=bus.url)
        reset_counts()
        rie = Emulator(args.rie, "ledger-events", os.path.join(args.bins, "ledger-events"), events_env)
        status, answer = rie.invoke(event("ledger-events"))
        rie.stop()
        bus.close()
        checks.check("ledger-events: no batch item failures",
                     status == 200 and isinstance(answer, dict) and answer.get("batchItemFailures") == [],
                     f"{status} {answer}")
        types = [e.get("DetailType") for e in bus.entries]
        checks.check("ledger-events: PayoutPaid and CollectionReceived on the bus (source skypay.ledger)",
                     types == ["PayoutPaid", "CollectionReceived"]
                     and all(e.get("Source") == "skypay.ledger" and e.get("EventBusName") == "skypay-ledger"
                             for e in bus.entries),
                     f"{bus.entries}")
        details = " ".join(e.get("Detail", "") for e in bus.entries)
        checks.check("ledger-events: no name or phone in the events",
                     "Cruz" not in details and "09171234567" not in details, details)
        # The stream is read by Lambda's poller, not by the function: the grants are its.
        ops_check("ledger-events", "LedgerEventsFunction", {},
                  spare=("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"))

        # --- payout-reconcile: EventBridge Scheduler's two inputs -----------------------------
        print("payout-reconcile (events/payout-reconcile.json, the scheduler's input)")
        # A GCash payout pushed 20 minutes ago and not heard of since, written as payout-queue
        # leaves one (the real clock: the run asks SkyPay only about pushes older than 300 s).
        pushed_at = int(time.time()) - 1200
        item = {
            "pk": {"S": f"PAYOUT#{RECONCILED}"}, "sk": {"S": "PAYOUT"}, "kind": {"S": "payout"},
            "controlNumber": {"S": RECONCILED}, "queueStatus": {"S": "QUEUED"},
            "amount": {"N": "750"}, "withdrawChannel": {"N": "6"},
            "expiresAt": {"N": str(pushed_at + 7 * 86400)},
            "instruction": {"S": json.dumps({"controlNumber": RECONCILED, "name": "Cruz,Juan",
                                             "phone": "09171234567", "amount": "750.00",
                                             "withdrawChannel": 6, "accountNo": "09171234567"})},
            "createdAt": {"S": "2026-11-30T01:00:00.000Z"}, "pushAttempts": {"N": "1"},
            "openPush": {"S": "OPEN"}, "lastPushAt": {"N": str(pushed_at)},
        }
        status, body = http("POST", ddb_url, json.dumps({"TableName": TABLE, "Item": item}).encode(),
                            headers={"x-amz-target": "DynamoDB_20120810.PutItem",
                                     "content-type": "application/x-amz-json-1.0",
                                     # The emulator wants these; it checks no signature.
                                     "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                                     "authorization": "AWS4-HMAC-SHA256 Credential=rie-check/20261201/"
                                                      "ap-southeast-1/dynamodb/aws4_request, "
                                                      "SignedHeaders=host, Signature=0"})
        checks.check(f"seed {RECONCILED}: an open pushed payout, 20 minutes old", status == 200,
                     f"{status} {body[:200]!r}")
        reconcile_env = dict(queue_env, AWS_LAMBDA_FUNCTION_TIMEOUT="900")
        reset_counts()
        rie = Emulator(args.rie, "payout-reconcile",
                       os.path.join(args.bins, "payout-reconcile"), reconcile_env)
        before = len(skypay.received)
        status, answer = rie.invoke(event("payout-reconcile"))
        checks.check("payout-reconcile: the run asked SkyPay once, applied the payment, read the balance",
                     status == 200 and isinstance(answer, dict) and answer.get("queries") == 1
                     and answer.get("applied") == {"paid": 1} and answer.get("balance") == "726718.00",
                     f"{status} {answer}")
        asked = [b for b in skypay.received[before:] if b.get("action") == "payoutQueryStatus"]
        checks.check("payout-reconcile: payoutQueryStatus encrypted, for the open payouts old enough",
                     len(asked) == 1 and asked[0].get("contentType") == "text/plain"
                     and {n.get("controlNumber") for n in asked[0].get("controlNumbers")} >= {RECONCILED},
                     f"{asked}")
        # The gate (GetItem, UpdateItem twice), one index page, one write per changed payout.
        ops_check("payout-reconcile", "PayoutReconcileFunction",
                  {"GetItem": 1, "UpdateItem": 2, "Query": 1, "TransactWriteItems": 1})
        reconciled = ledger("payouts", RECONCILED)
        sources = [e.get("source") for e in reconciled.get("events") or []]
        checks.check(f"ledger: {RECONCILED} is PAID, by an event with source payoutQueryStatus",
                     reconciled.get("status") == "PAID" and sources == ["payoutQueryStatus"],
                     f"{reconciled}")
        output = rie.output()
        emf = [line for line in json_lines(output)
               if line.get("message") == "payout reconcile run" and "_aws" in line]
        checks.check("payout-reconcile: its log line is CloudWatch EMF with the balance",
                     len(emf) == 1 and emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SkyPayGateway"
                     and emf[0].get("SkyPayBalance") == 726718,
                     f"{emf}")
        print("payout-reconcile (events/payout-reconcile-daily.json)")
        reset_counts()
        status, answer = rie.invoke(event("payout-reconcile-daily"))
        checks.check("payout-reconcile daily: both reports read, no difference, stored",
                     status == 200 and isinstance(answer, dict) and answer.get("differences") == []
                     and answer.get("date") == "2026-11-30", f"{status} {answer}")
        ops_check("payout-reconcile daily", "PayoutReconcileFunction", {"Query": 2, "PutItem": 1},
                  spare=("GetItem", "UpdateItem"))
        rie.stop()

        # --- A missing variable stops the function at init --------------------------------------
        print("payout-payout without SKYPAY_AUTH_KEYS")
        broken_env = dict(http_env)
        del broken_env["SKYPAY_AUTH_KEYS"]
        reset_counts()
        rie = Emulator(args.rie, "payout-payout-no-keys",
                       os.path.join(args.bins, "payout-payout"), broken_env)
        status, answer = rie.invoke(event("payout-payout"))
        checks.check(f"no SKYPAY_AUTH_KEYS: the invocation fails, no envelope ({status} {answer})",
                     envelope_code(answer) is None)
        time.sleep(0.5)
        rie.stop()
        output = rie.output()
        checks.check("no SKYPAY_AUTH_KEYS: the init error names SKYPAY_AUTH_KEYS",
                     "SKYPAY_AUTH_KEYS is not set" in output,
                     f"see {rie.log_path}")
        checks.check("no SKYPAY_AUTH_KEYS: no DynamoDB request", counts() == {}, f"saw {counts()}")
    except Exception as e:  # noqa: BLE001 - any failure of the harness is a failed check
        checks.check("harness", False, f"{type(e).__name__}: {e}")
    finally:
        stop_all()
        if skypay is not None:
            skypay.close()

    if checks.failed:
        print(f"logs: {args.logs}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    sys.stdout.flush()
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
