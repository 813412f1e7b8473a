"""What an operator sees of the running service: JSON logs, Prometheus metrics, the facts of
each request that both report, and the operational HTTP routes (``/healthz``, ``/metrics``,
``/openapi.json``)."""
