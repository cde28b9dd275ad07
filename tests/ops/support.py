"""Helpers of the operations tests: reading Prometheus text, isolating log configuration."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

LOGGERS = ("gateway", "gateway.access", "gateway.api", "uvicorn", "uvicorn.error",
           "uvicorn.access")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    found = False
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v
                                           for k, v in labels.items()):
                total += sample.value
                found = True
    assert found, f"no sample {name}{labels} in:\n{text}"
    return total


def label_values(text: str, name: str, label: str) -> set[str]:
    return {sample.labels[label] for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name and label in sample.labels}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Let a test install the gateway's logging configuration, and undo it afterwards (other
    tests rely on the gateway's records reaching pytest's capture)."""
    saved = {name: (logger.handlers[:], logger.propagate, logger.level, logger.filters[:])
             for name in LOGGERS if (logger := logging.getLogger(name))}
    yield
    for name, (handlers, propagate, level, filters) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.level = level
        logger.filters[:] = filters
