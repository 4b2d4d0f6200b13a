"""Structured log lines carry the `extra` fields."""

import json
import logging

from node.logs import KeyValueFormatter


def _record(**extra):
    record = logging.LogRecord("node.worker", logging.INFO, __file__, 1, "batch taken", None, None)
    record.__dict__.update(extra)
    return record


def test_key_value_format_appends_extra_fields():
    line = KeyValueFormatter().format(_record(batch_id=3, jobs=16))
    assert line.endswith("INFO node.worker batch taken batch_id=3 jobs=16")


def test_json_format_is_one_object_per_line():
    payload = json.loads(KeyValueFormatter(as_json=True).format(_record(batch_id=3)))
    assert payload["event"] == "batch taken"
    assert payload["batch_id"] == 3
    assert payload["level"] == "INFO"
