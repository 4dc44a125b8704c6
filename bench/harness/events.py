"""The events sent to the functions (from events/*.json), the request bodies they carry, and
reading the answers."""

from __future__ import annotations

import base64
import hashlib
import json

from .common import EVENTS, HELLO, KEY, PEER, RUST_PEER, USER

_TEMPLATES: dict[str, dict] = {}


def api_event(function: str, body: str | bytes) -> bytes:
    """The function's API Gateway event (events/*.json) with another body."""
    template_name = {HELLO: "payout-payout", PEER: "payout-payout", RUST_PEER: "payout-payout",
                     "partner-api": "partner-api-register-payout"}.get(function, function)
    if template_name not in _TEMPLATES:
        _TEMPLATES[template_name] = json.loads((EVENTS / f"{template_name}.json").read_text())
    event = json.loads(json.dumps(_TEMPLATES[template_name]))
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
    return json.dumps(event).encode()


def admin_event(method: str, path: str, body: dict | None = None) -> bytes:
    """A partner-api (HTTP API) event: events/partner-api-get-payout.json with this request."""
    event = json.loads((EVENTS / "partner-api-get-payout.json").read_text())
    raw, _, query = path.partition("?")
    event["rawPath"] = raw
    event["rawQueryString"] = query
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = raw
    event["pathParameters"] = {"proxy": raw[len("/admin/"):]}
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
    return json.dumps(event).encode()


def sample_event(function: str) -> bytes:
    name = {HELLO: "payout-payout", PEER: "payout-payout", RUST_PEER: "payout-payout",
            "partner-api": "partner-api-get-payout"}.get(function, function)
    return (EVENTS / f"{name}.json").read_bytes()


def sqs_event(message_id: str, instruction: dict) -> bytes:
    """An SQS event with one message: events/payout-queue.json's, with this id and body."""
    sample = EVENTS / "payout-queue.json"
    if sample.exists():
        event = json.loads(sample.read_text())
        record = event["Records"][0]
    else:
        record = {
            "receiptHandle": "bench",
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1550473173000",
                           "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1550473173001"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:skypay-payouts",
            "awsRegion": "ap-southeast-1",
        }
        event = {"Records": [record]}
    body = json.dumps(instruction)
    record.update({"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": body,
                   "md5OfBody": hashlib.md5(body.encode()).hexdigest()})
    return json.dumps(event).encode()


def wallet_instruction(serial: int, **extra) -> dict:
    """A GCash instruction under SKY01 + serial (10 digits): every instruction names its
    control number (SPEC 14.1)."""
    return {"controlNumber": f"SKY01{serial:010d}", "name": "Cruz,Juan", "phone": "09171234567",
            "amount": "500.00", "withdrawChannel": 6, "accountNo": "09171234567", **extra}


def payout_body(number: str, **overrides) -> str:
    body = {"userName": USER, "action": "payoutPayout", "authentication": KEY,
            "controlNumber": number, "withdrawChannel": "1", "payTime": "2019-02-18 14:59:33"}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def collect_body(contract: str, receipt: str, amount: str = "1000.00", **overrides) -> str:
    body = {"userName": USER, "action": "collectionCollect", "authentication": KEY,
            "contractNumber": contract, "amount": amount, "phone": "09171234567",
            "receiptNumber": receipt, "collectedTime": "2019-02-18 15:01:02", "payChannel": "10"}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def inquiry_body(number: str, **overrides) -> str:
    body = {"userName": USER, "action": "payoutInquiry", "authentication": KEY,
            "controlNumber": number}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def collection_inquiry_body(contract: str, amount: str = "100.00", **overrides) -> str:
    body = {"userName": USER, "action": "collectionInquiry", "authentication": KEY,
            "contractNumber": contract, "amount": amount, "phone": "09171234567"}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def finance_body(reference: str, **overrides) -> str:
    """SkyPay's financeNotification sample with another reference."""
    body = json.loads(json.loads((EVENTS / "finance-notification.json").read_text())["body"])
    body.update({"referenceNumber": reference, **overrides})
    return json.dumps({k: v for k, v in body.items() if v is not None})


def callback_body(number: str, pay_type: str, deal_time: str, **overrides) -> str:
    body = {"userName": USER, "action": "payoutQueuePayout", "authentication": KEY,
            "controlNumber": number, "payType": pay_type, "dealTime": deal_time}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def response_code(function: str, status: int, body: bytes) -> str:
    """What the invocation answered: the envelope's responseCode, the SQS batch outcome, or
    the hello-world's status."""
    if status != 200:
        return f"RIE HTTP {status}"
    try:
        answer = json.loads(body)
    except ValueError:
        return "unreadable"
    if function in ("payout-queue", "ledger-events"):
        failures = answer.get("batchItemFailures") or []
        return "acknowledged" if not failures else f"{len(failures)} to retry"
    if function in (HELLO, "partner-api"):
        return f"HTTP {answer.get('statusCode')}"
    try:
        return json.loads(answer["body"])["responseCode"]
    except (KeyError, TypeError, ValueError):
        return f"no envelope: {body[:120]!r}"


def aes_costs(handler: dict) -> dict:
    """(plain, encrypted) criterion medians per action, where both were measured."""
    return {a: (h["medianNs"], handler[f"{a}_aes"]["medianNs"])
            for a, h in handler.items() if f"{a}_aes" in handler}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]
