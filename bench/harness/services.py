"""What the functions talk to: ddb-local (the counting DynamoDB emulator) and skypay-local, and
the functions' environment; skypay-load, the load generator."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from fakes import FakeSkyPay
from processes import free_port, spawn, stop, wait_port

from .common import KEY, PREFIX, TABLE, USER, http_request


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
