FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first, in their own layer (the project itself installs no package: it runs from /app).
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
       python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 abm && chown -R abm /app/var
USER abm

EXPOSE 8000
CMD ["gunicorn", "abm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
