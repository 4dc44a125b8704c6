"""The harness's state, the functions' commands and environments under RIE, and the setup: the
services and the ledger's seed."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeEventBridge, FakeSkyPay
from processes import Rie

from .builds import find_rie, target_dir
from .common import (IDEMPOTENCY_TABLE, PEER, PEER_DIR, REFUSED, RUST_PEER, RUST_PEER_DIR, VENV, log,
                     machine, run)
from .events import wallet_instruction
from .services import DdbLocal, Local, lambda_env, skypay_load


class HarnessBase:
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
