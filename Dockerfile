# The one image every Ripple Deployment runs (manifests/kubernetes/ripple.yaml):
# `ripple operator`, `ripple data-plane`, `ripple router`.
#   docker build -t ghcr.io/ripple-mesh/ripple:0.1.0 .
# Two stages: the build tools stay out of the image; the runtime is the slim Python base,
# pinned, with Ripple and its `kubernetes` extra installed into one virtualenv.
FROM python:3.11.11-slim-bookworm AS build
RUN python -m venv /opt/ripple
COPY pyproject.toml README.md /src/
COPY ripple /src/ripple
COPY channels /src/channels
COPY broker /src/broker
COPY sources /src/sources
COPY serving /src/serving
COPY controllers /src/controllers
RUN /opt/ripple/bin/pip install --no-cache-dir '/src[kubernetes]'

FROM python:3.11.11-slim-bookworm
COPY --from=build /opt/ripple /opt/ripple
RUN useradd --system --uid 65532 --no-create-home ripple
USER 65532
ENV PATH=/opt/ripple/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
ENTRYPOINT ["ripple"]
CMD ["--help"]
