# Trainscope. TORCH_VARIANT picks the torch build: cpu (default, ~0.2 GB) or a CUDA one (cu128: the
# wheel brings its CUDA libraries, ~3 GB; the host needs only the NVIDIA driver and container toolkit).
# docker-compose.gpu.yml builds it that way and gives the container the host's GPUs.
# EXTRAS adds optional parts: docker-compose.ray.yml builds it with `server,ray`.
FROM python:3.11-slim
ARG TORCH_VARIANT=cpu
ARG EXTRAS=server
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/${TORCH_VARIANT}
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir ".[${EXTRAS}]"
ENV TRAINSCOPE_HOST=0.0.0.0 \
    TRAINSCOPE_DATABASE_URL=sqlite:////data/trainscope.db
VOLUME /data
EXPOSE 8000
CMD ["trainscope", "serve"]
