# Trainscope on CPU. For a GPU, build FROM an image with CUDA and install a CUDA build of torch.
FROM python:3.11-slim
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir '.[server]'
ENV TRAINSCOPE_HOST=0.0.0.0 \
    TRAINSCOPE_DATABASE_URL=sqlite:////data/trainscope.db
VOLUME /data
EXPOSE 8000
CMD ["trainscope", "serve"]
