"""Keystone ABM's base layer. The Celery app (abm/celery.py) loads with Django, from
AbmConfig.ready(), so that importing a helper of abm.lib pulls in neither Django nor Celery."""
