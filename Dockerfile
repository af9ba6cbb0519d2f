# syntax=docker/dockerfile:1
# Verdict container image: `docker build -t verdict .` then
#   docker run --rm -p 8181:8181 --read-only --tmpfs /var/lib/verdict verdict
# serves the sample bundle with the decision log in /var/lib/verdict/.verdict/decisions.db.
# The build stage compiles TypeScript and the native SQLite addon; the runtime stage carries production
# dependencies only and runs as an unprivileged user. Every step is exercised by scripts/check-image.mjs.

FROM node:20-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY schemas ./schemas
COPY bundles ./bundles
COPY rego ./rego
COPY test ./test
RUN npm ci --no-audit --no-fund \
 && npm run build --silent \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/verdict
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/schemas ./dist/schemas
COPY --from=build /src/src/envoy/proto ./src/envoy/proto
COPY --from=build /src/schemas ./schemas
COPY --from=build /src/bundles ./bundles
RUN ln -s /opt/verdict/dist/src/main.js /usr/local/bin/verdict \
 && groupadd --system --gid 10001 verdict \
 && useradd --system --uid 10001 --gid verdict --home-dir /var/lib/verdict --shell /usr/sbin/nologin verdict \
 && install -d -o verdict -g verdict -m 0700 /var/lib/verdict
# The decision log and caches are written under the working directory; mount a volume (or a tmpfs) here so the
# root filesystem can stay read-only.
WORKDIR /var/lib/verdict
VOLUME /var/lib/verdict
USER 10001:10001
EXPOSE 8181 9191
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8181/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/opt/verdict/dist/src/main.js"]
CMD ["run", "--addr", "0.0.0.0:8181", "-b", "/opt/verdict/bundles/sample"]
