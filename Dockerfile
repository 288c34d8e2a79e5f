# ganql: a standard multi-stage image.
#
#   docker build -t ganql .                      CPU image (tfjs-node if it installs, else wasm)
#   docker run -p 4000:4000 -v ganql-data:/app/data ganql
#
# GPU: build on a CUDA 11.8 + cuDNN 8 base (what @tensorflow/tfjs-node-gpu 4.22 links against) and run
# with the NVIDIA container toolkit; the backend chooser then picks tensorflow-gpu by itself:
#   docker build --build-arg BASE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 -t ganql:gpu .
#   docker run --gpus all -p 4000:4000 ganql:gpu
#
# ONNX Runtime's CUDA provider instead (generate and classify on the GPU): a CUDA 12 + cuDNN 9 base,
# and ONNXRUNTIME_NODE_INSTALL=cuda12 downloads the provider's libraries (from NuGet) at build:
#   docker build --build-arg BASE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 -t ganql:ort-gpu .
#   docker run --gpus all -e GANQL_ONNX_PROVIDERS=cuda,cpu -e GANQL_INFERENCE_WORKERS=1 -p 4000:4000 ganql:ort-gpu
# Without the provider (or a GPU) ONNX Runtime runs on the CPU, and the server says why (docs/operations.md).
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS base
# A CUDA base image has no Node.js: install Node 20 there (the node image already has it).
RUN if ! command -v node >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
      && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
      && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app

FROM base AS build
# Toolchain for ganql's native training kernels (native/, built by npm ci) and better-sqlite3's
# native build when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# .npmrc keeps onnxruntime-node's install script from downloading CUDA providers (npm 10 runs it).
COPY package.json package-lock.json .npmrc prisma.config.ts tsconfig.json ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY native ./native
# Every dependency, the build tools included (and the optional native tfjs backends where they can
# download libtensorflow); postinstall generates both Prisma clients. With
# ONNXRUNTIME_NODE_INSTALL=cuda12, onnxruntime-node's own script then adds the CUDA provider.
ARG ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci \
    && if [ "$ONNXRUNTIME_NODE_INSTALL" != skip ]; then \
         ONNXRUNTIME_NODE_INSTALL="$ONNXRUNTIME_NODE_INSTALL" node node_modules/onnxruntime-node/script/install.js; \
       fi
COPY src ./src
# Compiles src/ to dist/ (with a copy of the Prisma clients), then drops the development dependencies.
RUN npm run build && npm prune --omit=dev

FROM base AS runtime
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0 DATABASE_URL=file:/app/data/ganql.db
# The server runs as the unprivileged user `node`: the node image has it, a CUDA base does not.
RUN id -u node >/dev/null 2>&1 || useradd --create-home --user-group --shell /usr/sbin/nologin node
COPY --from=build /app/node_modules ./node_modules
# node_modules/@ganql/native links here: the sources and the compiled addon.
COPY --from=build /app/native ./native
# The compiled server: the image holds no TypeScript sources; node runs dist/ alone.
COPY --from=build /app/dist ./dist
# Read at run time beside dist/: package.json (the version), the migrations, the studio, the models.
COPY package.json package-lock.json schema.graphql ./
COPY prisma ./prisma
# Writable by the server: training moves each finished version into models/.
COPY --chown=node:node models ./models
COPY web ./web
# The database and the training jobs' folders; a named volume starts with this folder's owner.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# API keys inside the container: node dist/cli/keys.cli.js create --name ops --scopes admin
CMD ["node", "dist/main.js"]
