# Peregrine image: the router by default (`peregrine route`, non-root); the same image runs the detector
# when that lands (needs root or CAP_BPF + CAP_PERFMON, hostPID and /sys/kernel/btf — see README, Deployment).

# --- build: dependencies, and the eBPF addon when the tree has one (clang + libbpf, CO-RE)
FROM node:24-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make python3 g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The eBPF addon is built when the tree has one; the directory exists either way for the runtime stage.
RUN mkdir -p native && if [ -f native/binding.gyp ]; then npm run build:native; fi
# The web UI's bundle (npm ci above ran before the sources were copied).
RUN node scripts/build-ui.ts
RUN npm prune --omit=dev

# --- runtime: Node 24 runs the TypeScript directly (type stripping), no compile step
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/native ./native
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY outputs ./outputs
COPY config ./config
COPY --from=build /app/ui/dist ./ui/dist
# State (the UI's alert store) lives on a volume, not beside the read-only config.
# The spool (accepted alerts not yet delivered) is on it too, so it outlives the container. SPOOL_DIR is
# the env form of spool.dir and overrides the config file's value.
RUN mkdir -p /var/lib/peregrine/spool && chown -R node:node /var/lib/peregrine
VOLUME /var/lib/peregrine
ENV NODE_ENV=production UI_DBFILE=/var/lib/peregrine/ui.sqlite SPOOL_DIR=/var/lib/peregrine/spool
EXPOSE 2801
USER node
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:2801/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# bin/peregrine carries the node flags in its #! line.
ENTRYPOINT ["bin/peregrine"]
CMD ["route"]
