"""Tenant scoping for every ModelAdmin: operators (superusers) see everything, an organization admin sees and
changes only their own organization's rows — lists, forms, searches and autocompletes alike."""
from __future__ import annotations

from django.contrib import admin


def organization_of(request):
    return None if request.user.is_superuser else request.user.organization


class OrganizationScopedAdmin(admin.ModelAdmin):
    # Lookup path from this model to its Organization.
    organization_field = "organization"
    # Organization admins may delete only where a model says so (history is kept by default).
    org_admin_can_delete = False
    org_admin_can_add = True

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        organization_id = getattr(request.user, "organization_id", None)
        if organization_id is None:
            return qs.none()
        # An id, not the object: the lookup path may end at the organization itself ("pk").
        return qs.filter(**{self.organization_field: organization_id})

    def _in_scope(self, request, obj) -> bool:
        if request.user.is_superuser:
            return True
        if not request.user.is_staff:
            return False
        if obj is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        return request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._in_scope(request, obj)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser or (request.user.is_staff and self.org_admin_can_add)

    def has_delete_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        return self.org_admin_can_delete and self._in_scope(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices of users, accounts and organizations are limited to the admin's organization.
        organization = organization_of(request)
        if organization is not None:
            model = db_field.related_model
            if model._meta.label == "accounts.Organization":
                kwargs["queryset"] = model.objects.filter(pk=organization.pk)
            elif any(f.name == "organization" for f in model._meta.get_fields()):
                kwargs["queryset"] = model.objects.filter(organization=organization)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdminMixin:
    """History is shown, never edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
