from allauth.account.decorators import secure_admin_login
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.auth import email_address_confirm
from council.models import AuditEntry, Body, Mandate, PoliticalGroup, User
from council.permissions import (
    ADMIN_ASSIGNABLE_ROLES,
    KEYHOLDER_ROLES,
    Action,
    admin_may_edit_mandate,
    bodies_of,
    can,
)


def may_see_birth_dates(user) -> bool:
    return any(can(user, Action.VIEW_BIRTH_DATES, body) for body in bodies_of(user))


def _body_of(obj) -> Body | None:
    if isinstance(obj, Body):
        return obj
    return getattr(obj, "body", None)


class AuditedAdmin(admin.ModelAdmin):
    """Every change made in the admin is written to the audit log as well."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            by=request.user,
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'create'}",
            obj=obj,
            body=_body_of(obj),
            # Field names only: values may be personal data (birth dates).
            details={"fields": sorted(form.changed_data)},
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects + [o for o, _fields in formset.changed_objects]:
            audit_record(
                by=request.user,
                action=f"admin.{obj._meta.model_name}.save",
                obj=obj,
                body=_body_of(obj),
            )
        for obj in formset.deleted_objects:
            audit_record(
                by=request.user,
                action=f"admin.{obj._meta.model_name}.delete",
                body=_body_of(obj),
                details={"label": str(obj)},  # the row, and its id, are gone
            )

    def delete_model(self, request, obj):
        audit_record(
            by=request.user,
            action=f"admin.{obj._meta.model_name}.delete",
            body=_body_of(obj),
            details={"id": obj.pk, "label": str(obj)},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "is_administrator", "is_active"]
    list_filter = ["is_administrator", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    # No staff flag, groups or permissions to hand out: admin access and what it
    # allows follow from council.permissions.
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("", {"fields": ["first_name", "last_name", "birth_date"]}),
        ("", {"fields": ["is_active", "is_administrator", "is_superuser"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may hand out the flags that open the admin.
        if request.user.is_superuser:
            return ()
        return ("is_superuser", "is_administrator")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if may_see_birth_dates(request.user):
            return fieldsets
        # Birth dates are for the clerk and the DG only (appointment tie-break).
        return [
            (
                title,
                {**opts, "fields": [f for f in opts["fields"] if f != "birth_date"]},
            )
            for title, opts in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        email_address_confirm(user=obj)

    def has_change_permission(self, request, obj=None):
        # An administrator must not take over a superuser's account.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    add_fieldsets = [
        (
            None,
            {"fields": ["email", "first_name", "last_name", "password1", "password2"]},
        )
    ]


KEYHOLDER_NOT_IN_ADMIN = _(
    "Director-general and deputy mandates are set with the keyholder_mandate "
    "command on the server, not in the admin."
)


class AdminMandateForm(forms.ModelForm):
    """A mandate as the admin edits it: never a keyholder's role."""

    class Meta:
        model = Mandate
        fields = ["person", "body", "role", "group", "start", "end"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            self.fields["role"].choices = [
                (value, label)
                for value, label in self.fields["role"].choices
                if value not in KEYHOLDER_ROLES
            ]

    def clean_role(self):
        role = self.cleaned_data["role"]
        # The choices already refuse it; this holds if they ever widen.
        if role not in ADMIN_ASSIGNABLE_ROLES:
            raise forms.ValidationError(KEYHOLDER_NOT_IN_ADMIN)
        return role


class MandateInline(admin.TabularInline):
    model = Mandate
    form = AdminMandateForm
    extra = 0
    autocomplete_fields = ["person"]

    def get_queryset(self, request):
        # Keyholders' mandates are shown read-only on the mandates' own page.
        return super().get_queryset(request).exclude(role__in=KEYHOLDER_ROLES)


@admin.register(Body)
class BodyAdmin(AuditedAdmin):
    list_display = ["name", "municipality", "kind", "language", "seats"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MandateInline]


@admin.register(PoliticalGroup)
class PoliticalGroupAdmin(AuditedAdmin):
    list_display = ["short_name", "name", "body"]


@admin.register(Mandate)
class MandateAdmin(AuditedAdmin):
    list_display = ["person", "body", "role", "group", "start", "end"]
    list_filter = ["body", "role", "group"]
    autocomplete_fields = ["person"]
    form = AdminMandateForm

    def has_change_permission(self, request, obj=None):
        if not admin_may_edit_mandate(obj):
            return False  # shown read-only, to a superuser too
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not admin_may_edit_mandate(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset.exclude(role__in=KEYHOLDER_ROLES))


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["sequence", "at", "actor_label", "action", "object_type"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Groups of stored permissions would grant nothing (council.backends refuses
# them), so there is nothing to manage there.
admin.site.unregister(Group)

# The admin logs in through allauth like everyone else: rate limits and MFA apply.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Council meetings — administration")
admin.site.site_title = _("Council meetings")
admin.site.index_title = _("Bodies, people and mandates")
