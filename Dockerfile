# syntax=docker/dockerfile:1
# sgp-operator container image: compiled JavaScript and production dependencies only, on a distroless Node 24
# runtime (no shell, no package manager), running as a non-root user with a read-only root filesystem
# (config/manager mounts an emptyDir at /tmp, the only path the operator writes).
#
#   make image IMAGE=<registry>/sgp-operator:<tag>
#   cd config/manager && kustomize edit set image controller=<registry>/sgp-operator:<tag>
#   (or the chart's image.repository / image.tag / image.digest)
#
# Both base images are pinned by digest (a unit test refuses a FROM without one): a moved tag upstream changes
# nothing here until `make pin-base-images` resolves the tags again and the new digests are reviewed in a commit.

# ---- build: type-check and compile to dist/ ----
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY operator ./operator
COPY hack/ec2-emulator ./hack/ec2-emulator
RUN npm run build \
 # The limits table is read at run time next to the compiled module (not imported), so tsc does not copy it.
 && cp operator/limits/instance-types.json dist/operator/limits/ \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a
# The source commit, shown by --version and sgp_build_info: docker build --build-arg SGP_BUILD_COMMIT=$(git rev-parse --short HEAD)
ARG SGP_BUILD_COMMIT=unknown
WORKDIR /app
ENV NODE_ENV=production SGP_BUILD_COMMIT=${SGP_BUILD_COMMIT}
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# 65532 = distroless "nonroot"; numeric so runAsNonRoot can verify it without /etc/passwd lookups.
USER 65532:65532
EXPOSE 8443 8081 9443
# V8 heap sizing for a process whose live set is a cache (README "Memory and start-up"): a 1 MiB young
# generation, so the short-lived garbage of lists and watch events is collected young; old-generation growth of
# 1.2x per GC instead of up to 4x; and V8's optimize-for-size mode, which returns freed heap pages to the system
# (bench/README.md: -19 % peak and -35 % idle RSS at 5,000 nodes for +24 % CPU until ready). No heap cap: a bigger
# cluster gets a bigger heap. The same flags: `make run` and the benchmarks (which read them from here).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--heap-growing-percent=20", "--optimize-for-size", "dist/operator/main.js"]
