"""Section 2's call paths: every path of every endpoint, with the DynamoDB requests it should make."""

from __future__ import annotations

from .common import PEER, RUST_PEER
from .events import (admin_event, api_event, callback_body, collect_body, collection_inquiry_body,
                     finance_body, inquiry_body, payout_body, sample_event, sqs_event,
                     wallet_instruction)


class CallPaths:
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
                ("shop pickup (channel 1): registered QUEUED", 1, sqs_event("bench-pickup-1", {"controlNumber": "SKY016600000002", "name": "Cruz,Juan", "phone": "09171234567", "amount": "3400.00", "withdrawChannel": 1})),
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
