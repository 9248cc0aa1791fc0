"""A short run of outage_harness.py (the full one: `scripts/outage-harness.sh`): PostgreSQL
stopped and started under write load; the server fails fast with InternalErrorException while
it is down, answers again by itself when it returns, and loses no acknowledged write."""

from __future__ import annotations

import os

import pytest

import outage_harness


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL unset (no PostgreSQL here)")
def test_postgres_outage_fails_fast_recovers_and_loses_no_acknowledged_write(tmp_path):
    out = outage_harness.run(2, tmp_path, load_secs=1.0, down_secs=1.5)
    assert out["problems"] == [], out["problems"]
    # The load really ran through the outages: writes landed and calls were refused meanwhile.
    assert out["pools"] > 0 and out["enrolled"] > 0, out
    assert out["outage_calls"] > 0 and out["writer_errors"] > 0, out
