# The Pomodoro backend: web server by default; the same image runs the timer
# worker (python manage.py run_timer_worker) and migrations. See docker-compose.yml.
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

# Daphne serves HTTP and (from the realtime issue on) WebSocket on one port.
# The benchmark (docs/benchmarks.md) may change the production HTTP server later.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "pomodoro.asgi:application"]
