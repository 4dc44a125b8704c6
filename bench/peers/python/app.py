"""payoutPayout in Python, the benchmark's peer: boto3 and AWS Lambda Powertools idempotency.

A faithful small port of the Rust function (functions/payout-payout), for `bench/run.sh` only:

- the same checks in the same order (SPEC section 2): parse (2001), authenticate (-1001,
  constant-time over SHA-256 digests, every key compared), `action` (2003), then controlNumber
  (-1014 prefix, -1012 format), withdrawChannel (2002), payTime (2002);
- the same ledger write as `Ledger::pay_out` (shared/src/ledger/payouts/payout_payout.rs): ONE conditional
  UpdateItem on the same table and item, the same update and `PAYABLE` condition, with
  ReturnValuesOnConditionCheckFailure=ALL_OLD, and a failure classified as -1026 (paid) or -1012;
- the same envelope (Manila time, four fractional digits, responseCode a string).

What the Rust function does not have: Powertools idempotency around the ledger call, keyed on the
request payload and stored in a second table (IDEMPOTENCY_TABLE_NAME). That is the usual Python
way to make a Lambda "idempotent"; it costs two more DynamoDB requests on every new payload and
answers a byte-identical retry from the stored result (SPEC section 4 wants -1026 there; the
benchmark reports the difference, it does not hide it).

Environment: TABLE_NAME, SKYPAY_USERNAME, SKYPAY_AUTH_KEYS, CONTROL_NUMBER_PREFIX,
IDEMPOTENCY_TABLE_NAME, and boto3's own (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

# --- configuration, once per process (as the Rust functions do at init) ---------------------

TABLE_NAME = os.environ["TABLE_NAME"]
USERNAME = os.environ["SKYPAY_USERNAME"]
KEYS = [k.strip() for k in os.environ["SKYPAY_AUTH_KEYS"].split(",") if k.strip()]
PREFIX = os.environ["CONTROL_NUMBER_PREFIX"]
IDEMPOTENCY_TABLE = os.environ.get("IDEMPOTENCY_TABLE_NAME", "skypay-idempotency")

USER_DIGEST = hashlib.sha256(USERNAME.encode()).digest()
KEY_DIGESTS = [hashlib.sha256(k.encode()).digest() for k in KEYS]

DYNAMODB = boto3.client("dynamodb")
PERSISTENCE = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE, boto3_client=DYNAMODB)
IDEMPOTENCY = IdempotencyConfig(expires_after_seconds=3600)

MANILA = dt.timezone(dt.timedelta(hours=8))
MAX_BODY_BYTES = 64 * 1024
CHANNEL_MIN, CHANNEL_MAX = 1, 99999
DIGITS = re.compile(r"[0-9]+")

# Ledger::pay_out's update and shared/src/ledger/payouts/payout_payout.rs's PAYABLE, verbatim.
UPDATE = (
    "SET #paidAt = :now, #paidBy = :via, #payTime = :payTime, "
    "#payTimeUtc = :payTimeUtc, #paidChannel = :channel, #paidRequestId = :requestId, "
    "#paidToken = :token, #updatedAt = :now "
    "ADD #finals :paidSet REMOVE #ttl"
)
PAYABLE = (
    "attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) "
    "AND #expiresAt > :nowEpoch "
    "AND (#queueStatus = :QUEUED OR (#queueStatus = :PENDING AND attribute_exists(#uploadedAt)))"
)
NAMES = {
    f"#{n}": n
    for n in re.findall(r"#([A-Za-z0-9_]+)", UPDATE + " " + PAYABLE)
}

SEED = {
    "1000": "Success",
    "-1001": "Verification error",
    "-1009": "Unpredictable exception occurs",
    "-1012": "Control number invalid or expired",
    "-1014": "Prefix of Control number is incorrect.",
    "-1026": "Transactions has been paid",
}


class Refusal(Exception):
    def __init__(self, code: str, description: str | None = None):
        super().__init__(code)
        self.code = code
        self.description = description if description is not None else SEED.get(code, "")


# --- wire ------------------------------------------------------------------------------------


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError("duplicate key")
        seen[key] = value
    return seen


def _reject_constant(name):
    raise ValueError(f"not JSON: {name}")


def decode(body: bytes) -> dict:
    if len(body) > MAX_BODY_BYTES:
        raise Refusal("2001", "The body is larger than 64 KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("2001", "The body is not UTF-8") from None
    text = text.removeprefix("\ufeff").strip()
    if not text:
        raise Refusal("2001", "The body is empty")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except ValueError as e:
        raise Refusal("2001", f"The body is not a JSON object: {e}") from None
    if not isinstance(value, dict):
        raise Refusal("2001", "The body is not a JSON object: the top level is not an object")
    return value


def text(fields: dict, name: str):
    """A string field; a JSON number is taken as its text; null and "" are absent."""
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise Refusal("2002", f"{name} must be a string")
    if isinstance(value, str):
        return value
    return json.dumps(value)


def response_time(now: dt.datetime) -> str:
    local = now.astimezone(MANILA)
    return local.strftime("%Y-%m-%d %H:%M:%S") + f".{local.microsecond // 100:04d}"


def envelope(code: str, description: str) -> str:
    return json.dumps(
        {
            "responseTime": response_time(dt.datetime.now(dt.timezone.utc)),
            "responseCode": code,
            "responseDescription": description,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


# --- checks ----------------------------------------------------------------------------------


def authenticated(fields: dict) -> bool:
    try:
        user = text(fields, "userName")
        key = text(fields, "authentication")
    except Refusal:
        return False
    present = user is not None and key is not None
    user_ok = hmac.compare_digest(hashlib.sha256((user or "").encode()).digest(), USER_DIGEST)
    sent = hashlib.sha256((key or "").encode()).digest()
    key_ok = False
    for k in KEY_DIGESTS:
        key_ok |= hmac.compare_digest(sent, k)
    return present & user_ok & key_ok


def control_number(fields: dict) -> str:
    number = text(fields, "controlNumber")
    if number is None:
        raise Refusal("2002", "controlNumber is required")
    if not number.startswith(PREFIX):
        raise Refusal("-1014")
    rest = number[len(PREFIX):]
    if not (8 <= len(rest) <= 10 and DIGITS.fullmatch(rest) and rest.isascii()):
        raise Refusal("-1012")
    return number


def channel(fields: dict) -> int:
    value = fields.get("withdrawChannel")
    if value is None or value == "":
        raise Refusal("2002", "withdrawChannel is required")
    rule = f"withdrawChannel must be an integer from {CHANNEL_MIN} to {CHANNEL_MAX}"
    if isinstance(value, bool):
        raise Refusal("2002", rule)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise Refusal("2002", rule)
    if not CHANNEL_MIN <= number <= CHANNEL_MAX:
        raise Refusal("2002", rule)
    return number


def pay_time(fields: dict) -> tuple[str, dt.datetime]:
    value = text(fields, "payTime")
    if value is None:
        raise Refusal("2002", "payTime is required")
    rule = "payTime must be a real time written yyyy-MM-dd HH:mm:ss"
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", value):
        raise Refusal("2002", rule)
    try:
        local = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=MANILA)
    except ValueError:
        raise Refusal("2002", rule) from None
    return value, local.astimezone(dt.timezone.utc)


# --- ledger ----------------------------------------------------------------------------------


def _iso_millis(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@idempotent_function(
    data_keyword_argument="payload", config=IDEMPOTENCY, persistence_store=PERSISTENCE
)
def pay_out(*, payload: dict, request_id: str) -> dict:
    """The ledger call, made idempotent on the request payload by Powertools."""
    number, channel_number = payload["controlNumber"], payload["channel"]
    pay_text, pay_utc = payload["payTime"], dt.datetime.fromisoformat(payload["payTimeUtc"])
    now = dt.datetime.now(dt.timezone.utc)
    token = secrets.token_hex(16)
    try:
        DYNAMODB.update_item(
            TableName=TABLE_NAME,
            Key={"pk": {"S": f"PAYOUT#{number}"}, "sk": {"S": "PAYOUT"}},
            UpdateExpression=UPDATE,
            ConditionExpression=PAYABLE,
            ExpressionAttributeNames=NAMES,
            ExpressionAttributeValues={
                ":now": {"S": _iso_millis(now)},
                ":nowEpoch": {"N": str(int(now.timestamp()))},
                ":via": {"S": "payoutPayout"},
                ":payTime": {"S": pay_text},
                ":payTimeUtc": {"S": pay_utc.isoformat()},
                ":channel": {"N": str(channel_number)},
                ":requestId": {"S": request_id},
                ":token": {"S": token},
                ":paidSet": {"SS": ["PAID"]},
                ":QUEUED": {"S": "QUEUED"},
                ":PENDING": {"S": "PENDING"},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return {"code": "1000", "description": SEED["1000"]}
    except DYNAMODB.exceptions.ConditionalCheckFailedException as e:
        return classify(e.response.get("Item"), token)


def classify(item: dict | None, token: str) -> dict:
    """shared/src/ledger/payouts/payout_payout.rs classify_unpayable: -1026 when paid, else -1012."""
    if item and "paidAt" in item:
        if item.get("paidToken", {}).get("S") == token:
            return {"code": "1000", "description": SEED["1000"]}
        paid_time = item.get("payTime", {}).get("S")
        paid_channel = (item.get("paidChannel") or item.get("withdrawChannel") or {}).get("N")
        text_ = SEED["-1026"]
        if paid_time and paid_channel:
            text_ = f"{text_} (paid {paid_time} on channel {paid_channel})"
        elif paid_time:
            text_ = f"{text_} (paid {paid_time})"
        elif paid_channel:
            text_ = f"{text_} (paid on channel {paid_channel})"
        return {"code": "-1026", "description": text_}
    return {"code": "-1012", "description": SEED["-1012"]}


# --- the handler -----------------------------------------------------------------------------


def process(event: dict, request_id: str) -> tuple[str, str]:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    fields = decode(raw)
    if not authenticated(fields):
        raise Refusal("-1001")
    try:
        action = text(fields, "action")
    except Refusal:
        action = None
    if action != "payoutPayout":
        raise Refusal("2003", "action must be payoutPayout on this endpoint")
    number = control_number(fields)
    channel_number = channel(fields)
    pay_text, pay_utc = pay_time(fields)
    result = pay_out(
        payload={
            "controlNumber": number,
            "channel": channel_number,
            "payTime": pay_text,
            "payTimeUtc": pay_utc.isoformat(),
            # Idempotency "on the payload": the whole request, as SkyPay sent it.
            "request": fields,
        },
        request_id=request_id,
    )
    return result["code"], result["description"]


def handler(event, context):
    IDEMPOTENCY.register_lambda_context(context)
    request_id = (event.get("requestContext") or {}).get("requestId") or getattr(
        context, "aws_request_id", ""
    )
    try:
        code, description = process(event, request_id)
    except Refusal as refusal:
        code, description = refusal.code, refusal.description
    except Exception as e:  # noqa: BLE001 - any ledger failure is -1009, never a crash
        print(json.dumps({"level": "ERROR", "requestId": request_id, "error": repr(e)}))
        code, description = "-1009", SEED["-1009"]
    print(
        json.dumps(
            {"level": "INFO", "action": "payoutPayout", "responseCode": code, "requestId": request_id}
        )
    )
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": envelope(code, description),
        "isBase64Encoded": False,
    }
