"""The metrics operators alarm and graph on, read from the EMF lines the functions print."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from medialib.services.sweeping import sweep
from tests.integration.test_lifecycle import LATER, palette_png_without_plte, stalled
from tests.support.api import jpeg_bytes, land, presign, process_records
from tests.support.aws import mocked_aws

NAMESPACE = "MediaLibrary"


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


@pytest.fixture
def emitted(monkeypatch, capsys):
    """Metrics on for one test; returns a reader of every metric printed so far, as
    (name, value, dimensions) triples."""
    from medialib.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()

    def read() -> list[tuple[str, float, dict[str, str]]]:
        found = []
        for line in capsys.readouterr().out.splitlines():
            if not line.startswith("{") or '"_aws"' not in line:
                continue
            record = json.loads(line)
            for directive in record["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == NAMESPACE
                dimensions = {name: record[name] for names in directive["Dimensions"] for name in names}
                for metric in directive["Metrics"]:
                    values = record[metric["Name"]]
                    for value in values if isinstance(values, list) else [values]:
                        found.append((metric["Name"], value, dimensions))
        return found

    yield read
    metrics.clear_metrics()


def confirmed(data: bytes, content_type: str = "image/jpeg") -> tuple[str, dict]:
    from tests.integration.test_lifecycle import confirm

    _, _, body = presign(size=len(data), content_type=content_type)
    upload_id = body["data"]["upload_id"]
    record = land(upload_id, data)
    assert confirm(upload_id)[0] == 201
    return upload_id, record


def test_processing_reports_how_long_it_took(emitted):
    _, record = confirmed(jpeg_bytes(640, 480))
    assert process_records(record) == {"batchItemFailures": []}
    durations = [value for name, value, _ in emitted() if name == "ProcessingDuration"]
    assert len(durations) == 1 and durations[0] > 0


def test_a_failure_is_counted_with_its_code_as_a_dimension(emitted):
    _, record = confirmed(palette_png_without_plte(), "image/png")
    assert process_records(record) == {"batchItemFailures": []}
    metrics = emitted()
    assert ("MediaFailed", 1.0, {"service": "medialib"}) in metrics
    assert ("MediaFailedByCode", 1.0, {"service": "medialib", "ErrorCode": "corrupt"}) in metrics


def test_the_sweeper_counts_items_stalled_in_processing_zero_included(emitted):
    from medialib.observability import metrics

    sweep(datetime.now(UTC) + LATER)
    metrics.flush_metrics()
    assert [value for name, value, _ in emitted() if name == "StalledProcessing"] == [0]

    first, second = stalled("acme"), stalled("globex")
    report = sweep(datetime.now(UTC) + LATER)
    assert set(report.reprocessed) == {first, second}
    metrics.flush_metrics()
    assert [value for name, value, _ in emitted() if name == "StalledProcessing"] == [2]
