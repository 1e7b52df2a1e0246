"""Web accounts: who may sign in, and what they may do in which project.

- :mod:`~powerdialer.accounts.users`: users and their roles in projects (created by the CLI or
  by a project's owners), emails and locales, the first-run owner;
- :mod:`~powerdialer.accounts.sessions`: signing in and out, server-side sessions, changing
  one's password, choosing a project;
- :mod:`~powerdialer.accounts.members`: a project's team as its owners manage it in the UI;
- :mod:`~powerdialer.accounts.passwords`: argon2id hashes and the rules for new passwords;
- :mod:`~powerdialer.accounts.throttling`: locks after repeated wrong passwords;
- :mod:`~powerdialer.accounts.models`: the shapes (``User``, ``Role``, ``Membership``,
  ``WebSession``).

Projects and their API keys are not accounts: :mod:`powerdialer.projects`,
:mod:`powerdialer.keys`.  The SQL is :mod:`powerdialer.storage.accounts` and
:mod:`powerdialer.storage.members`.
"""
