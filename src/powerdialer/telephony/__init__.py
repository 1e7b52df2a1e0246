"""Placing the operator's call: the ways a project can dial (a ``tel:``/``sip:`` link to the
operator's own softphone, the browser softphone, or a server-side originate through the
project's PBX), and what a call's SIP answer proposes as its outcome.

``base`` holds the shapes every way shares; each server-side way is one module
(``http``, ``ami``, ``esl``, ``kamailio``) implementing :class:`base.Originator`.
"""
