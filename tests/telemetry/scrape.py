"""Reading a scrape: the value of one sample, by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 if none)."""
    return sum(v for n, found, v in samples(text) if n == name and labels.items() <= found.items())


def label_values(text: str, name: str, label: str) -> set[str]:
    return {found[label] for n, found, _ in samples(text) if n == name and label in found}
