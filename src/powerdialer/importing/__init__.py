"""Import jobs: a CRM export uploaded to the server and imported into a campaign in the
background.

- :mod:`~powerdialer.importing.uploads`: uploaded files on this instance's disk;
- :mod:`~powerdialer.importing.previews` and :mod:`~powerdialer.importing.sandbox`: a "check
  your columns" look at an upload, read in a child process with a memory limit;
- :mod:`~powerdialer.importing.jobs`: a job's lifecycle in the database;
- :mod:`~powerdialer.importing.runner` (in the server) and
  :mod:`~powerdialer.importing.worker` (child processes that read and validate the file);
- :mod:`~powerdialer.importing.rejects`: a job's rejected rows as a CSV download.

Reading the file itself (CSV, XLSX, ODS, JSON Lines) is the pure library
:mod:`powerdialer.reader`, which ``powerdialer fill`` uses too.
"""
