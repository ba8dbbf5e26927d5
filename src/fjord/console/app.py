"""The web console, mounted beside the control plane's API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:  # the control plane hands itself in; the console never imports it
    from fjord.control.service import ControlPlane


def install(app: FastAPI, plane: ControlPlane) -> None:
    pass
