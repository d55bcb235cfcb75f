# One image definition for the four services. Build from the repository root (the build context is
# the monorepo), naming the service with APP; the other build args are the per-service differences:
#
#   docker buildx bake                      # all four, with the args of docker-bake.hcl
#   docker build --build-arg APP=change-reader -t runnel/change-reader:dev .
#   podman build --format docker --build-arg APP=gateway \
#     --build-arg NODE_OPTIONS=--max-semi-space-size=8 \
#     --build-arg PORTS="8080 9090" --build-arg HEALTH_PORT=8080 -t runnel/gateway:dev .
#
# Build args (docker-bake.hcl holds each service's values; docker-compose.yml passes the same):
#   APP           gateway | change-reader | batch-writer | s3-uploader (required)
#   NODE_OPTIONS  node flags the service runs with. Default: the pipeline services'
#                 "--max-old-space-size=192 --max-semi-space-size=8" (old space capped well below
#                 their 256 MiB container limit, and with V8's default semi-spaces the busy
#                 services reached 290-300 MiB RSS for a live heap under 65 MiB; with 8 MiB ones
#                 150-160 MiB at 10,000 events/s). The gateway: "--max-semi-space-size=8" (with
#                 thousands of open streams the default semi-spaces leave ~100 MiB of heap reserved
#                 but unused; docs/benchmarks.md).
#   PORTS         the ports the service listens on, EXPOSEd. Default "9090": the pipeline services
#                 serve no traffic, only the ops port METRICS_PORT (/metrics, /health, /ready,
#                 /status). The gateway: "8080 9090" (PORT, its traffic port, and METRICS_PORT).
#   HEALTH_PORT   the port HEALTHCHECK asks /health on: the traffic port when there is one (the
#                 gateway: 8080), else the ops port (default 9090). Set it with PORT / METRICS_PORT
#                 when running on other ports.
#
# The runtime stage installs only the packages the bundle imports (a few are bundled into it
# instead: excludeFromExternal in apps/<app>/project.json, docs/deployment.md): the build writes
# dist/apps/$APP/package.json and package-lock.json from esbuild's metafile
# (tools/build/app-esbuild.config.cjs), so there are no workspace links and nothing of another
# service's dependencies in the image (tools/docker/image-manifest.spec.ts checks the manifests).
#
# Run (the image works with a read-only root filesystem; only /tmp is written):
#   docker run --rm -p 8080:8080 -p 9090:9090 --read-only --tmpfs /tmp -e OPENAI_API_KEY=... runnel/gateway:dev
#   docker run --rm -p 9090:9090 --read-only --tmpfs /tmp -e REDIS_URL=redis://redis:6379 -e MONGODB_URI=... runnel/change-reader:dev
#
# Only instructions Debian 12's podman (4.3) builds: no `COPY --parents`, no heredocs; with podman,
# `--format docker` keeps HEALTHCHECK (the OCI image format has no health check; podman drops it).

# ---------------------------------------------------------------------------
# Shared base: Node 24 on Debian bookworm (glibc, matches the npm lockfile's
# linux-x64-gnu optional dependencies for esbuild / @swc/core / nx).
# ---------------------------------------------------------------------------
FROM node:24-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# ---------------------------------------------------------------------------
# manifests: the workspace's package.json files at their paths (npm needs every workspace's
# manifest to match the lockfile). Copied in this stage so that the install below stays cached
# until a manifest or the lockfile changes (what `COPY --parents` would do).
# ---------------------------------------------------------------------------
FROM base AS manifests
COPY . /src
RUN cd /src \
 && mkdir /manifests \
 && cp --parents package.json package-lock.json .npmrc apps/*/package.json libs/*/package.json /manifests/

# ---------------------------------------------------------------------------
# build: full install (dev dependencies included) and the Nx/esbuild bundle of $APP, with its
# run-time manifest and lockfile.
# ---------------------------------------------------------------------------
FROM base AS build
ARG APP
# `npm install` rather than `npm ci`: the lockfile cannot list every platform's optional binaries
# (the registry these machines use lacks some), which npm ci refuses; install still takes every
# locked version as is.
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm install --no-audit --no-fund
COPY . .
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_TUI=false
RUN test -n "$APP" || { echo 'build with --build-arg APP=<gateway|change-reader|batch-writer|s3-uploader>' >&2; exit 1; } \
 && npx nx run "$APP:build" --skip-nx-cache \
 && test -f "dist/apps/$APP/main.js" && test -f "dist/apps/$APP/package.json" && test -f "dist/apps/$APP/package-lock.json"

# ---------------------------------------------------------------------------
# prod-deps: the bundle's run-time dependencies only (dist/apps/$APP/package.json and its pruned
# lockfile), without lifecycle scripts. --ignore-scripts also skips msgpackr-extract's install
# script (BullMQ -> msgpackr -> optional msgpackr-extract): it only looks for a prebuilt binary or
# compiles one with node-gyp (absent here); the prebuilt addon arrives anyway as the optional
# package @msgpackr-extract/msgpackr-extract-linux-x64 (or -arm64), and without any addon msgpackr
# falls back to its pure-JS decoder.
# ---------------------------------------------------------------------------
FROM base AS prod-deps
ARG APP
COPY --from=build /app/.npmrc ./
COPY --from=build /app/dist/apps/${APP}/package.json /app/dist/apps/${APP}/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm install --omit=dev --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ARG APP
ARG NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8"
ARG PORTS=9090
ARG HEALTH_PORT=9090
ENV NODE_ENV=production \
    NODE_OPTIONS="${NODE_OPTIONS}" \
    HEALTH_PORT=${HEALTH_PORT}
LABEL org.opencontainers.image.title="runnel/${APP}"
WORKDIR /app
# Files stay owned by root (read-only for the runtime user): the process writes nothing outside
# /tmp, so the image runs with readOnlyRootFilesystem.
# *.wasm: WebAssembly a bundled package reads from main.js's directory, which the build copies
# there (BUNDLED_ASSETS in tools/build/app-esbuild.config.cjs): batch-writer's parquet_wasm_bg.wasm,
# parquet-wasm's Node build, read when main.js loads. The other services have none (the pattern
# then matches nothing, which COPY allows beside main.js's own sources).
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/apps/${APP}/main.js /app/dist/apps/${APP}/main.js.map /app/dist/apps/${APP}/*.wasm ./
# uid/gid 1000 is the `node` user of the official image; numeric so that Kubernetes runAsNonRoot
# can verify it.
USER 1000:1000
EXPOSE ${PORTS}
# On SIGTERM each service drains (SHUTDOWN_TIMEOUT, 30 s): the gateway its in-flight requests; the
# reader stops reading, hands on the batches it has cut and releases its stream lease; the writer
# and the uploader finish the jobs in progress (unfinished ones are retried elsewhere).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HEALTH_PORT || 9090) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM directly (no shell, no npm).
CMD ["node", "main.js"]
