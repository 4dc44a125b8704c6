"""scripts/rie_check.py's steps, in the order its main() runs them: the services, then each function
under the emulator (or a group of its events), its answers, its DynamoDB requests and the ledger
after it. Each step takes the Context (scripts/lib/rie_support.py) and records its checks there;
an exception stops the run (main() records it as the failed check `harness`)."""

from __future__ import annotations

import json
import time

import fakes
from fakes import FakeEventBridge, FakeSkyPay
from processes import free_port, spawn
from rie_support import (CONTRACT, ENCRYPTION_KEY, KEY, PICKUP, PUSHED, QUEUED, RECONCILED, ROOT,
                         SENDER, TABLE, USER, Context, base_env, decrypt, envelope_code, event,
                         function_env, http, json_lines, wait_until)


# --- the services ------------------------------------------------------------------------------


def start_ddb_local(ctx: Context):
    """A DynamoDB API on loopback, and the API Gateway functions' environment pointing at it."""
    ddb_port = free_port()
    ctx.ddb_url = f"http://127.0.0.1:{ddb_port}"
    env = base_env()
    env["AWS_REGION"] = "ap-southeast-1"
    proc = spawn([ctx.args.ddb_local, "--listen", f"127.0.0.1:{ddb_port}"], log_name="ddb-local",
                 env=env, cwd=ROOT)
    wait_until("ddb-local", lambda: http("GET", f"{ctx.ddb_url}/__counts")[0] == 200, proc)
    print(f"ddb-local: {ctx.ddb_url} (table {TABLE})")
    ctx.http_env = function_env(ctx.ddb_url, 10)
    ctx.http_env["SKYPAY_SENDER"] = SENDER


def seed_ledger(ctx: Context):
    """skypay-local on ddb-local, and the ledger seeded through its /admin."""
    local_port = free_port()
    ctx.local = f"http://127.0.0.1:{local_port}"
    env = base_env()
    env.update({"AWS_REGION": "ap-southeast-1", "TABLE_NAME": TABLE})
    proc = spawn(
        [ctx.args.skypay_local, "--listen", f"127.0.0.1:{local_port}", "--dynamodb-endpoint", ctx.ddb_url],
        log_name="skypay-local", env=env, cwd=ROOT,
    )
    wait_until("skypay-local", lambda: http("GET", f"{ctx.local}/healthz")[0] == 200, proc)
    print(f"skypay-local: {ctx.local} (seeding)")
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
        status, answer = http("POST", ctx.local + path, body)
        number = body.get("controlNumber") or body.get("contractNumber")
        ctx.checks.check(f"seed {path} {number}: 201", status == 201, f"{status} {answer[:200]!r}")


# --- SkyPay's endpoints (API Gateway) -------------------------------------------------------------


def check_payout_inquiry(ctx: Context):
    """payout-inquiry, before the payout: 1000 with the details."""
    print("payout-inquiry (events/payout-inquiry.json)")
    [answer] = ctx.invoke_once("payout-inquiry", "PayoutInquiryFunction", "payout-inquiry",
                               ["1000"], {"GetItem": 1})
    details = json.loads(answer.get("body") or "{}")
    ctx.checks.check("payout-inquiry: the details of the payout and our sender",
                     details.get("controlNumber") == PICKUP and details.get("amount") == "3400.00"
                     and details.get("name") == "Cruz,Juan" and details.get("sender") == SENDER
                     and list(details)[:3] == ["responseTime", "responseCode", "responseDescription"],
                     f"{details}")


def check_payout_payout(ctx: Context):
    """payout-payout: paid, then -1026 for the retry."""
    print("payout-payout (events/payout-payout.json)")
    ctx.reset_counts()
    rie = ctx.emulator("payout-payout", ctx.http_env)
    for expected in ("1000", "-1026"):
        status, answer = rie.invoke(event("payout-payout"))
        code = envelope_code(answer)
        ctx.checks.check(f"payout-payout: statusCode 200, responseCode {expected}",
                         status == 200 and code == expected, f"{status} {answer}")
    ctx.ops_check("payout-payout", "PayoutPayoutFunction", {"UpdateItem": 2})
    rie.stop()
    status = ctx.ledger("payouts", PICKUP).get("status")
    ctx.checks.check(f"ledger: {PICKUP} is PAID", status == "PAID", f"status {status}")


def check_payout_inquiry_encrypted(ctx: Context):
    """payout-inquiry, encrypted, after the payout: -1026, answered encrypted."""
    print("payout-inquiry (events/encrypted/payout-inquiry.json, SKYPAY_ENCRYPTION=required)")
    sealed_env = dict(ctx.http_env, SKYPAY_ENCRYPTION="required", SKYPAY_ENCRYPTION_KEY=ENCRYPTION_KEY)
    ctx.reset_counts()
    rie = ctx.emulator("payout-inquiry-encrypted", sealed_env, "payout-inquiry")
    status, answer = rie.invoke(event("encrypted/payout-inquiry"))
    try:
        plain = json.loads(decrypt(answer.get("body") or ""))
    except Exception as e:  # noqa: BLE001 - an unreadable reply is a failed check
        plain = {"undecryptable": str(e)}
    ctx.checks.check("payout-inquiry (encrypted): a text/plain reply that decrypts to -1026",
                     status == 200 and (answer.get("headers") or {}).get("content-type") == "text/plain"
                     and plain.get("responseCode") == "-1026", f"{status} {answer} {plain}")
    # SPEC 14.7: a body that begins with `{` was sent by someone who cannot read AES: 2001 in
    # plain JSON, even under `required`.
    status, answer = rie.invoke(event("payout-inquiry"))
    try:
        plain = json.loads(answer.get("body") or "")
    except ValueError as e:
        plain = {"unreadable": str(e)}
    ctx.checks.check("payout-inquiry (encrypted): a plain body is 2001, answered in plain JSON",
                     (answer.get("headers") or {}).get("content-type") == "application/json"
                     and plain.get("responseCode") == "2001", f"{status} {answer} {plain}")
    ctx.ops_check("payout-inquiry (encrypted)", "PayoutInquiryFunction", {"GetItem": 1})
    rie.stop()


def check_collection_inquiry(ctx: Context):
    """collection-inquiry, before the collection: the amount asked and the payer."""
    print("collection-inquiry (events/collection-inquiry.json, SkyPay's sample)")
    [answer] = ctx.invoke_once("collection-inquiry", "CollectionInquiryFunction",
                               "collection-inquiry", ["1000"], {"GetItem": 1})
    details = json.loads(answer.get("body") or "{}")
    ctx.checks.check("collection-inquiry: the amount asked and the payer",
                     details.get("amount") == "3900.00" and details.get("payerName") == "Cruz,Juan"
                     and details.get("payerPhone") == "09171234567", f"{details}")


def check_collection_collect(ctx: Context):
    """collection-collect: collected, then -1015 for the same receipt."""
    print("collection-collect (events/collection-collect.json)")
    ctx.reset_counts()
    rie = ctx.emulator("collection-collect", ctx.http_env)
    for expected in ("1000", "-1015"):
        status, answer = rie.invoke(event("collection-collect"))
        code = envelope_code(answer)
        ctx.checks.check(f"collection-collect: statusCode 200, responseCode {expected}",
                         status == 200 and code == expected, f"{status} {answer}")
    ctx.ops_check("collection-collect", "CollectionCollectFunction", {"TransactWriteItems": 2})
    rie.stop()
    contract = ctx.ledger("contracts", CONTRACT)
    receipts = contract.get("receipts") or []
    ctx.checks.check(f"ledger: {CONTRACT} has one receipt, collected 3400 of 5000",
                     len(receipts) == 1 and str(contract.get("collectedTotal")).startswith("3400"),
                     f"{contract}")


def check_payout_queue_payout(ctx: Context):
    """payout-queue-payout: SkyPay's callback (payType 1) on the pushed payout."""
    print("payout-queue-payout (events/payout-queue-payout.json)")
    ctx.reset_counts()
    rie = ctx.emulator("payout-queue-payout", ctx.http_env)
    status, answer = rie.invoke(event("payout-queue-payout"))
    code = envelope_code(answer)
    ctx.checks.check("payout-queue-payout: statusCode 200, responseCode 1000",
                     status == 200 and code == "1000", f"{status} {answer}")
    ctx.ops_check("payout-queue-payout", "PayoutQueuePayoutFunction", {"TransactWriteItems": 1})
    rie.stop()
    status = ctx.ledger("payouts", PUSHED).get("status")
    ctx.checks.check(f"ledger: {PUSHED} is UPLOADED (payType 1)", status == "UPLOADED", f"status {status}")


def check_finance_notification(ctx: Context):
    """finance-notification: SkyPay's sample twice, stored once."""
    print("finance-notification (events/finance-notification.json, SkyPay's sample)")
    ctx.invoke_once("finance-notification", "FinanceNotificationFunction",
                    "finance-notification", ["1000", "1000"], {"TransactWriteItems": 2})
    status, body = http("GET", f"{ctx.local}/admin/finance?date=2023-06-18")
    listed = json.loads(body).get("notifications", []) if status == 200 else []
    ctx.checks.check("ledger: the notification is stored once",
                     len(listed) == 1 and listed[0].get("referenceNumber") == "D-20231204-001",
                     f"{status} {body[:300]!r}")


# --- payout-queue (SQS), partner-api, ledger-events ------------------------------------------------


def start_fake_skypay(ctx: Context):
    """A fake SkyPay (encrypted) and the environment of the functions that call it, kept in ctx
    for payout-queue, partner-api and payout-reconcile. Once."""
    if ctx.skypay is not None:
        return
    ctx.skypay = skypay = FakeSkyPay(fakes.aes_key(ENCRYPTION_KEY))
    ctx.queue_env = function_env(ctx.ddb_url, 30)
    ctx.queue_env.update({"SKYPAY_API_URL": skypay.url, "SKYPAY_SENDER": SENDER,
                          "SKYPAY_API_TIMEOUT_SECONDS": "5", "SKYPAY_ENCRYPTION": "required",
                          "SKYPAY_ENCRYPTION_KEY": ENCRYPTION_KEY})


def check_payout_queue(ctx: Context):
    """payout-queue (SQS): the payout pushed to a fake SkyPay, encrypted."""
    print("payout-queue (events/payout-queue.json, an SQS event)")
    start_fake_skypay(ctx)
    skypay = ctx.skypay
    ctx.reset_counts()
    rie = ctx.emulator("payout-queue", ctx.queue_env)
    status, answer = rie.invoke(event("payout-queue"))
    ctx.checks.check("payout-queue: batchItemFailures is empty",
                     status == 200 and isinstance(answer, dict) and answer.get("batchItemFailures") == [],
                     f"{status} {answer}")
    pushed = skypay.received
    first = pushed[0] if pushed else {}
    ctx.checks.check(
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
    ctx.ops_check("payout-queue", "PayoutQueueFunction", {"PutItem": 1, "UpdateItem": 1},
                  spare=("GetItem",))
    rie.stop()
    status = ctx.ledger("payouts", QUEUED).get("status")
    ctx.checks.check(f"ledger: {QUEUED} is QUEUED", status == "QUEUED", f"status {status}")


def check_partner_api(ctx: Context):
    """partner-api: the /admin router under API Gateway events, and SPEC 14.5's refusals."""
    print("partner-api (events/partner-api-*.json)")
    api_env = dict(function_env(ctx.ddb_url, 30), SKYPAY_API_URL=ctx.skypay.url, SKYPAY_SENDER=SENDER,
                   SKYPAY_API_TIMEOUT_SECONDS="5", PAYOUT_QUEUE_URL="http://127.0.0.1:9/queue",
                   PARTNER_API_CALLER_ARNS="arn:aws:iam::123456789012:role/loan-system")
    ctx.reset_counts()
    rie = ctx.emulator("partner-api", api_env)
    steps = [("partner-api-register-payout", 201, "QUEUED"), ("partner-api-get-payout", 200, "QUEUED"),
             ("partner-api-cancel-payout", 200, "CANCELLED"), ("partner-api-get-payout", 200, "CANCELLED"),
             ("partner-api-register-contract", 201, "OPEN")]
    for name, want_status, want in steps:
        status, answer = rie.invoke(event(name))
        try:
            body = json.loads(answer.get("body") or "{}")
        except (ValueError, AttributeError):
            body = {}
        ctx.checks.check(f"partner-api: {name} answers {want_status}, status {want}",
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
        ctx.checks.check(f"partner-api: {label} is 403",
                         status == 200 and answer.get("statusCode") == 403, f"{status} {answer}")
    ctx.ops_check("partner-api", "PartnerApiFunction",
                  {"PutItem": 1, "GetItem": 5, "Query": 5, "UpdateItem": 2})
    rie.stop()
    ctx.checks.check("ledger: SKY0133334444 is CANCELLED",
                     ctx.ledger("payouts", "SKY0133334444").get("status") == "CANCELLED")


def check_ledger_events(ctx: Context):
    """ledger-events: a DynamoDB stream event to a fake EventBridge."""
    print("ledger-events (events/ledger-events.json, a DynamoDB stream event)")
    bus = FakeEventBridge()
    events_env = dict(function_env(ctx.ddb_url, 60), EVENT_BUS_NAME="skypay-ledger",
                      AWS_ENDPOINT_URL_EVENTBRIDGE=bus.url)
    ctx.reset_counts()
    rie = ctx.emulator("ledger-events", events_env)
    status, answer = rie.invoke(event("ledger-events"))
    rie.stop()
    bus.close()
    ctx.checks.check("ledger-events: no batch item failures",
                     status == 200 and isinstance(answer, dict) and answer.get("batchItemFailures") == [],
                     f"{status} {answer}")
    types = [e.get("DetailType") for e in bus.entries]
    ctx.checks.check("ledger-events: PayoutPaid and CollectionReceived on the bus (source skypay.ledger)",
                     types == ["PayoutPaid", "CollectionReceived"]
                     and all(e.get("Source") == "skypay.ledger" and e.get("EventBusName") == "skypay-ledger"
                             for e in bus.entries),
                     f"{bus.entries}")
    details = " ".join(e.get("Detail", "") for e in bus.entries)
    ctx.checks.check("ledger-events: no name or phone in the events",
                     "Cruz" not in details and "09171234567" not in details, details)
    # The stream is read by Lambda's poller, not by the function: the grants are its.
    ctx.ops_check("ledger-events", "LedgerEventsFunction", {},
                  spare=("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"))


# --- payout-reconcile: EventBridge Scheduler's two inputs ------------------------------------------


def seed_open_push(ctx: Context):
    """A GCash payout pushed 20 minutes ago and not heard of since, written as payout-queue
    leaves one (the real clock: the run asks SkyPay only about pushes older than 300 s)."""
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
    status, body = http("POST", ctx.ddb_url, json.dumps({"TableName": TABLE, "Item": item}).encode(),
                        headers={"x-amz-target": "DynamoDB_20120810.PutItem",
                                 "content-type": "application/x-amz-json-1.0",
                                 # The emulator wants these; it checks no signature.
                                 "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                                 "authorization": "AWS4-HMAC-SHA256 Credential=rie-check/20261201/"
                                                  "ap-southeast-1/dynamodb/aws4_request, "
                                                  "SignedHeaders=host, Signature=0"})
    ctx.checks.check(f"seed {RECONCILED}: an open pushed payout, 20 minutes old", status == 200,
                     f"{status} {body[:200]!r}")


def check_payout_reconcile(ctx: Context):
    """payout-reconcile: a run over an open push (seed_open_push), then the daily reports, on one
    instance."""
    print("payout-reconcile (events/payout-reconcile.json, the scheduler's input)")
    seed_open_push(ctx)
    reconcile_env = dict(ctx.queue_env, AWS_LAMBDA_FUNCTION_TIMEOUT="900")
    ctx.reset_counts()
    rie = ctx.emulator("payout-reconcile", reconcile_env)
    before = len(ctx.skypay.received)
    status, answer = rie.invoke(event("payout-reconcile"))
    ctx.checks.check("payout-reconcile: the run asked SkyPay once, applied the payment, read the balance",
                     status == 200 and isinstance(answer, dict) and answer.get("queries") == 1
                     and answer.get("applied") == {"paid": 1} and answer.get("balance") == "726718.00",
                     f"{status} {answer}")
    asked = [b for b in ctx.skypay.received[before:] if b.get("action") == "payoutQueryStatus"]
    ctx.checks.check("payout-reconcile: payoutQueryStatus encrypted, for the open payouts old enough",
                     len(asked) == 1 and asked[0].get("contentType") == "text/plain"
                     and {n.get("controlNumber") for n in asked[0].get("controlNumbers")} >= {RECONCILED},
                     f"{asked}")
    # The gate (GetItem, UpdateItem twice), one index page, one write per changed payout.
    ctx.ops_check("payout-reconcile", "PayoutReconcileFunction",
                  {"GetItem": 1, "UpdateItem": 2, "Query": 1, "TransactWriteItems": 1})
    reconciled = ctx.ledger("payouts", RECONCILED)
    sources = [e.get("source") for e in reconciled.get("events") or []]
    ctx.checks.check(f"ledger: {RECONCILED} is PAID, by an event with source payoutQueryStatus",
                     reconciled.get("status") == "PAID" and sources == ["payoutQueryStatus"],
                     f"{reconciled}")
    output = rie.output()
    emf = [line for line in json_lines(output)
           if line.get("message") == "payout reconcile run" and "_aws" in line]
    ctx.checks.check("payout-reconcile: its log line is CloudWatch EMF with the balance",
                     len(emf) == 1 and emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SkyPayGateway"
                     and emf[0].get("SkyPayBalance") == 726718,
                     f"{emf}")
    print("payout-reconcile (events/payout-reconcile-daily.json)")
    ctx.reset_counts()
    status, answer = rie.invoke(event("payout-reconcile-daily"))
    ctx.checks.check("payout-reconcile daily: both reports read, no difference, stored",
                     status == 200 and isinstance(answer, dict) and answer.get("differences") == []
                     and answer.get("date") == "2026-11-30", f"{status} {answer}")
    ctx.ops_check("payout-reconcile daily", "PayoutReconcileFunction", {"Query": 2, "PutItem": 1},
                  spare=("GetItem", "UpdateItem"))
    rie.stop()


# --- configuration errors ------------------------------------------------------------------------


def check_missing_auth_keys(ctx: Context):
    """A missing variable stops the function at init: payout-payout without SKYPAY_AUTH_KEYS."""
    print("payout-payout without SKYPAY_AUTH_KEYS")
    broken_env = dict(ctx.http_env)
    del broken_env["SKYPAY_AUTH_KEYS"]
    ctx.reset_counts()
    rie = ctx.emulator("payout-payout-no-keys", broken_env, "payout-payout")
    status, answer = rie.invoke(event("payout-payout"))
    ctx.checks.check(f"no SKYPAY_AUTH_KEYS: the invocation fails, no envelope ({status} {answer})",
                     envelope_code(answer) is None)
    time.sleep(0.5)
    rie.stop()
    output = rie.output()
    ctx.checks.check("no SKYPAY_AUTH_KEYS: the init error names SKYPAY_AUTH_KEYS",
                     "SKYPAY_AUTH_KEYS is not set" in output,
                     f"see {rie.log_path}")
    ctx.checks.check("no SKYPAY_AUTH_KEYS: no DynamoDB request", ctx.counts() == {}, f"saw {ctx.counts()}")
