"""Bad arguments end a command with one line and exit code 2, like argparse's own errors."""
from django.core.management.base import CommandError

from config.errors import MailbindError


def command_error(error: MailbindError) -> CommandError:
    fields = "; ".join(f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in error.fields.items())
    return CommandError(f"{error.message}{' (' + fields + ')' if fields else ''}", returncode=2)
