# One image for every dailies process (bot, worker, all-in-one); the command picks the role.
# Targets: `cpu` (default) and `gpu` (CUDA 12 + cuDNN 9 for onnxruntime-node's CUDA provider).
# Node 22 LTS: Node 20 reached its end of life on 2026-04-30 (the code still runs on 20 where it
# is installed; package.json asks for >= 20.12).

FROM node:22-bookworm-slim AS cpu
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# CPU only: onnxruntime-node bundles its CPU provider; npm >= 11.16 skips its CUDA download through
# package.json's allowScripts, older npm through this variable.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
CMD ["node", "cli/dailies.js", "start"]

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates curl \
    && curl -fsSL https://deb.nodesource.com/setup_22.x | bash - \
    && apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's CUDA 12 provider libraries, fetched by its own install script, run by hand
# because package.json keeps npm from running it.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund \
    && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install
COPY . .
ENV NODE_ENV=production
CMD ["node", "cli/dailies.js", "worker", "--provider", "cuda", "--device", "0"]
