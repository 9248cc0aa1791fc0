"""A short run of crash_harness.py (the full one: `python3 tests/python/crash_harness.py
--cycles 20 --store sqlite|postgres`): kill -9 under concurrent write load, on SQLite and on
PostgreSQL, and no acknowledged write lost."""

from __future__ import annotations

import os

import pytest

import crash_harness


def test_kill_9_under_load_loses_no_acknowledged_write_on_sqlite(tmp_path):
    out = crash_harness.run(3, "sqlite", tmp_path)
    assert out["pools"] > 0 and out["enrolled"] > 0, out
    assert out["problems"] == [], out["problems"]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL unset")
def test_kill_9_under_load_loses_no_acknowledged_write_on_postgres(tmp_path):
    out = crash_harness.run(3, "postgres", tmp_path)
    assert out["pools"] > 0 and out["enrolled"] > 0, out
    assert out["problems"] == [], out["problems"]
