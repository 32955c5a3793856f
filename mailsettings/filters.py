"""Filters of the mail-account list: ?status=&protocol=&owner=&address=."""
from __future__ import annotations

import django_filters

from config.filters import IdFilter
from mailsettings.addresses import AddressError, fold_local_part, normalize_address
from mailsettings.models import AccountStatus, MailAccount
from mailsettings.vocabulary import INCOMING_PROTOCOL_CHOICES


class MailAccountFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    protocol = django_filters.ChoiceFilter(choices=INCOMING_PROTOCOL_CHOICES)
    owner = IdFilter(field_name="owner_id")
    address = django_filters.CharFilter(method="filter_address")

    class Meta:
        model = MailAccount
        fields = ["status", "protocol", "owner", "address"]

    def filter_address(self, queryset, name, value):
        # A whole address matches its normalized form (so Alice@Example.COM finds alice@example.com);
        # anything else is a part of one.
        try:
            return queryset.filter(address_normalized=normalize_address(value))
        except AddressError:
            return queryset.filter(address_normalized__icontains=fold_local_part(value.strip()))
