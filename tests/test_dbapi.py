"""Statements in the server's own placeholders (storage/dbapi.py ``numbered``), which the
compatible endpoint's multi-row INSERT is sent in, unparsed, on PostgreSQL."""

from __future__ import annotations

from powerdialer.storage.dbapi import numbered


def test_postgresql_rows_are_numbered_in_order_across_rows() -> None:
    assert numbered("postgresql", 3, 2) == "($1, $2, $3), ($4, $5, $6)"


def test_sqlite_rows_use_question_marks() -> None:
    assert numbered("sqlite", 2, 2) == "(?, ?), (?, ?)"
