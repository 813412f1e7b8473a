"""The floor: a bare Flask endpoint that only parses the JSON body (``gunicorn bench.floor:app``)."""

from __future__ import annotations

import json

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/cds-services/<service_id>")
def call(service_id: str) -> Response:
    json.loads(request.get_data(cache=False))
    return Response('{"cards": []}', mimetype="application/json")


@app.get("/healthz")
def health() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")
