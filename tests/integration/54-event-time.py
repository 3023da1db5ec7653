#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""Issue 16, item 11: an event time that is not a time is said in the report,
never silently replaced by another instant.

kms-guard (the contract's trigger parsing is shared by every responder, in
runtime/resp.c) runs on the same ScheduleKeyDeletion event three ways:
a valid time, an impossible one ("2026-02-30T25:61:00Z", out of range in
every field), and one that timegm would have normalised into 2 March
("2026-02-30T10:00:00Z"). The key is contained each time (the decision is
AWS's real state, not the event's clock); the report flags the bad time in
"warnings" and trigger.event_time_valid, keeps it as sent, and has no
event-based timings. Prints "N passed, N failed".
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

FN = "kms-guard"
ACCT = "111111111111"
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
SEED = {"default_account": ACCT,
        "kms": {"keys": [{"KeyId": KEY, "KeyState": "PendingDeletion", "DeletionDate": 1900000000,
                          "PendingDeletionWindowInDays": 7}]}}


def event(when):
    with open(os.path.join(fbtest.ROOT, "events", FN, "schedule-deletion-enabled-key.json")) as f:
        ev = json.load(f)
    ev["time"] = when
    ev["detail"]["eventTime"] = when
    return ev


class EventTime(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(SEED).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.seed(SEED)
        self.fake.reset()

    def key_state(self):
        return [k for k in self.fake.state()["kms"]["keys"] if k["KeyId"] == KEY][0]["KeyState"]

    def test_valid_time_has_no_warning(self):
        res = fbtest.invoke(FN, event("2024-03-01T10:00:30Z"), self.fake)
        rep = res.report
        self.assertNotIn("warnings", rep)
        self.assertNotIn("event_time_valid", rep["trigger"])
        self.assertEqual(rep["timings"]["event_time"], "2024-03-01T10:00:30.000Z")

    def check_flagged(self, when):
        res = fbtest.invoke(FN, event(when), self.fake)
        rep = res.report
        self.assertEqual(rep["trigger"]["event_time"], when)
        self.assertIs(rep["trigger"].get("event_time_valid"), False)
        self.assertTrue(any(when in w and "not a valid timestamp" in w for w in rep.get("warnings", [])),
                        rep.get("warnings"))
        self.assertIsNone(rep["timings"]["event_time"])
        self.assertIsNone(rep["timings"]["event_to_contained_ms"])
        # Still contained: the key's real state decides, not the event's clock.
        self.assertNotEqual(self.key_state(), "PendingDeletion")

    def test_impossible_time_is_flagged(self):
        self.check_flagged("2026-02-30T25:61:00Z")

    def test_normalisable_time_is_flagged_not_moved_to_march(self):
        self.check_flagged("2026-02-30T10:00:00Z")


if __name__ == "__main__":
    fbtest.main([EventTime])
