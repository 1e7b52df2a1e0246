"""Routes: campaigns (see the module docstring once filled in)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
