"""The web console, mounted beside the control plane's API."""

from __future__ import annotations

from fastapi import FastAPI

from fjord.control.service import ControlPlane


def install(app: FastAPI, plane: ControlPlane) -> None:
    pass
