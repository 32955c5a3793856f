# One image for web, worker and beat. No secrets are baked in: they come from the environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app

COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
# collectstatic and the translations need settings but no real secrets; throwaway values are used for this step only.
RUN DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY= \
    ALLOWED_HOSTS=build python manage.py compilemessages_py \
 && DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY= \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput -v0

RUN useradd --system --uid 10001 mailbind && chown -R mailbind /app
USER mailbind
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
