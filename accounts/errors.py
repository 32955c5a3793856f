from django.utils.translation import gettext_lazy as _

from config.errors import InvalidInput, NotAuthenticated


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_message = _("The email or password is not right. Check both and try again.")


class UnknownOrganization(InvalidInput):
    code = "unknown_organization"
    default_message = _("There is no organization with that name.")


class EmailTaken(InvalidInput):
    code = "email_taken"
    default_message = _("A user with this email already exists.")
