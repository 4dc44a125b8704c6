#!/usr/bin/env python3
"""The SkyPay gateway's benchmark harness (issue 5). Run it through `bench/run.sh`.

Standard library only. It builds the release bootstraps, starts ddb-local (the counting DynamoDB
emulator), a fake SkyPay, skypay-local, and each function under the Lambda Runtime Interface
Emulator (RIE, from the aws-sam-cli wheel in bench/.venv), then measures:

  1. cold start per function, as a ratio to a plain lambda_http hello-world (bench/hello);
  2. DynamoDB requests per call, for every call path of every endpoint;
  3. binary size (stripped bootstrap and its zip), x86_64 and, when cargo-lambda + zig are
     available, arm64;
  4. peak memory (VmHWM of the bootstrap) after 1,000 warm invocations, and warm latency;
  5. warm handler time without DynamoDB (criterion, shared/benches/handler.rs);
  6. skypay-local --memory throughput (bench/load, skypay-load) at 1, 8 and 64 clients;
  7. a Python/Powertools payoutPayout peer (bench/peers/python) under the same RIE and ddb-local.

It writes BENCHMARKS.md at the repository root and every raw figure to bench/out/results.json.
Everything it starts listens on 127.0.0.1 only, and is stopped when it ends (or is interrupted).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
import processes  # noqa: E402 - shared with scripts/rie_check.py
from fakes import FakeEventBridge, FakeSkyPay  # noqa: E402 - shared with scripts/rie_check.py
from processes import Rie, free_port, spawn, stop, stop_all, wait_port  # noqa: E402
BENCH = ROOT / "bench"
OUT = BENCH / "out"
processes.LOG_DIR = OUT / "logs"
VENV = BENCH / ".venv"
PEER_DIR = BENCH / "peers" / "python"
RUST_PEER_DIR = BENCH / "peers" / "rust"
EVENTS = ROOT / "events"

FUNCTIONS = ["payout-inquiry", "payout-payout", "collection-inquiry", "collection-collect",
             "payout-queue-payout", "finance-notification", "payout-queue", "partner-api",
             "ledger-events"]
HELLO = "hello"
PEER = "python-peer"
# payoutPayout as the AWS SDK's guide writes it (bench/peers/rust: aws-config defaults, the SDK's
# default features, the default release profile): the peer a Rust user would write.
RUST_PEER = "rust-peer"
PEERS = [RUST_PEER, PEER]
# payout-payout's bootstrap on a call refused before the ledger (a wrong key): its cold start
# without a DynamoDB request, to show what the first request costs.
REFUSED = "payout-payout (-1001)"

USER = "AppName@skypay"
KEY = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75"
PREFIX = "SKY01"
TABLE = "skypay-ledger"
IDEMPOTENCY_TABLE = "skypay-idempotency"

# Budgets (issue 5). MB = 10^6 bytes, the stricter reading.
BUDGET_COLD_RATIO = 1.3
BUDGET_SIZE_BYTES = 6_000_000
BUDGET_MEMORY_BYTES = 24_000_000
BUDGET_HANDLER_NS = 50_000
BUDGET_RPS = 3000
# Issue 11: one payout-reconcile run over this many open pushed payouts.
RECONCILE_PAYOUTS = 10_000
BUDGET_AES_NS = 10_000

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:7.1f}s] {message}", flush=True)


def http_request(method: str, url: str, body: bytes | None = None, timeout: float = 30.0):
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        # skypay-local's /admin takes JSON only (SPEC 14.6); SkyPay's routes take anything.
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, **kwargs)


def output(args) -> str:
    try:
        return subprocess.run(
            [str(a) for a in args], check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memoryGiB": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "rustc": output(["rustc", "--version"]),
        "python": platform.python_version(),
        "commit": output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "dirty": output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]) != "",
        "loadAverageAtStart": os.getloadavg(),
    }


# --- builds ----------------------------------------------------------------------------------


def target_dir() -> Path:
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return Path(json.loads(meta)["target_directory"])


def build(skip_criterion: bool) -> None:
    log("building the release bootstraps, hello, skypay-local, skypay-load and ddb-local "
        "(fat LTO: several minutes on 2 cores)")
    packages = [*FUNCTIONS, HELLO, "skypay-local", "skypay-load"]
    run(["cargo", "build", "--release", *sum((["-p", p] for p in packages), [])], cwd=ROOT)
    # ddb-local in release too: the DynamoDB round trip every cold start includes should cost
    # what a real emulator costs, not an unoptimised build's overhead.
    run(["cargo", "build", "--release", "-p", "skypay-tests", "--bin", "ddb-local",
         "--bin", "reconcile-bench"], cwd=ROOT)
    build_rust_peer()
    if not skip_criterion:
        log("building the criterion bench (bench profile: release settings, panic = unwind)")
        run(["cargo", "bench", "-p", "skypay", "--bench", "handler", "--no-run"], cwd=ROOT)


def build_rust_peer() -> None:
    log("building the Rust peer (bench/peers/rust, its own workspace: aws-config and the SDK's "
        "default features, two TLS stacks and aws-lc; several minutes the first time)")
    run(["cargo", "build", "--release"], cwd=RUST_PEER_DIR)


def build_cold() -> None:
    """What --cold needs: every bootstrap, the hello-world and the services."""
    packages = [*FUNCTIONS, HELLO, "skypay-local", "skypay-load"]
    run(["cargo", "build", "--release", *sum((["-p", p] for p in packages), [])], cwd=ROOT)
    run(["cargo", "build", "--release", "-p", "skypay-tests", "--bin", "ddb-local"], cwd=ROOT)


def build_peers() -> None:
    """What --peers needs: ours, the hello-world, the services, and the Rust peer."""
    run(["cargo", "build", "--release", "-p", "payout-payout", "-p", HELLO, "-p", "skypay-local",
         "-p", "skypay-load"], cwd=ROOT)
    run(["cargo", "build", "--release", "-p", "skypay-tests", "--bin", "ddb-local"], cwd=ROOT)
    build_rust_peer()


ARM64_NOTES: list[str] = []


def build_arm64() -> None:
    """arm64 bootstraps with cargo-lambda (cargo-zigbuild, zig from the ziglang wheel), for their
    sizes only: this machine cannot run them."""
    cargo_lambda = VENV / "bin" / "cargo-lambda"
    if not cargo_lambda.exists():
        ARM64_NOTES.append("arm64: cargo-lambda is not in bench/.venv; not built.")
        return
    log("arm64: cargo lambda build --release --arm64 (zig from bench/.venv; several minutes)")
    env = dict(os.environ)
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '')}"
    args = [cargo_lambda, "lambda", "build", "--release", "--arm64"]
    for function in [*FUNCTIONS, HELLO]:
        args += ["-p", function]
    done = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if done.returncode != 0:
        ARM64_NOTES.append(
            f"arm64: `cargo lambda build --release --arm64` failed (exit {done.returncode}); see the run's output.")


def find_rie() -> Path:
    found = sorted(VENV.glob("lib/python*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"))
    if not found:
        sys.exit("aws-lambda-rie not found in bench/.venv: run bench/run.sh (it installs aws-sam-cli)")
    rie = found[0]
    rie.chmod(0o755)
    return rie


# --- services --------------------------------------------------------------------------------


class DdbLocal:
    def __init__(self, binary: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = spawn([binary, "--listen", f"127.0.0.1:{self.port}", "--table", TABLE],
                          log_name="ddb-local")
        wait_port(self.port, self.proc)
        for _ in range(600):
            try:
                if http_request("GET", f"{self.url}/__counts")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)

    def reset(self):
        http_request("POST", f"{self.url}/__counts/reset")

    def counts(self) -> dict:
        return json.loads(http_request("GET", f"{self.url}/__counts")[1])


def lambda_env(ddb: DdbLocal, skypay: FakeSkyPay | None = None, **extra) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL_DYNAMODB": ddb.url,
        "AWS_REGION": "ap-southeast-1",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": TABLE,
        "SKYPAY_USERNAME": USER,
        "SKYPAY_AUTH_KEYS": KEY,
        "CONTROL_NUMBER_PREFIX": PREFIX,
    }
    if skypay is not None:
        env["SKYPAY_API_URL"] = skypay.url
        env["SKYPAY_SENDER"] = "Lender App"
    env.update(extra)
    return env


class Local:
    """skypay-local (release), on ddb-local or in memory."""

    def __init__(self, binary: Path, *, ddb: DdbLocal | None, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [binary, "--listen", f"127.0.0.1:{self.port}"]
        args += ["--dynamodb-endpoint", ddb.url] if ddb else ["--memory"]
        env = dict(os.environ)
        env.update({"AWS_REGION": "ap-southeast-1", "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench", "RUST_LOG": "warn"})
        for var in ("SKYPAY_API_URL", "SKYPAY_SENDER", "SKYPAY_AUTH_KEYS", "AWS_ENDPOINT_URL_DYNAMODB"):
            env.pop(var, None)
        self.proc = spawn(args, log_name=name, env=env)
        wait_port(self.port, self.proc)
        for _ in range(600):
            try:
                if http_request("GET", f"{self.url}/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("skypay-local did not become healthy")

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        status, raw = http_request("POST", f"{self.url}{path}", json.dumps(body).encode())
        return status, json.loads(raw or b"{}")

    def stop(self):
        stop(self.proc)


def skypay_load(binary: Path, *args) -> dict:
    result = subprocess.run([str(binary), *map(str, args)], check=True, stdout=subprocess.PIPE)
    return json.loads(result.stdout)


# --- the Lambda Runtime Interface Emulator ---------------------------------------------------


# --- events ----------------------------------------------------------------------------------

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


# --- the harness -----------------------------------------------------------------------------


class Harness:
    def __init__(self, args):
        self.args = args
        self.results: dict = {"machine": machine(), "notes": []}
        self.target = target_dir()
        self.release = self.target / "release"
        self.rie = find_rie()
        self.venv_python = VENV / "bin" / "python"

    # commands -------------------------------------------------------------------------------

    def command(self, function: str) -> tuple[list, Path | None]:
        if function == PEER:
            return [self.venv_python, "-m", "awslambdaric", "app.handler"], PEER_DIR
        if function == RUST_PEER:
            return [RUST_PEER_DIR / "target" / "release" / "bootstrap"], None
        if function == REFUSED:
            return [self.release / "payout-payout"], None
        return [self.release / function], None

    def env(self, function: str) -> dict:
        if function == "payout-queue":
            return lambda_env(self.ddb, self.skypay)
        if function == "partner-api":
            return lambda_env(self.ddb, self.skypay, PAYOUT_QUEUE_URL="http://127.0.0.1:9/queue",
                              PARTNER_API_CALLER_ARNS="arn:aws:iam::123456789012:role/loan-system")
        if function == "ledger-events":
            return lambda_env(self.ddb, EVENT_BUS_NAME="skypay-ledger",
                              AWS_ENDPOINT_URL_EVENTBRIDGE=self.bus.url)
        if function == PEER:
            return lambda_env(self.ddb, IDEMPOTENCY_TABLE_NAME=IDEMPOTENCY_TABLE,
                              LAMBDA_TASK_ROOT=str(PEER_DIR), AWS_LAMBDA_FUNCTION_NAME="python-peer",
                              POWERTOOLS_IDEMPOTENCY_DISABLED="false")
        return lambda_env(self.ddb)

    def start(self, function: str, tag: str) -> Rie:
        command, cwd = self.command(function)
        name = function.split(" ")[0] + ("-refused" if function == REFUSED else "")
        return Rie(self.rie, command, self.env(function), name=f"rie-{name}-{tag}", cwd=cwd)

    # setup ----------------------------------------------------------------------------------

    def services(self):
        log("starting ddb-local, the fake SkyPay and skypay-local (on ddb-local, for /admin)")
        self.ddb = DdbLocal(self.release / "ddb-local")
        self.skypay = FakeSkyPay()
        self.bus = FakeEventBridge()
        self.local = Local(self.release / "skypay-local", ddb=self.ddb, name="skypay-local-ddb")
        log(f"  ddb-local {self.ddb.url}, fake SkyPay {self.skypay.url}, skypay-local {self.local.url}")
        log("creating the Powertools idempotency table in ddb-local (boto3, bench/.venv)")
        run([self.venv_python, PEER_DIR / "tables.py", self.ddb.url, IDEMPOTENCY_TABLE],
            env=lambda_env(self.ddb), timeout=300)
        log("  created")

    def register(self, serial_from: int, count: int, clients: int = 8):
        summary = skypay_load(self.release / "skypay-load", "register", "--url", self.local.url,
                              "--from", serial_from, "--count", count, "--clients", clients)
        if summary["codes"].get("HTTP 201") != count:
            raise RuntimeError(f"registration failed: {summary}")

    def seed(self):
        log("seeding the ledger through skypay-local's /admin routes")
        local = self.local
        # Call paths (section 2).
        self.register(2_000_000_001, 1)  # SKY012000000001: QUEUED, payable
        self.register(2_000_000_004, 1)  # SKY012000000004: payable, for payout-inquiry
        status, _ = local.post("/admin/payouts", {
            "controlNumber": "SKY012000000002", "name": "Cruz,Juan", "phone": "09171234567",
            "amount": "3400.00", "withdrawChannel": 1, "expiresAt": "2020-01-01 00:00:00"})
        assert status == 201, status
        status, _ = local.post("/admin/payouts", wallet_instruction(2_000_000_003))
        assert status == 201, status
        self.register(4_000_000_001, 2)  # the peer's: SKY014000000001, ...002
        self.register(4_100_000_001, 1)  # the Rust peer's: SKY014100000001
        for contract, due in (("SKY013000000001", "5000.00"), ("SKY013000000002", "100.00"),
                              ("SKY0187654321", "99999999.99")):
            status, _ = local.post("/admin/contracts", {"contractNumber": contract, "amountDue": due})
            assert status == 201, status
        # Cold starts (section 1): a payable number for each run of payout-payout and the peer.
        self.register(5_000_000_000, self.args.runs + 1)
        self.register(6_000_000_000, self.args.runs + 1)
        self.register(6_500_000_000, self.args.runs + 1)  # the Rust peer's cold starts
        # The events' own numbers: SKY0112345678 payable (payout-payout's sample event).
        status, _ = local.post("/admin/payouts", {
            "controlNumber": "SKY0112345678", "name": "Cruz,Juan", "phone": "09171234567",
            "amount": "3400.00", "withdrawChannel": 1})
        assert status in (200, 201), status
        # Warm invocations (section 4): one payable number per invocation.
        self.register(7_000_000_000, self.args.warm)
        self.register(8_000_000_000, self.args.warm)
        self.register(8_500_000_000, self.args.warm)  # the Rust peer's warm invocations

    # section 2 ------------------------------------------------------------------------------

    def call_paths(self) -> dict:
        """(label, expected requests or None, event) per function."""
        pp = "payout-payout"
        cc = "collection-collect"
        qp = "payout-queue-payout"
        pi = "payout-inquiry"
        ci = "collection-inquiry"
        fn = "finance-notification"
        pa = "partner-api"
        le = "ledger-events"
        pickup = {"name": "Cruz,Juan", "phone": "09171234567", "amount": "3400.00", "withdrawChannel": 1}
        paths = {
            pa: [
                ("201 register a shop pickup (write, read back)", 3,
                 admin_event("POST", "/admin/payouts", {"controlNumber": "SKY012500000001", **pickup})),
                ("200 read a payout", 2, admin_event("GET", "/admin/payouts/SKY012500000001")),
                ("200 cancel it (write, read back)", 3, admin_event("POST", "/admin/payouts/SKY012500000001/cancel")),
                ("409 cancel a paid payout", 1, admin_event("POST", "/admin/payouts/SKY012000000001/cancel")),
                ("201 register a contract (write, read back)", 3,
                 admin_event("POST", "/admin/contracts", {"contractNumber": "SKY013500000001", "amountDue": "10"})),
                ("200 read a contract", 2, admin_event("GET", "/admin/contracts/SKY013500000001?limit=10")),
                ("200 a day's finance notifications", 1, admin_event("GET", "/admin/finance?date=2023-06-18")),
                ("404 unknown route", 0, admin_event("GET", "/admin/nothing")),
                ("400 malformed instruction", 0, admin_event("POST", "/admin/payouts", {"name": "no comma"})),
            ],
            le: [
                ("a payout paid and a receipt (events/ledger-events.json): 2 events", 0, sample_event(le)),
            ],
            pi: [
                ("1000 payable (details)", 1, api_event(pi, inquiry_body("SKY012000000004"))),
                ("-1012 unknown control number (ledger)", 1, api_event(pi, inquiry_body("SKY012999999999"))),
                ("-1012 expired (ledger)", 1, api_event(pi, inquiry_body("SKY012000000002"))),
                ("-1012 malformed control number", 0, api_event(pi, inquiry_body("SKY01123"))),
                ("-1014 wrong prefix", 0, api_event(pi, inquiry_body("ABC0112345678"))),
                ("-1001 wrong key", 0, api_event(pi, inquiry_body("SKY012000000004", authentication="guess"))),
                ("2001 not a JSON object", 0, api_event(pi, "not json")),
            ],
            ci: [
                ("1000 open (payer)", 1, api_event(ci, collection_inquiry_body("SKY013000000001"))),
                ("-1015 unknown contract (ledger)", 1, api_event(ci, collection_inquiry_body("SKY013888888888"))),
                ("-1015 wrong prefix", 0, api_event(ci, collection_inquiry_body("ABC0187654321"))),
                ("2002 amount missing", 0, api_event(ci, collection_inquiry_body("SKY013000000001", amount=None))),
                ("-1001 wrong key", 0, api_event(ci, collection_inquiry_body("SKY013000000001", authentication="guess"))),
            ],
            fn: [
                ("1000 stored (SkyPay's sample)", 1, api_event(fn, finance_body("D-BENCH-1"))),
                ("1000 repeat (no-op)", 1, api_event(fn, finance_body("D-BENCH-1"))),
                ("1000 repeat with another amount (conflict kept)", 2, api_event(fn, finance_body("D-BENCH-1", amount=5))),
                ("1000 malformed (stored with the reason)", 1, api_event(fn, finance_body("D-BENCH-2", statementType="9"))),
                ("-1001 wrong key", 0, api_event(fn, finance_body("D-BENCH-3", authentication="guess"))),
                ("2003 wrong action", 0, api_event(fn, finance_body("D-BENCH-3", action="payoutPayout"))),
            ],
            pp: [
                ("1000 paid", 1, api_event(pp, payout_body("SKY012000000001"))),
                ("-1026 already paid (retry)", 1, api_event(pp, payout_body("SKY012000000001"))),
                ("-1012 unknown control number (ledger)", 1, api_event(pp, payout_body("SKY012999999999"))),
                ("-1012 expired (ledger)", 1, api_event(pp, payout_body("SKY012000000002"))),
                ("-1012 malformed control number", 0, api_event(pp, payout_body("SKY01123"))),
                ("-1014 wrong prefix", 0, api_event(pp, payout_body("ABC0112345678"))),
                ("-1001 wrong key", 0, api_event(pp, payout_body("SKY012000000001", authentication="guess"))),
                ("2001 not a JSON object", 0, api_event(pp, "not json")),
                ("2002 payTime missing", 0, api_event(pp, payout_body("SKY012000000001", payTime=None))),
                ("2003 wrong action", 0, api_event(pp, payout_body("SKY012000000001", action="collectionCollect"))),
            ],
            cc: [
                ("1000 collected (registered contract)", 1, api_event(cc, collect_body("SKY013000000001", "R-1"))),
                ("-1015 same receipt again", 1, api_event(cc, collect_body("SKY013000000001", "R-1"))),
                ("1000 collected (unregistered contract)", 1, api_event(cc, collect_body("SKY013999999999", "R-1"))),
                ("1000 collected (reaches amountDue)", 1, api_event(cc, collect_body("SKY013000000002", "R-1", "100.00"))),
                ("-1026 contract settled", 1, api_event(cc, collect_body("SKY013000000002", "R-2", "1.00"))),
                ("2004 wrong prefix", 0, api_event(cc, collect_body("ABC0187654321", "R-1"))),
                ("2002 amount missing", 0, api_event(cc, collect_body("SKY013000000001", "R-9", amount=None))),
                ("-1001 wrong key", 0, api_event(cc, collect_body("SKY013000000001", "R-9", authentication="guess"))),
                ("2001 not a JSON object", 0, api_event(cc, "[1,2]")),
                ("2003 wrong action", 0, api_event(cc, collect_body("SKY013000000001", "R-9", action="payoutPayout"))),
            ],
            qp: [
                ("1000 payType 1 uploaded", 1, api_event(qp, callback_body("SKY012000000003", "1", "2019-02-18 10:00:00", referenceNumber="MLA1"))),
                ("1000 payType 1 duplicate", 1, api_event(qp, callback_body("SKY012000000003", "1", "2019-02-18 10:00:00", referenceNumber="MLA1"))),
                ("1000 payType 2 paid", 1, api_event(qp, callback_body("SKY012000000003", "2", "2019-02-18 11:00:00"))),
                ("1000 payType 3 after paid (anomaly)", 1, api_event(qp, callback_body("SKY012000000003", "3", "2019-02-18 12:00:00", failDescription="late cancel"))),
                ("1000 payType 5 amended success", 1, api_event(qp, callback_body("SKY012000000003", "5", "2019-02-18 13:00:00", referenceNumber="MLA2"))),
                ("1000 orphan (unknown control number)", 1, api_event(qp, callback_body("SKY012888888888", "1", "2019-02-18 10:00:00"))),
                ("1000 payType 6 (recorded only)", 1, api_event(qp, callback_body("SKY012000000003", "6", "2019-02-18 14:00:00"))),
                ("1000 unknown payType 9", 1, api_event(qp, callback_body("SKY012000000003", "9", "2019-02-18 14:00:00"))),
                ("1000 malformed control number", 1, api_event(qp, callback_body("SKY01x", "1", "2019-02-18 14:00:00"))),
                ("-1001 wrong key", 0, api_event(qp, callback_body("SKY012000000003", "1", "2019-02-18 10:00:00", authentication="guess"))),
                ("2001 not a JSON object", 0, api_event(qp, b"\xff\xfe")),
                ("2003 wrong action", 0, api_event(qp, callback_body("SKY012000000003", "1", "2019-02-18 10:00:00", action="payoutPayout"))),
            ],
            "payout-queue": [
                ("pushed payout (GCash): written, pushed, QUEUED", 2, sqs_event("bench-push-1", wallet_instruction(6_600_000_001))),
                ("SQS redelivery of the same message", 1, sqs_event("bench-push-1", wallet_instruction(6_600_000_001))),
                ("shop pickup (channel 1): registered QUEUED", 1, sqs_event("bench-pickup-1", {"name": "Cruz,Juan", "phone": "09171234567", "amount": "3400.00", "withdrawChannel": 1})),
                ("invalid instruction (refused)", 0, sqs_event("bench-invalid-1", {"name": "no comma", "amount": "5"})),
            ],
            RUST_PEER: [
                ("1000 paid", 1, api_event(RUST_PEER, payout_body("SKY014100000001"))),
                ("-1026 already paid (retry)", 1, api_event(RUST_PEER, payout_body("SKY014100000001"))),
                ("-1012 unknown control number (ledger)", 1, api_event(RUST_PEER, payout_body("SKY014999999999"))),
                ("-1001 wrong key", 0, api_event(RUST_PEER, payout_body("SKY014100000001", authentication="guess"))),
                ("2001 not a JSON object", 0, api_event(RUST_PEER, "not json")),
            ],
            PEER: [
                ("1000 paid (new payload)", None, api_event(PEER, payout_body("SKY014000000001"))),
                ("byte-identical retry (Powertools replays 1000)", None, api_event(PEER, payout_body("SKY014000000001"))),
                ("-1026 retry with another payTime (new payload)", None, api_event(PEER, payout_body("SKY014000000001", payTime="2019-02-18 15:00:00"))),
                ("-1012 unknown control number", None, api_event(PEER, payout_body("SKY014999999999"))),
                ("-1001 wrong key", 0, api_event(PEER, payout_body("SKY014000000002", authentication="guess"))),
                ("2001 not a JSON object", 0, api_event(PEER, "not json")),
            ],
        }
        return paths

    def warm_event(self, function: str, i: int) -> bytes:
        if function == "partner-api":
            return admin_event("GET", "/admin/payouts/SKY012000000001")
        if function == "ledger-events":
            return sample_event(function)
        if function == "payout-inquiry":
            return api_event(function, inquiry_body("SKY012000000004"))
        if function == "collection-inquiry":
            return api_event(function, collection_inquiry_body("SKY013000000001"))
        if function == "finance-notification":
            return api_event(function, finance_body(f"D-WARM-{i}"))
        if function == "payout-payout":
            return api_event(function, payout_body(f"SKY01{7_000_000_000 + i:010d}"))
        if function == PEER:
            return api_event(function, payout_body(f"SKY01{8_000_000_000 + i:010d}"))
        if function == RUST_PEER:
            return api_event(function, payout_body(f"SKY01{8_500_000_000 + i:010d}"))
        if function == "collection-collect":
            return api_event(function, collect_body("SKY013777777777", f"W-{i}", "10.00"))
        if function == "payout-queue-payout":
            deal = dt.datetime(2019, 3, 1) + dt.timedelta(seconds=i)
            return api_event(function, callback_body("SKY012000000003", "1", deal.strftime("%Y-%m-%d %H:%M:%S")))
        if function == "payout-queue":
            return sqs_event(f"bench-warm-{i}", wallet_instruction(6_700_000_000 + i))
        return sample_event(HELLO)

    def warm_phase(self, functions: list[str] | None = None):
        """Sections 2 and 4 (and the peers' part of 7): one warm instance per function."""
        paths = self.call_paths()
        self.results["requests"] = {}
        self.results["warm"] = {}
        for function in functions or [HELLO, *FUNCTIONS, *PEERS]:
            log(f"{function}: starting under RIE")
            rie = self.start(function, "warm")
            try:
                if function in paths:
                    rows = []
                    log(f"{function}: DynamoDB requests per call path ({len(paths[function])} paths)")
                    for label, expected, event in paths[function]:
                        self.ddb.reset()
                        pushes = self.skypay.pushes
                        status, body, _ = rie.invoke(event)
                        counts = self.ddb.counts()
                        code = response_code(function, status, body)
                        rows.append({"path": label, "answer": code, "requests": counts["total"],
                                     "byOperation": counts["byOperation"], "expected": expected,
                                     "pushes": self.skypay.pushes - pushes})
                        log(f"  {label}: answered {code}, {counts['total']} request(s) {counts['byOperation']}")
                    self.results["requests"][function] = rows
                n = self.args.warm
                log(f"{function}: {n} warm invocations")
                latencies, codes = [], {}
                for i in range(n):
                    status, body, seconds = rie.invoke(self.warm_event(function, i))
                    latencies.append(seconds * 1000)
                    code = response_code(function, status, body)
                    codes[code] = codes.get(code, 0) + 1
                    if (i + 1) % 250 == 0:
                        log(f"  {i + 1}/{n}")
                hwm = rie.vm_hwm_bytes()
                self.results["warm"][function] = {
                    "invocations": n, "codes": codes,
                    "p50Ms": statistics.median(latencies), "p99Ms": percentile(latencies, 99),
                    "meanMs": statistics.fmean(latencies), "vmHwmBytes": hwm,
                }
                log(f"  {function}: warm p50 {statistics.median(latencies):.2f} ms, "
                    f"p99 {percentile(latencies, 99):.2f} ms, VmHWM {hwm / 1e6 if hwm else float('nan'):.2f} MB, answers {codes}")
            finally:
                rie.stop()

    # section 1 ------------------------------------------------------------------------------

    def cold_event(self, function: str, run_index: int) -> bytes:
        if function == "payout-payout":
            return api_event(function, payout_body(f"SKY01{5_000_000_000 + run_index:010d}"))
        if function == PEER:
            return api_event(function, payout_body(f"SKY01{6_000_000_000 + run_index:010d}"))
        if function == RUST_PEER:
            return api_event(function, payout_body(f"SKY01{6_500_000_000 + run_index:010d}"))
        if function == REFUSED:
            return api_event("payout-payout", payout_body(f"SKY01{7_000_000_000 + run_index:010d}",
                                                          authentication="not-the-key"))
        if function == "payout-queue":
            return sqs_event(f"bench-cold-{run_index}", wallet_instruction(6_800_000_000 + run_index))
        if function == "collection-collect":
            # The sample event with a new receipt number each run: collected (1000) every time.
            event = json.loads(sample_event(function))
            body = json.loads(event["body"])
            body["receiptNumber"] = f"{body['receiptNumber']}{run_index:03d}"
            event["body"] = json.dumps(body)
            return json.dumps(event).encode()
        return sample_event(function)

    def cold_starts(self, functions: list[str] | None = None):
        n = self.args.runs
        functions = functions or [HELLO, *FUNCTIONS, REFUSED, *PEERS]
        log(f"cold starts: {n} runs of each of {', '.join(functions)}, interleaved")
        runs: dict[str, list] = {f: [] for f in functions}
        for r in range(n):
            for function in functions:
                rie = self.start(function, f"cold-{r + 1:02d}")
                event = self.cold_event(function, r)
                try:
                    started = time.perf_counter()
                    status, body, _ = rie.invoke(event)
                    answered = time.perf_counter()
                finally:
                    rie.stop()
                runs[function].append({
                    "firstInvocationMs": (answered - started) * 1000,
                    "rieReadyMs": (rie.t_ready - rie.t_spawn) * 1000,
                    "initMs": rie.init_duration_ms(),
                    "firstInvokeMs": rie.first_invoke_ms(),
                    "answer": response_code(function, status, body),
                })
            summary = ", ".join(f"{f} {runs[f][-1]['firstInvocationMs']:.1f}" for f in functions)
            log(f"  run {r + 1}/{n} (ms): {summary}")
        cold = {}
        for function, all_rows in runs.items():
            # A run whose invocation RIE did not complete (an HTTP error from RIE) is reported
            # among the answers but left out of the times.
            rows = [row for row in all_rows if not row["answer"].startswith("RIE HTTP")] or all_rows
            first = [row["firstInvocationMs"] for row in rows]
            inits = [row["initMs"] for row in rows if row["initMs"] is not None]
            invokes = [row["firstInvokeMs"] for row in rows if row["firstInvokeMs"] is not None]
            answers: dict[str, int] = {}
            for row in all_rows:
                answers[row["answer"]] = answers.get(row["answer"], 0) + 1
            cold[function] = {
                "runs": len(rows),
                "failedRuns": len(all_rows) - len(rows),
                "medianMs": statistics.median(first),
                "minMs": min(first), "maxMs": max(first),
                "p90Ms": percentile(first, 90),
                "initMedianMs": statistics.median(inits) if inits else None,
                "firstInvokeMedianMs": statistics.median(invokes) if invokes else None,
                "rieReadyMedianMs": statistics.median(row["rieReadyMs"] for row in rows),
                "answers": answers,
            }
        self.results["cold"] = cold

    # section 3 ------------------------------------------------------------------------------

    def sizes(self):
        log("binary sizes: stripped bootstrap and zip -9")
        out = OUT / "size"
        sizes = {"x86_64": {}}
        for function in [*FUNCTIONS, HELLO]:
            sizes["x86_64"][function] = self.size_of(self.release / function, out / "x86_64" / function)
        sizes["x86_64"][RUST_PEER] = self.size_of(RUST_PEER_DIR / "target" / "release" / "bootstrap",
                                                   out / "x86_64" / RUST_PEER)
        arm = self.arm64_sizes(out / "arm64")
        if arm:
            sizes["arm64"] = arm
        self.results["sizes"] = sizes

    def size_of(self, binary: Path, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        bootstrap = folder / "bootstrap"
        shutil.copy2(binary, bootstrap)
        strip = shutil.which("strip")
        if strip and self.machine_of(bootstrap) == "x86_64":
            subprocess.run([strip, "--strip-all", bootstrap], check=False)
        bootstrap.chmod(0o755)
        archive = folder / "bootstrap.zip"
        archive.unlink(missing_ok=True)
        info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 & 0xFFFF) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(archive, "w", compresslevel=9) as z:
            z.writestr(info, bootstrap.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        return {"binaryBytes": binary.stat().st_size, "strippedBytes": bootstrap.stat().st_size,
                "zipBytes": archive.stat().st_size}

    @staticmethod
    def machine_of(path: Path) -> str:
        header = path.read_bytes()[:20]
        machine_code = int.from_bytes(header[18:20], "little")
        return {0x3E: "x86_64", 0xB7: "aarch64"}.get(machine_code, "other")

    def arm64_sizes(self, out: Path) -> dict | None:
        self.results["notes"] += ARM64_NOTES
        if self.args.skip_build and not self.args.no_arm64:
            self.results["notes"].append(
                "--skip-build: the arm64 bootstraps are those found in target/lambda (built by an "
                "earlier `cargo lambda build`), not rebuilt by this run.")
        if self.args.no_arm64:
            self.results["notes"].append("arm64: not built (--no-arm64).")
            return None
        sizes = {}
        for function in [*FUNCTIONS, HELLO]:
            candidates = [self.target / "lambda" / function / "bootstrap",
                          self.target / "aarch64-unknown-linux-gnu" / "release" / function]
            binary = next((c for c in candidates if c.exists() and self.machine_of(c) == "aarch64"), None)
            if binary is None:
                self.results["notes"].append(f"arm64: no aarch64 bootstrap found for {function}.")
                continue
            sizes[function] = self.size_of(binary, out / function)
            # The x86_64 strip cannot strip aarch64: the profile's `strip = true` did.
        return sizes

    # section 5 ------------------------------------------------------------------------------

    def criterion(self):
        log("criterion: cargo bench -p skypay --bench handler (builds with the release profile first)")
        run(["cargo", "bench", "-p", "skypay", "--bench", "handler", "--",
             "--warm-up-time", "2", "--measurement-time", "4"], cwd=ROOT)
        handler = {}
        actions = ("payoutInquiry", "payoutPayout", "collectionInquiry", "collectionCollect",
                   "payoutQueuePayout", "financeNotification")
        for action in [*actions, *(f"{a}_aes" for a in actions)]:
            path = self.target / "criterion" / f"handler_{action}" / "new" / "estimates.json"
            estimates = json.loads(path.read_text())
            handler[action] = {
                "medianNs": estimates["median"]["point_estimate"],
                "meanNs": estimates["mean"]["point_estimate"],
                "medianLowNs": estimates["median"]["confidence_interval"]["lower_bound"],
                "medianHighNs": estimates["median"]["confidence_interval"]["upper_bound"],
            }
        self.results["handler"] = handler
        run(["cargo", "bench", "-p", "ledger-events", "--bench", "mapping", "--",
             "--warm-up-time", "2", "--measurement-time", "4"], cwd=ROOT)
        path = self.target / "criterion" / "ledger_events" / "mapping" / "new" / "estimates.json"
        estimates = json.loads(path.read_text())
        # The sample's two records per iteration.
        per_record = estimates["median"]["point_estimate"] / 2
        self.results["mapping"] = {"medianNsPerRecord": per_record,
                                   "recordsPerSecond": 1e9 / per_record if per_record else None}

    # section 8 ------------------------------------------------------------------------------

    def reconcile(self):
        """One payout-reconcile run over 10,000 open pushed payouts (tests/support/bin/
        reconcile_bench.rs): the embedded DynamoDB behind the counting proxy, skypay-sim."""
        log(f"reconcile: one run over {RECONCILE_PAYOUTS} open pushed payouts (reconcile-bench)")
        out = run([self.release / "reconcile-bench", "--payouts", RECONCILE_PAYOUTS],
                  cwd=ROOT, capture_output=True, text=True).stdout
        # The runs' own log lines (EMF) come first; the result is the last line.
        self.results["reconcile"] = json.loads(out.strip().splitlines()[-1])

    # section 6 ------------------------------------------------------------------------------

    @staticmethod
    def thread_cpu(pid: int) -> dict[str, float]:
        """CPU seconds so far per thread name of a process."""
        tick = os.sysconf("SC_CLK_TCK")
        by_name: dict[str, float] = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                name = stat[stat.index("(") + 1: stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                cpu = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError, IndexError):
                continue
            by_name[name] = by_name.get(name, 0.0) + cpu
        return by_name

    @staticmethod
    def machine_cpu() -> tuple[int, int]:
        """(busy, total) jiffies over all CPUs, from /proc/stat."""
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields) - idle, sum(fields)

    def throughput(self):
        log("throughput: skypay-local --memory (release) and skypay-load")
        load = self.release / "skypay-load"
        local = Local(self.release / "skypay-local", ddb=None, name="skypay-local-memory")
        try:
            scenarios = []
            serial = 0
            for duplicates in (0, 20):
                for clients in (1, 8, 64):
                    count = self.args.load_requests if clients > 1 else max(1, self.args.load_requests // 3)
                    fresh = count - count * duplicates // 100
                    scenarios.append({"clients": clients, "duplicates": duplicates,
                                      "count": count, "from": serial})
                    serial += fresh
            self.local = local
            log(f"  registering {serial} payouts through /admin/payouts (not timed)")
            started = time.perf_counter()
            self.register(0, serial, clients=8)
            log(f"  registered in {time.perf_counter() - started:.1f} s")
            rows = []
            control = {"clients": 64, "duplicates": 0, "count": self.args.load_requests,
                       "from": 0, "refused": True}
            for scenario in [*scenarios, control]:
                before_machine = self.machine_cpu()
                before_threads = self.thread_cpu(local.proc.pid)
                before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                args = ["pay", "--url", local.url, "--from", scenario["from"],
                        "--count", scenario["count"], "--clients", scenario["clients"],
                        "--duplicates", scenario["duplicates"]]
                if scenario.get("refused"):
                    args += ["--key", "wrong-key"]
                summary = skypay_load(load, *args)
                wall = time.perf_counter() - started
                after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
                after_threads = self.thread_cpu(local.proc.pid)
                after_machine = self.machine_cpu()
                cores = os.cpu_count() or 1
                busy = after_machine[0] - before_machine[0]
                total = max(1, after_machine[1] - before_machine[1])
                machine_busy_percent = 100 * cores * busy / total
                threads = {name: round(after_threads.get(name, 0) - before_threads.get(name, 0), 3)
                           for name in after_threads}
                server_cpu = sum(threads.values())
                generator_cpu = (after_children.ru_utime - before_children.ru_utime
                                 + after_children.ru_stime - before_children.ru_stime)
                row = {**scenario, **summary, "serverCpuSeconds": round(server_cpu, 3),
                       "serverCpuPercent": round(100 * server_cpu / wall, 1),
                       "generatorCpuSeconds": round(generator_cpu, 3),
                       "generatorCpuPercent": round(100 * generator_cpu / wall, 1),
                       "serverThreads": {k: v for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0},
                       "machineBusyPercent": round(machine_busy_percent, 1),
                       "serverCpuUsPerCall": round(1e6 * server_cpu / max(1, summary["answered"]), 1),
                       "wallSeconds": round(wall, 3)}
                row["otherCpuPercent"] = round(max(0.0, machine_busy_percent - row["serverCpuPercent"]
                                                   - row["generatorCpuPercent"]), 1)
                rows.append(row)
                label = "refused before the ledger (-1001)" if scenario.get("refused") else f"{scenario['duplicates']}% duplicates"
                log(f"  {scenario['clients']:>2} clients, {label}: {summary['requestsPerSecond']} req/s, "
                    f"p50 {summary['p50Us'] / 1000:.2f} ms, p99 {summary['p99Us'] / 1000:.2f} ms, "
                    f"codes {summary['codes']}, server CPU {row['serverCpuPercent']}%, "
                    f"generator CPU {row['generatorCpuPercent']}%, other processes {row['otherCpuPercent']}%, "
                    f"{row['serverCpuUsPerCall']} us server CPU per call")
            self.results["throughput"] = rows
        finally:
            local.stop()

    # --peers: section 7 alone -----------------------------------------------------------------

    def run_peers(self):
        """payout-payout, the Rust peer and the Python peer (and the hello-world, the floor) in one
        run: cold starts, warm p50/p99, VmHWM, requests, sizes. Section 7 of BENCHMARKS.md is
        replaced; the rest of the file is left as it is."""
        OUT.mkdir(parents=True, exist_ok=True)
        functions = [HELLO, "payout-payout", *PEERS]
        self.services()
        try:
            self.seed()
            self.warm_phase(functions)
            self.cold_starts(functions)
        finally:
            self.local.stop()
            stop(self.ddb.proc)
            self.skypay.close()
            self.bus.close()
        out = OUT / "size" / "x86_64"
        self.results["sizes"] = {"x86_64": {
            "payout-payout": self.size_of(self.release / "payout-payout", out / "payout-payout"),
            HELLO: self.size_of(self.release / HELLO, out / HELLO),
            RUST_PEER: self.size_of(RUST_PEER_DIR / "target" / "release" / "bootstrap", out / RUST_PEER),
        }}
        self.results["machine"]["loadAverageAtEnd"] = os.getloadavg()
        self.results["machine"]["harnessSeconds"] = round(time.monotonic() - STARTED, 1)
        (OUT / "peers.json").write_text(json.dumps(self.results, indent=2))
        report = (ROOT / "BENCHMARKS.md").read_text()
        start = report.index("## 7. ")
        end = report.index("## 8. ", start)
        section = "\n".join(render_peers(self.results, peers_run=True)) + "\n"
        (ROOT / "BENCHMARKS.md").write_text(report[:start] + section + report[end:])
        log("replaced section 7 of BENCHMARKS.md; raw figures in bench/out/peers.json")

    # --cold: section 1 alone ------------------------------------------------------------------

    def run_cold(self):
        """Every function's cold start beside the hello-world's (no peers): section 1 of
        BENCHMARKS.md and the budget table's cold-start rows are replaced; the rest of the file is
        left as it is (a change that touches only init, as issue 17's keys did)."""
        OUT.mkdir(parents=True, exist_ok=True)
        self.services()
        try:
            self.seed()
            self.cold_starts([HELLO, *FUNCTIONS, REFUSED])
        finally:
            self.local.stop()
            stop(self.ddb.proc)
            self.skypay.close()
            self.bus.close()
        m = self.results["machine"]
        m["loadAverageAtEnd"] = os.getloadavg()
        m["harnessSeconds"] = round(time.monotonic() - STARTED, 1)
        (OUT / "cold.json").write_text(json.dumps(self.results, indent=2))
        fresh = render(self.results, self.args)
        report = (ROOT / "BENCHMARKS.md").read_text()

        def cold_rows(text: str) -> list[str]:
            return [line for line in text.splitlines() if line.startswith("| cold start ")]

        old_rows, new_rows = cold_rows(report[:report.index("## 1. ")]), cold_rows(fresh[:fresh.index("## 1. ")])
        for old, new in zip(old_rows, new_rows):
            report = report.replace(old, new, 1)
        start, end = report.index("## 1. "), report.index("## 2. ")
        section = fresh[fresh.index("## 1. "):fresh.index("## 2. ")]
        dirty = " + uncommitted changes" if m["dirty"] else ""
        note = (f"Measured on their own by `bench/run.sh --cold` ({m['date']}, commit {m['commit']}{dirty}, "
                f"load average {m['loadAverageAtStart'][0]:.2f} / {m['loadAverageAtEnd'][0]:.2f}); the budget "
                "table's cold-start rows are from the same run, the other sections from the full run above.\n\n")
        heading, _, body = section.partition("\n\n")
        report = report[:start] + heading + "\n\n" + note + body + report[end:]
        (ROOT / "BENCHMARKS.md").write_text(report)
        log("replaced section 1 of BENCHMARKS.md; raw figures in bench/out/cold.json")

    # all ------------------------------------------------------------------------------------

    def run(self):
        OUT.mkdir(parents=True, exist_ok=True)
        m = self.results["machine"]
        log(f"machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}, {m['rustc']}, "
            f"load average {m['loadAverageAtStart'][0]:.2f}")
        self.services()
        try:
            self.seed()
            self.warm_phase()
            self.cold_starts()
        finally:
            self.local.stop()
            stop(self.ddb.proc)
            self.skypay.close()
            self.bus.close()
        if not self.args.skip_criterion:
            self.criterion()
        self.throughput()
        self.reconcile()
        self.sizes()
        self.results["machine"]["loadAverageAtEnd"] = os.getloadavg()
        self.results["machine"]["harnessSeconds"] = round(time.monotonic() - STARTED, 1)
        (OUT / "results.json").write_text(json.dumps(self.results, indent=2))
        report = render(self.results, self.args)
        (ROOT / "BENCHMARKS.md").write_text(report)
        log("wrote BENCHMARKS.md and bench/out/results.json")


# --- the report ------------------------------------------------------------------------------


def mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.2f} MB"


def ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f} ms"


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def render_peers(r: dict, peers_run: bool = False) -> list[str]:
    """Section 7: ours beside the Rust peer and the Python peer, and the floor."""
    lines: list[str] = []
    add = lines.append
    cold, warm, req = r.get("cold", {}), r.get("warm", {}), r.get("requests", {})
    sizes = r.get("sizes", {}).get("x86_64", {})
    add("## 7. The peers: payoutPayout as others would write it")
    add("")
    if peers_run:
        m = r["machine"]
        add(f"Measured on their own by `bench/run.sh --peers` ({m.get('date', '')}, commit {m.get('commit', '')}, "
            f"load average {m['loadAverageAtStart'][0]:.2f} at start, {m['loadAverageAtEnd'][0]:.2f} at end), "
            "all four in one run; the rest of this file is from the run in the header.")
        add("")
    add("- **Rust peer** (`bench/peers/rust`): payoutPayout as the AWS SDK for Rust's guide writes it: "
        "`aws_config::load_defaults` (the default credential chain and region resolution), "
        "`aws-sdk-dynamodb` with its default features (two TLS stacks in the binary: rustls 0.21 on ring with hyper 0.14, and rustls 0.23 on aws-lc with hyper 1), "
        "the default release profile (stripped). The same checks, the same conditional UpdateItem on the same "
        "item (ALL_OLD, -1026/-1012), the same envelope.")
    add("- **Python peer** (`bench/peers/python/app.py`): the same, with boto3, wrapped in Powertools "
        "`idempotent_function` on the request payload (table `skypay-idempotency` in the same ddb-local), "
        "under the same RIE (`python -m awslambdaric app.handler`).")
    add("")
    cols = ["payout-payout", RUST_PEER, PEER]
    add("| | ours (payout-payout) | Rust peer | Python peer |")
    add("|---|---|---|---|")

    def row(label, values):
        add(f"| {label} | " + " | ".join(values) + " |")

    if all(cold.get(c) for c in cols):
        row("cold start, first invocation (median)", [ms(cold[c]["medianMs"]) for c in cols])
        row("init (RIE INIT REPORT, median)", [ms(cold[c]["initMedianMs"]) for c in cols])
        row("first event (RIE, median)", [ms(cold[c]["firstInvokeMedianMs"]) for c in cols])
    if all(warm.get(c) for c in cols):
        row("warm invocation p50", [f"{warm[c]['p50Ms']:.2f} ms" for c in cols])
        row("warm invocation p99", [f"{warm[c]['p99Ms']:.2f} ms" for c in cols])
        row("peak memory (VmHWM)", [mb(warm[c]["vmHwmBytes"]) for c in cols])
    row("size x86_64, stripped bootstrap (zip)",
        [f"{mb(sizes[c]['strippedBytes'])} ({mb(sizes[c]['zipBytes'])})" if c in sizes else "n/a (Python)"
         for c in cols])
    if all(req.get(c) for c in cols):
        pick = {"payout-payout": [0, 1, 2], RUST_PEER: [0, 1, 2], PEER: [0, 1, 3]}
        for k, label in enumerate(["new payout paid", "retry of a paid payout", "unknown control number"]):
            row(f"DynamoDB requests: {label}",
                [f"{req[c][pick[c][k]]['requests']} ({req[c][pick[c][k]]['answer']})" for c in cols])
    add("")
    hello_cold, hello_warm, ours_warm = cold.get(HELLO), warm.get(HELLO), warm.get("payout-payout")
    if hello_cold and hello_warm and ours_warm:
        trip = ours_warm["p50Ms"] - hello_warm["p50Ms"]
        floor = hello_cold["medianMs"] + trip
        add(f"**The floor**: the hello-world's cold start ({ms(hello_cold['medianMs'])}) plus one warm DynamoDB "
            f"round trip ({trip:.2f} ms: payout-payout's warm p50 minus the hello-world's) = **{ms(floor)}**, "
            "what no function that must reach the ledger before it answers can beat.")
        add("")
        add("| | cold start (median) | above the floor |")
        add("|---|---|---|")
        for c in cols:
            if cold.get(c):
                above = cold[c]["medianMs"] - floor
                add(f"| {c} | {ms(cold[c]['medianMs'])} | {above:+.1f} ms ({cold[c]['medianMs'] / floor:.2f}x) |")
        add("")
    add("A byte-identical retry is answered by Powertools from its idempotency record: the Python peer replays "
        "the first call's `1000`, where SPEC section 4 (and both Rust functions) answer `-1026`. A retry that "
        "differs in any byte (another payTime) is a new payload to Powertools and reaches the ledger.")
    add("")
    return lines


def render(r: dict, args) -> str:
    m = r["machine"]
    lines: list[str] = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("Written by `bench/run.sh` (harness `bench/bench.py`); raw figures in `bench/out/results.json`. "
        "A benchmark, not a test: nothing in `cargo test` depends on these numbers.")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| date | {m['date']} |")
    add(f"| CPU | {m['cpu']}, {m['cores']} cores, {m['memoryGiB']} GiB |")
    add(f"| kernel | {m['kernel']} |")
    add(f"| rustc | {m['rustc']} |")
    add(f"| Python (peer) | {m['python']} |")
    add(f"| commit | {m['commit']}{' + uncommitted changes' if m['dirty'] else ''} |")
    la0, la1 = m["loadAverageAtStart"], m.get("loadAverageAtEnd", (0, 0, 0))
    add(f"| load average (1 min) at start / end | {la0[0]:.2f} / {la1[0]:.2f} |")
    add(f"| harness time (after builds) | {m.get('harnessSeconds', 0):.0f} s |")
    add("")
    add("MB = 10^6 bytes. Budgets from issue 5.")
    add("")

    # budget table
    add("## Budgets")
    add("")
    add("| what | measured | budget | |")
    add("|---|---|---|---|")
    cold = r.get("cold", {})
    hello = cold.get(HELLO, {}).get("medianMs")
    for f in FUNCTIONS:
        c = cold.get(f)
        if c and hello:
            ratio = c["medianMs"] / hello
            add(f"| cold start {f} / hello-world | {ratio:.2f}x ({c['medianMs']:.1f} / {hello:.1f} ms) | <= {BUDGET_COLD_RATIO}x | {verdict(ratio <= BUDGET_COLD_RATIO)} |")
    c = cold.get(REFUSED)
    if c and hello:
        ratio = c["medianMs"] / hello
        add(f"| cold start {REFUSED}, no DynamoDB request / hello-world | {ratio:.2f}x ({c['medianMs']:.1f} / {hello:.1f} ms) | <= {BUDGET_COLD_RATIO}x (see section 1) | {verdict(ratio <= BUDGET_COLD_RATIO)} |")
    for f, rows in r.get("requests", {}).items():
        if f == PEER:
            continue
        checked = [row for row in rows if row["expected"] is not None]
        if checked:
            bad = [row for row in checked if row["requests"] != row["expected"]]
            budget = {"payout-queue": "write, push, update: 2 per pushed payout (docs/ledger.md)",
                      "partner-api": "as docs/ledger.md lists per route (a read: GetItem + one Query page)",
                      "ledger-events": "none (the stream is read by Lambda)"}.get(
                f, "1 per call reaching the ledger, 0 before")
            add(f"| DynamoDB requests per call, {f} | {len(checked) - len(bad)}/{len(checked)} paths as documented | {budget} | {verdict(not bad)} |")
        else:
            detail = "; ".join(f"{row['path']}: {row['requests']}" for row in rows)
            add(f"| DynamoDB requests per message, {f} | {detail} | reported (write, push, update + reads) | - |")
    for f in FUNCTIONS:
        s = r.get("sizes", {}).get("x86_64", {}).get(f)
        if s:
            add(f"| size {f} x86_64 (stripped bootstrap; zip) | {mb(s['strippedBytes'])}; zip {mb(s['zipBytes'])} | <= 6 MB | {verdict(s['strippedBytes'] <= BUDGET_SIZE_BYTES)} |")
    for f in FUNCTIONS:
        s = r.get("sizes", {}).get("arm64", {}).get(f)
        if s:
            add(f"| size {f} arm64 (stripped bootstrap; zip) | {mb(s['strippedBytes'])}; zip {mb(s['zipBytes'])} | <= 6 MB | {verdict(s['strippedBytes'] <= BUDGET_SIZE_BYTES)} |")
    for f in FUNCTIONS:
        w = r.get("warm", {}).get(f)
        if w and w.get("vmHwmBytes"):
            add(f"| peak memory {f} (VmHWM after {w['invocations']} warm invocations) | {mb(w['vmHwmBytes'])} | <= 24 MB | {verdict(w['vmHwmBytes'] <= BUDGET_MEMORY_BYTES)} |")
    for action, h in r.get("handler", {}).items():
        add(f"| warm handler {action} (criterion median) | {h['medianNs'] / 1000:.2f} us | <= 50 us | {verdict(h['medianNs'] <= BUDGET_HANDLER_NS)} |")
    for action, (plain, sealed) in aes_costs(r.get("handler", {})).items():
        added = sealed - plain
        add(f"| AES layer added per call, {action} (criterion medians) | {added / 1000:.2f} us | < 10 us | {verdict(added < BUDGET_AES_NS)} |")
    tp = [row for row in r.get("throughput", []) if not row.get("refused") and row["duplicates"] == 0]
    if tp:
        best = max(tp, key=lambda row: row["requestsPerSecond"])
        add(f"| skypay-local payoutPayout/s (distinct numbers, best of 1/8/64 clients) | {best['requestsPerSecond']} /s at {best['clients']} clients | >= {BUDGET_RPS} /s | {verdict(best['requestsPerSecond'] >= BUDGET_RPS)} |")
    rec = r.get("reconcile")
    if rec:
        n = rec["payouts"]
        first, second = rec["runs"][0], rec["runs"][1]
        pages = first["dynamodb"].get("Query", 0)
        changed = sum(first["run"]["applied"].values())
        writes = first["dynamodb"].get("TransactWriteItems", 0)
        queries = first["skypay"].get("payoutQueryStatus", 0)
        add(f"| reconcile, {n:,} open payouts: wall time of one run | {first['wallSeconds']:.2f} s | reported | - |")
        add(f"| reconcile: index Query pages | {pages} | one per 1,000 payouts (+1 empty last page): {n // 1000 + 1} | {verdict(pages <= n // 1000 + 1)} |")
        add(f"| reconcile: writes per changed payout | {writes} for {changed} changed | 1 each | {verdict(writes == changed)} |")
        add(f"| reconcile: writes when nothing changed (30 min later) | {second['dynamodb'].get('TransactWriteItems', 0)} | 0 | {verdict(second['dynamodb'].get('TransactWriteItems', 0) == 0)} |")
        add(f"| reconcile: payoutQueryStatus calls | {queries} | {n // 50} (50 numbers each) | {verdict(queries == n // 50)} |")
    add("")

    # section 1
    add("## 1. Cold start")
    add("")
    add(f"Each function's release bootstrap under `aws-lambda-rie` (from the aws-sam-cli wheel), {args.runs} runs each, "
        "interleaved. RIE starts the bootstrap lazily, at the first invocation: **first invocation** is "
        "from sending that invocation (RIE already listening) to its answer, so it covers the bootstrap's "
        "spawn, its init (config, SDK client) and the first event, DynamoDB request included. **init** is "
        "RIE's own `INIT REPORT(durationMs)`: bootstrap start to its first `/next`. The payout-payout and "
        "peer events pay a fresh registered number each run, collection-collect's sample event carries a "
        "new receiptNumber each run, payout-queue-payout's sample event is sent as it is, and payout-queue "
        "gets `events/payout-queue.json`'s SQS message with a new message id and a GCash instruction, "
        "pushed to the fake SkyPay.")
    add("")
    add("| function | first invocation, median | min | p90 | max | ratio to hello | init (RIE), median | first event (RIE), median | answers |")
    add("|---|---|---|---|---|---|---|---|---|")
    for f in [HELLO, *FUNCTIONS, REFUSED, *PEERS]:
        c = cold.get(f)
        if not c:
            continue
        ratio = f"{c['medianMs'] / hello:.2f}x" if hello else "n/a"
        answers = ", ".join(f"{k} x{v}" for k, v in c["answers"].items())
        add(f"| {f} | {ms(c['medianMs'])} | {ms(c['minMs'])} | {ms(c['p90Ms'])} | {ms(c['maxMs'])} | {ratio} | {ms(c['initMedianMs'])} | {ms(c.get('firstInvokeMedianMs'))} | {answers} |")
    add("")
    add("**first event (RIE)** is RIE's `INVOKE RTDONE` duration of that first invocation: the handler "
        "alone, DynamoDB request included. first invocation - init - first event is RIE's own share "
        "(starting the process, passing the event and the answer). **payout-payout (-1001)** is the "
        "payout-payout bootstrap with a wrong key: the same init, and a first event refused before the "
        "ledger, so no DynamoDB request; the hello-world makes none either. The difference between the "
        "two payout-payout rows is what the first DynamoDB request costs.")
    add("")
    h = cold.get(HELLO)
    if h and h.get("initMedianMs") is not None and h.get("firstInvokeMedianMs") is not None:
        add("Where each function's cold start goes beyond hello-world's (medians):")
        add("")
        add("| function | first invocation | of which init | of which first event | the rest (RIE) |")
        add("|---|---|---|---|---|")
        for f in [*FUNCTIONS, REFUSED, *PEERS]:
            c = cold.get(f)
            if not c or c.get("initMedianMs") is None or c.get("firstInvokeMedianMs") is None:
                continue
            total = c["medianMs"] - h["medianMs"]
            init = c["initMedianMs"] - h["initMedianMs"]
            first = c["firstInvokeMedianMs"] - h["firstInvokeMedianMs"]
            add(f"| {f} | +{total:.1f} ms | {init:+.1f} ms | {first:+.1f} ms | {total - init - first:+.1f} ms |")
        add("")
    paid, refused = cold.get("payout-payout"), cold.get(REFUSED)
    warm = r.get("warm", {})
    if (paid and refused and paid.get("firstInvokeMedianMs") is not None
            and refused.get("firstInvokeMedianMs") is not None
            and "payout-payout" in warm and HELLO in warm and hello):
        first_request = paid["firstInvokeMedianMs"] - refused["firstInvokeMedianMs"]
        warm_request = warm["payout-payout"]["p50Ms"] - warm[HELLO]["p50Ms"]
        add(f"**What bounds the cold-start budget.** Without its DynamoDB request (the -1001 row) "
            f"payout-payout starts in {refused['medianMs'] / hello:.2f}x the hello-world's time. With it, "
            f"the first event takes {first_request:.1f} ms longer; warm, the same request costs "
            f"{warm_request:.1f} ms (section 4: payout-payout's p50 minus hello-world's). So the excess "
            "over the budget is the first DynamoDB request, which the hello-world does not make: the "
            "round trip to the emulator, and the SDK's first-use work (endpoint rules, the HTTPS "
            "connector, signing: about a million instructions, see the callgrind profile in "
            "bench/README.md). The budget holds for the function itself and cannot hold for a call "
            "that must reach the ledger before it answers.")
        add("")

    # section 2
    add("## 2. DynamoDB requests per call")
    add("")
    add("Requests reaching ddb-local (the counting proxy), reset before and read after each invocation of the "
        "release bootstrap under RIE. Expected: `docs/ledger.md`.")
    add("")
    for f, rows in r.get("requests", {}).items():
        add(f"### {f}")
        add("")
        add("| call path | answer | requests | by operation | expected | |")
        add("|---|---|---|---|---|---|")
        for row in rows:
            ops = ", ".join(f"{k} {v}" for k, v in row["byOperation"].items()) or "-"
            if row["pushes"]:
                ops += f" (+{row['pushes']} push to SkyPay)"
            expected = "report" if row["expected"] is None else str(row["expected"])
            ok = "-" if row["expected"] is None else verdict(row["requests"] == row["expected"])
            add(f"| {row['path']} | {row['answer']} | {row['requests']} | {ops} | {expected} | {ok} |")
        add("")

    # section 3
    add("## 3. Binary size")
    add("")
    add("The release bootstrap (`strip --strip-all` on a copy, a no-op with the profile's `strip = true`), and "
        "`bootstrap.zip` (deflate level 9, as `zip -9`).")
    add("")
    add("| function | arch | binary | stripped | zip |")
    add("|---|---|---|---|---|")
    for arch, sizes in r.get("sizes", {}).items():
        for f, s in sizes.items():
            add(f"| {f} | {arch} | {mb(s['binaryBytes'])} | {mb(s['strippedBytes'])} | {mb(s['zipBytes'])} |")
    add("")

    # section 4
    add("## 4. Warm invocations and peak memory")
    add("")
    add(f"{args.warm} warm invocations of one instance each, one at a time (each a new payable number, receipt, "
        "event or message: every one reaches the ledger), round trip through RIE on a kept-alive "
        "connection; then VmHWM of the bootstrap process (RIE's child) from `/proc/<pid>/status`.")
    add("")
    add("| function | p50 | p99 | mean | VmHWM | answers |")
    add("|---|---|---|---|---|---|")
    for f in [HELLO, *FUNCTIONS, *PEERS]:
        w = r.get("warm", {}).get(f)
        if not w:
            continue
        answers = ", ".join(f"{k} x{v}" for k, v in w["codes"].items())
        add(f"| {f} | {w['p50Ms']:.2f} ms | {w['p99Ms']:.2f} ms | {w['meanMs']:.2f} ms | {mb(w['vmHwmBytes'])} | {answers} |")
    add("")

    # section 5
    if r.get("handler"):
        add("## 5. Warm handler time without DynamoDB")
        add("")
        add("criterion (`cargo bench -p skypay --bench handler`, `shared/benches/handler.rs`): the gateway's "
            "own admit step (decode -> authenticate -> action -> field rules) and its reply (the envelope), "
            "`skypay::Admission` itself, on each event's body; `_aes` rows on the same body encrypted "
            "(`events/encrypted/`, made by openssl), decrypted on the way in and the reply encrypted.")
        add("")
        add("| action | median | 95% interval of the median | mean |")
        add("|---|---|---|---|")
        for action, h in r["handler"].items():
            add(f"| {action} | {h['medianNs'] / 1000:.2f} us | {h['medianLowNs'] / 1000:.2f}-{h['medianHighNs'] / 1000:.2f} us | {h['meanNs'] / 1000:.2f} us |")
        add("")
        if r.get("mapping"):
            mp = r["mapping"]
            add(f"ledger-events' mapping (criterion, `functions/ledger-events/benches/mapping.rs`): "
                f"{mp['medianNsPerRecord'] / 1000:.2f} us per stream record, about "
                f"{mp['recordsPerSecond']:,.0f} records per second through the mapping (EventBridge aside).")
            add("")
        costs = aes_costs(r["handler"])
        if costs:
            add("The AES layer's cost per call (the `_aes` median minus the plain one):")
            add("")
            add("| action | plain | encrypted | added |")
            add("|---|---|---|---|")
            for action, (plain, sealed) in costs.items():
                add(f"| {action} | {plain / 1000:.2f} us | {sealed / 1000:.2f} us | {(sealed - plain) / 1000:.2f} us |")
            add("")

    # section 6
    add("## 6. skypay-local throughput")
    add("")
    add("`skypay-local --memory` (release) and `skypay-load` (bench/load) on the same machine: payoutPayout on "
        "control numbers registered beforehand (not timed), each paid once; the 20% mix repeats numbers "
        "paid earlier (-1026). The last row is a control: the same load refused before the ledger (-1001). "
        "CPU is the server's (all its threads, from `/proc/<pid>/task/*/stat`) and the generator's, over "
        "the run's wall time; 200% is both cores.")
    add("")
    add("| clients | mix | requests | req/s | p50 | p99 | answers | server CPU | server CPU per call | generator CPU | other processes | machine idle |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    cores = m.get("cores") or 1
    for row in r.get("throughput", []):
        mix = "refused (-1001)" if row.get("refused") else f"{row['duplicates']}% duplicates"
        answers = ", ".join(f"{k} x{v}" for k, v in row["codes"].items())
        if row.get("errors"):
            answers += f", {row['errors']} errors"
        idle = max(0.0, 100 * cores - row["machineBusyPercent"])
        add(f"| {row['clients']} | {mix} | {row['answered']} | {row['requestsPerSecond']} | {row['p50Us'] / 1000:.2f} ms | {row['p99Us'] / 1000:.2f} ms | {answers} | {row['serverCpuPercent']}% | {row['serverCpuUsPerCall']:.0f} us | {row['generatorCpuPercent']}% | {row['otherCpuPercent']}% | {idle:.0f}% |")
    add("")
    paying = [row for row in r.get("throughput", []) if not row.get("refused") and row["duplicates"] == 0 and row["clients"] > 1]
    refused = [row for row in r.get("throughput", []) if row.get("refused")]
    if paying and refused:
        per_call = statistics.median(row["serverCpuUsPerCall"] for row in paying)
        control = refused[0]["serverCpuUsPerCall"]
        add(f"Server CPU per payoutPayout: {per_call:.0f} us, against {control:.0f} us for the same call refused "
            f"before the ledger: {per_call - control:.0f} us ({100 * (per_call - control) / per_call:.0f}%) is the "
            "ledger path (the SDK request, loopback HTTP, and the embedded dynoxide/SQLite serving it, all on "
            f"the server's tokio workers). With both cores to itself the server could at best reach about "
            f"{cores * 1e6 / per_call:.0f} payoutPayout/s at that cost.")
        add("")
    busiest = [row for row in r.get("throughput", []) if row["clients"] == 64 and not row.get("refused") and row["duplicates"] == 0]
    if busiest:
        threads = busiest[0]["serverThreads"]
        add("Server CPU seconds by thread name, 64 clients, distinct numbers: "
            + ", ".join(f"`{k}` {v:.2f}s" for k, v in threads.items()) + ".")
        add("")

    # section 7
    lines.extend(render_peers(r))

    soaks = sorted(OUT.glob("soak-*.json"))
    if soaks:
        add("## 8. skypay-local under a sustained load (the soak)")
        add("")
        add("`bench/soak.py`: skypay-local (release) on a fresh `--data` ledger, collectionCollect on one "
            "contract by `skypay-load collect` (8 clients, a new receipt each call: one TransactWriteItems "
            "each), one minute at a time; after each minute the calls per second, the server's CPU per "
            "call (utime + stime) and its resident memory. `before` is skypay-local with the embedded "
            "ledger behind its own loopback HTTP server (the emulator keeping every ClientRequestToken); "
            "`after`, in process with the token dropped (skypay-local/src/embedded.rs).")
        add("")
        for path in soaks:
            soak = json.loads(path.read_text())
            add(f"**{soak['label']}** ({soak.get('commit') or soak['binary']}, {soak['date']}, "
                f"{soak['cores']} cores, {soak['clients']} clients):")
            add("")
            add("| minute | calls/s | p50 | p99 | server CPU per call | RSS | answers |")
            add("|---|---|---|---|---|---|---|")
            for row in soak["minutes"]:
                answers = ", ".join(f"{k} x{v}" for k, v in row["codes"].items())
                if row.get("errors"):
                    answers += f", {row['errors']} errors"
                add(f"| {row['minute']} | {row['callsPerSecond']} | {row['p50Us'] / 1000:.2f} ms | "
                    f"{row['p99Us'] / 1000:.2f} ms | {row['serverCpuPerCallUs']} us | "
                    f"{row['rssBytes'] / 1e6:.1f} MB | {answers} |")
            add("")

    if rec:
        add("## 9. Reconciliation: one run over open pushed payouts")
        add("")
        add(f"`reconcile-bench` (tests/support/bin/reconcile_bench.rs, release): {rec['payouts']:,} pushed payouts "
            "written by the ledger's own writes (registration, push outcome), the embedded DynamoDB behind the "
            "counting proxy, skypay-sim on loopback with the AES layer on. SkyPay's side says 10% were paid and "
            "5% uploaded. The clock is moved 301 s past the pushes, then 30 minutes for the second run.")
        add("")
        add("| run | wall time | DynamoDB requests | SkyPay calls | applied | unchanged |")
        add("|---|---|---|---|---|---|")
        for one in rec["runs"]:
            ops = ", ".join(f"{k} {v}" for k, v in sorted(one["dynamodb"].items()))
            calls = ", ".join(f"{k} {v}" for k, v in sorted(one["skypay"].items()))
            applied = ", ".join(f"{k} {v}" for k, v in sorted(one["run"]["applied"].items())) or "none"
            add(f"| {one['label']} | {one['wallSeconds']:.2f} s | {ops} | {calls} | {applied} | {one['run']['unchanged']} |")
        add("")
        add("GetItem and the two UpdateItems are the run gate (taken, released with the query history); the "
            "last Query page is empty when the count is a multiple of 1,000 (DynamoDB returns a "
            "LastEvaluatedKey for a full page).")
        add("")

    if r.get("notes"):
        add("## Notes")
        add("")
        for note in r["notes"]:
            add(f"- {note}")
        add("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="cold starts per function (default 20)")
    parser.add_argument("--warm", type=int, default=1000, help="warm invocations per function (default 1000)")
    parser.add_argument("--load-requests", type=int, default=10000,
                        help="payoutPayout calls per throughput run at 8 and 64 clients (a third at 1)")
    parser.add_argument("--skip-build", action="store_true", help="use the binaries already built")
    parser.add_argument("--skip-criterion", action="store_true", help="leave out section 5")
    parser.add_argument("--no-arm64", action="store_true", help="do not build arm64 with cargo-lambda")
    parser.add_argument("--peers", action="store_true",
                        help="only section 7: payout-payout beside the Rust and Python peers (and the floor)")
    parser.add_argument("--cold", action="store_true",
                        help="only section 1: every function's cold start beside the hello-world's")
    args = parser.parse_args()

    processes.stop_on_signals()
    try:
        if args.peers:
            if not args.skip_build:
                build_peers()
            Harness(args).run_peers()
            return
        if args.cold:
            if not args.skip_build:
                build_cold()
            Harness(args).run_cold()
            return
        if not args.skip_build:
            build(args.skip_criterion)
            if not args.no_arm64:
                build_arm64()
        Harness(args).run()
    finally:
        stop_all()


if __name__ == "__main__":
    main()
