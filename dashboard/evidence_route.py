"""Serves evidence files (snapshots, clips) to the screen from the evidence folder only."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, send_from_directory

EVIDENCE_URL = "/evidence/"
SERVED_SUFFIXES = {".jpg", ".jpeg", ".png", ".mp4", ".webm"}


def evidence_url(relative_path: str) -> str:
    """The URL of a path stored relative to the evidence root (as alerts keep it)."""
    return EVIDENCE_URL + relative_path.lstrip("/")


def register_evidence_route(server: Flask, evidence_dir: Path) -> None:
    """GET /evidence/<path> answers files under evidence_dir and nothing outside it."""

    @server.get(EVIDENCE_URL + "<path:relative_path>")
    def evidence(relative_path: str) -> Response:
        if Path(relative_path).suffix.lower() not in SERVED_SUFFIXES:
            abort(404)
        # send_from_directory refuses '..', absolute paths and anything resolving outside.
        return send_from_directory(evidence_dir.resolve(), relative_path, max_age=3600)
