FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first, in their own layer (the project itself installs no package: it runs from /app).
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
# The image sets no DEBUG and no key: it runs with production settings and refuses to start until
# SECRET_KEY is given. collectstatic gets a throwaway key that lives only for this command.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
       python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 abm && chown -R abm /app/var
USER abm

EXPOSE 8000
CMD ["gunicorn", "abm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
