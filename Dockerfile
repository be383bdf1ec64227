# syntax=docker/dockerfile:1
# Taskyard in a container. `docker build -t taskyard .` then
#   docker run -p 3000:3000 -v taskyard-data:/data taskyard            # API + worker, embedded PGlite in /data
#   docker run taskyard api|worker (with DATABASE_URL / REDIS_URL)     # or compose.yaml: see docs/deploy.md
# Checked by test/deploy/container-files.test.ts (a parser test: Docker was not run there).

# 1. Build: type-check and compile src/ to dist/, bundle the dashboard into dist/dashboard,
#    make the pristine PGlite template (scripts/build.mjs). Needs the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# 2. The production dependencies only.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# 3. Runtime: node_modules, dist/ and bin/ — no src/, so bin/taskyard.js never tries to rebuild.
FROM node:20-slim AS runtime
WORKDIR /app
# Listen on every interface (the default, 127.0.0.1, is unreachable from outside a container);
# the embedded database, when no DATABASE_URL is given, lives in the /data volume.
ENV HOST=0.0.0.0 \
    PORT=3000 \
    TASKYARD_DATA_DIR=/data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
# The image's own unprivileged user (uid 1000).
USER node
VOLUME ["/data"]
EXPOSE 3000
# /ready answers 200 once the queue engine and history answer. The slim image has no curl: node asks.
# (`taskyard worker` serves no HTTP: compose.yaml gives the worker a check of its own.)
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/taskyard.js"]
CMD ["start"]
