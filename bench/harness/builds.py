"""The cargo builds the harness needs, and the emulator from the aws-sam-cli wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .common import FUNCTIONS, HELLO, ROOT, RUST_PEER_DIR, VENV, log, run


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
