"""The fakes both Python harnesses use (scripts/rie_check.py and bench/bench.py): one fake SkyPay
and one fake EventBridge on loopback, and SkyPay's AES layer by an independent implementation
(Python's `cryptography`, imported only when a key is given: the benchmark runs on the standard
library alone).

    import sys; sys.path.insert(0, "<repo>/scripts/lib")
    from fakes import FakeSkyPay, FakeEventBridge
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import json
import threading

MANILA = dt.timezone(dt.timedelta(hours=8))


def aes_key(secret: str) -> bytes:
    """SkyPay's key derivation (SPEC 13.1): the first 16 bytes of SHA-1(SHA-1(secret))."""
    return hashlib.sha1(hashlib.sha1(secret.encode()).digest()).digest()[:16]


def decrypt(key: bytes, text: bytes) -> bytes:
    """SkyPay's AES layer (AES-128-ECB, PKCS#7, Base64), by Python's cryptography."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def encrypt(key: bytes, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize())


def response_time() -> str:
    """SkyPay's envelope time: Manila, four fractional digits."""
    now = dt.datetime.now(MANILA)
    return now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 100:04d}"


def skypay_answer(body: dict) -> str:
    """What the fake SkyPay answers: payoutQueue 1000; payoutQueryStatus every number asked as
    Completed (status "1", as SkyPay's sample writes it), paid now; balanceQuery a balance; the
    reports an empty last page (no envelope, as SkyPay's sample)."""
    envelope = {"responseTime": response_time(), "responseCode": "1000",
                "responseDescription": "Success"}
    action = body.get("action")
    if action == "payoutQueryStatus":
        now = dt.datetime.now(MANILA).strftime("%Y-%m-%d %H:%M:%S")
        envelope["controlNumbers"] = [
            {"controlNumber": n.get("controlNumber"), "transactionDate": now, "status": "1",
             "statusDesc": "Completed", "payTime": now, "cancelTime": "", "withdrawChannel": "GCash",
             "referenceNo": "GC-RIE-1"}
            for n in body.get("controlNumbers") or []
        ]
    elif action == "balanceQuery":
        return json.dumps(envelope)[:-1] + ',"balance":726718.00}'
    elif action in ("getReportPayout", "getReportCollection"):
        return json.dumps({"totalTransaction": 0, "lastPage": True, "result": []})
    return json.dumps(envelope)


class _Server:
    """A threading HTTP server on 127.0.0.1 for one handler class."""

    def __init__(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle holds the body until the
    # client's delayed ACK (40 ms) and every call would look that slow.
    disable_nagle_algorithm = True

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def answer(self, content_type: str, body: bytes):
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class FakeSkyPay(_Server):
    """SkyPay's API on loopback (skypay_answer). With `key`, it speaks the encrypted protocol
    (SPEC 13.1): takes text/plain ciphertext and answers encrypted; without, plain JSON. Keeps
    every body it was sent (decrypted, with its content type) and counts the pushes."""

    def __init__(self, key: bytes | None = None):
        parent = self
        self.received: list[dict] = []
        self.pushes = 0

        class Handler(_Handler):
            def do_POST(self):  # noqa: N802
                raw = self.body()
                try:
                    body = json.loads(decrypt(key, raw) if key else raw)
                    answer = skypay_answer(body)
                    if body.get("action") == "payoutQueue":
                        parent.pushes += 1
                    body["contentType"] = self.headers.get("content-type")
                    parent.received.append(body)
                except Exception:  # noqa: BLE001 - anything unreadable is recorded as such
                    parent.received.append({"unreadable": raw.decode("utf-8", "replace")})
                    answer = json.dumps({"responseCode": "-1000",
                                         "responseDescription": "Post context is not valid"})
                if key:
                    self.answer("text/plain", encrypt(key, answer.encode()))
                else:
                    self.answer("application/json", answer.encode())

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}/api/payoutQueue"


class FakeEventBridge(_Server):
    """EventBridge's PutEvents on loopback: accepts every entry and keeps it."""

    def __init__(self):
        parent = self
        self.entries: list[dict] = []

        class Handler(_Handler):
            def do_POST(self):  # noqa: N802
                got = json.loads(self.body() or b"{}").get("Entries") or []
                parent.entries.extend(got)
                answer = json.dumps({"FailedEntryCount": 0,
                                     "Entries": [{"EventId": f"e-{i}"} for i in range(len(got))]})
                self.answer("application/x-amz-json-1.1", answer.encode())

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}"
