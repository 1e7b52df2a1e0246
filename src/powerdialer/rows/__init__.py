"""A campaign's rows: every way they arrive, are stored and are read back.

- ``validate``: the pure checks of a row (number, name, CRM id, custom fields) that the
  compatible endpoint, the bulk API, the UI, import jobs and the fill client share;
- ``intake``: the vendor-compatible endpoint's rows, checked at the edge and stored in
  group-commit batches (the hot path);
- ``write``: many rows at once under the campaign's duplicate policy (bulk requests, the
  UI's add-row, import chunks), and ``add_rows``, the door the edges call;
- ``listing``: filtered keyset pages, one row, deletion;
- ``exporting`` (with ``xlsx``): a campaign's rows streamed as CSV or XLSX;
- ``models``: the shapes that storage shares.

Their SQL is ``storage/rows_*.py``, one module each for intake, write, import and read.
"""
