from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """config is an app only so that its project-wide management commands (compilemessages_py) are found."""

    name = "config"
    verbose_name = "mailbind"
