# The service as a hospital runs it: the installed wheel under gunicorn (no source tree at run
# time), configured by RELAPSED_ALL_CDS_* variables, feedback database under the /data volume.
#   docker build -t relapsed-all-cds .
#   docker run -p 8080:8080 -v cds-data:/data \
#     -e RELAPSED_ALL_CDS_PUBLIC_BASE_URL=https://cds.hospital.example \
#     -e RELAPSED_ALL_CDS_ISSUERS='{...}' -e RELAPSED_ALL_CDS_WORKERS=4 relapsed-all-cds

FROM python:3.11-slim AS wheel
WORKDIR /build
COPY constraints.txt pyproject.toml README.md LICENSE ./
COPY service ./service
COPY mappings ./mappings
# service/code_maps links to mappings/: the wheel carries the default code maps
RUN PIP_CONSTRAINT=constraints.txt pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RELAPSED_ALL_CDS_HOST=0.0.0.0 \
    RELAPSED_ALL_CDS_PORT=8080 \
    RELAPSED_ALL_CDS_DATABASE_URL=sqlite:////data/feedback.sqlite3

# Dependencies in their own layer, at the tested versions: rebuilt only when they change.
COPY constraints.txt pyproject.toml /deps/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/deps/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /deps/requirements.txt \
    && pip install -c /deps/constraints.txt -r /deps/requirements.txt

COPY --from=wheel /wheels /wheels
RUN pip install --no-deps /wheels/*.whl \
    && rm -rf /wheels /deps \
    && useradd --system --uid 10001 --no-create-home cds \
    && mkdir -p /data && chown cds /data

# JWT client authentication is on: the container refuses to start until the URL clients call is
# given (RELAPSED_ALL_CDS_PUBLIC_BASE_URL) and answers 503 at /healthz until issuers are
# (RELAPSED_ALL_CDS_ISSUERS); see README "Operate". A site's own code maps: mount a folder and
# set RELAPSED_ALL_CDS_MAPPINGS to it. Workers: RELAPSED_ALL_CDS_WORKERS (default: one per CPU
# the container may use).
VOLUME /data
WORKDIR /srv
USER cds
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['RELAPSED_ALL_CDS_PORT'], timeout=2)"]
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"]
