#!/usr/bin/env bash
# Makes the encrypted events in this folder from the plain ones beside it, with an
# implementation independent of ours: `openssl enc -aes-128-ecb` (PKCS#7 padding) for SkyPay's AES
# layer (SPEC 2 and 13.1), and Python's hashlib for the key (the first 16 bytes of
# SHA1(SHA1(key's UTF-8 bytes))). The key is a test key, SkyPay-Partner-Secret; the tests and
# scripts/rie-check.sh configure SKYPAY_ENCRYPTION_KEY with it.
#
#   events/encrypted/make.sh     (needs openssl and python3; the output is committed)
set -euo pipefail
cd "$(dirname "$0")"
KEY_TEXT=SkyPay-Partner-Secret
key=$(python3 -c "import hashlib,sys; print(hashlib.sha1(hashlib.sha1(sys.argv[1].encode()).digest()).hexdigest()[:32])" "$KEY_TEXT")
for name in payout-inquiry payout-payout collection-inquiry collection-collect payout-queue-payout finance-notification; do
    body=$(python3 -c "import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))['body'])" "../$name.json")
    sealed=$(printf '%s' "$body" | openssl enc -aes-128-ecb -K "$key" -nosalt -base64 -A)
    python3 - "../$name.json" "$name.json" "$sealed" <<'PY'
import json, sys
source, target, sealed = sys.argv[1:]
event = json.load(open(source))
event["headers"]["content-type"] = "text/plain"
event["body"] = sealed
with open(target, "w") as f:
    json.dump(event, f, indent=2)
    f.write("\n")
PY
    echo "events/encrypted/$name.json"
done
