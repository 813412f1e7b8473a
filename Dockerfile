FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RELAPSED_ALL_CDS_DATABASE_URL=sqlite:////data/feedback.sqlite3

# Build and install the wheel; the default code maps travel inside the package
# (service/code_maps), so the source tree is not needed at run time.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY service ./service
COPY mappings ./mappings
RUN pip install . \
    && cd / && rm -rf /build \
    && useradd --system --uid 10001 --no-create-home cds \
    && mkdir -p /data && chown cds /data

# JWT client authentication is on: the container refuses to start until the URL clients call is
# given (docker run -e RELAPSED_ALL_CDS_PUBLIC_BASE_URL=https://cds.hospital.example
# -e RELAPSED_ALL_CDS_ISSUERS='{...}'); see README "Production". A site's own code maps:
# mount a folder and set RELAPSED_ALL_CDS_MAPPINGS to it.
WORKDIR /srv
USER cds
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "--workers", "2", "--timeout", "30", "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(L)s", "--access-logfile", "-", "service.wsgi:app"]
