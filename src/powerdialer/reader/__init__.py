"""The file reader: CRM exports (CSV/TSV, XLSX/XLS/ODS, JSON Lines) streamed as records.

A pure library, shared by the server's import jobs (:mod:`powerdialer.importing`) and the
client's ``powerdialer fill`` (:mod:`powerdialer.fill`): it imports no web framework, no CLI,
no database and nothing of the server (a test pins it).

- :mod:`~powerdialer.reader.open`: :func:`~powerdialer.reader.open.open_table` and
  :func:`~powerdialer.reader.open.preview`, the way in;
- :mod:`~powerdialer.reader.table`: what an open file yields (``Table``, ``Record``);
- :mod:`~powerdialer.reader.headers` and :mod:`~powerdialer.reader.header_names`: which
  column is the phone, the name, the CRM id (``Mapping``, ``AUTO``);
- :mod:`~powerdialer.reader.fields`: which other columns become custom fields;
- :mod:`~powerdialer.reader.sniff`: format, encoding and delimiter from the first bytes;
- :mod:`~powerdialer.reader.sources`: rows and cell text per format;
- :mod:`~powerdialer.reader.bounds`: a workbook's size, checked before it is read;
- :mod:`~powerdialer.reader.errors`: ``ReaderError`` and its kinds.
"""
