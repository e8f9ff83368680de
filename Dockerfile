# The Pomodoro backend: the HTTP server by default; the same image runs the WebSocket
# server, the timer worker (python manage.py run_timer_worker) and the migrations.
# See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --create-home --home-dir /home/app app

WORKDIR /app
COPY . .
RUN pip install . \
    && python manage.py collectstatic --no-input \
    && mkdir -p /app/data \
    && chown app:app /app/data

USER app
EXPOSE 8000

# HTTP through gunicorn's sync workers, the set-up measured fastest in docs/benchmarks.md.
# docker-compose.yml runs the same image as uvicorn (WebSockets), the timer worker and
# the migrations, behind nginx (deploy/nginx.conf).
CMD ["gunicorn", "pomodoro.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
