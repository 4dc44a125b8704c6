"""Section 3: binary sizes, the stripped bootstrap and its zip, x86_64 and arm64."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from .builds import ARM64_NOTES
from .common import FUNCTIONS, HELLO, OUT, RUST_PEER, RUST_PEER_DIR, log


class Sizes:
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
