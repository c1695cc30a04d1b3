# PlaneNet: the API and its local training workers in one container.
# Build: docker build -t planenet .   Run: docker run -p 8000:8000 -v planenet-data:/data planenet

# Stage 1: build the wheel from the sources, compiling the training kernel (core/_kernel.c):
# only this stage has a C compiler.
FROM python:3.11-slim AS build
WORKDIR /src
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir build==1.2.2.post1
COPY pyproject.toml setup.py README.md ./
COPY core ./core
COPY service ./service
RUN python -m build --wheel --outdir /dist

# Stage 2: install the wheel alone into a slim runtime image, run as a non-root user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PLANENET_PORT=8000 \
    PLANENET_DATA_DIR=/data
RUN groupadd --gid 10001 planenet \
    && useradd --create-home --uid 10001 --gid 10001 planenet \
    && mkdir /data \
    && chown planenet:planenet /data
COPY --from=build /dist/ /tmp/dist/
# The postgres extra adds the driver for a shared PostgreSQL database (scaling out). The wheel
# pins nothing itself: its dependency ranges are in pyproject.toml.
# The image trains on the compiled kernel: the build fails if the wheel lacks it.
# hadolint ignore=DL3013
RUN wheel="$(ls /tmp/dist/planenet-*.whl)" \
    && pip install --no-cache-dir "${wheel}[postgres]" \
    && rm -rf /tmp/dist \
    && python -c "from core.compiled import kernel_available; assert kernel_available()"
USER 10001:10001
WORKDIR /home/planenet
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PLANENET_PORT', '8000') + '/healthz', timeout=4)"]
CMD ["planenet", "serve", "--host", "0.0.0.0"]
