# One image for every dailies process (bot, worker, all-in-one); the command picks the role.
# Targets: `cpu` (default) and `gpu` (CUDA 12 + cuDNN 9 for onnxruntime-node's CUDA provider).

FROM node:20-bookworm-slim AS cpu
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
CMD ["node", "cli/dailies.js", "start"]

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates curl \
    && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
    && apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Overrides .npmrc's `skip`: fetch onnxruntime-node's CUDA 12 provider libraries.
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
CMD ["node", "cli/dailies.js", "worker", "--provider", "cuda", "--device", "0"]
