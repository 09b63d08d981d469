"""Django's permission checks, the admin's included, answered by council.permissions.

Listed first in AUTHENTICATION_BACKENDS. It logs nobody in and loads no user
(logins stay with Django's and allauth's backends); it grants the model
permissions that ``council.permissions.ADMIN_MODELS_FOR_ACTION`` gives and
refuses every other one, so that a permission stored on a person or a group
never counts in a check. A Django superuser passes before any backend is asked.
"""

from django.core.exceptions import PermissionDenied

from council.permissions import admin_permissions


class CouncilPermissionBackend:
    """Model permissions from the table; every other one refused."""

    # No get_user on purpose: Django would then pick this backend for
    # sessions (force_login, login) and find nobody.

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return set(admin_permissions(user_obj)) if obj is None else set()

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if perm in self.get_all_permissions(user_obj, obj):
            return True
        # Refusing here stops Django from asking the backends that read
        # permissions stored in the database.
        raise PermissionDenied

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        prefix = f"{app_label}."
        if any(perm.startswith(prefix) for perm in admin_permissions(user_obj)):
            return True
        raise PermissionDenied

    async def ahas_perm(self, user_obj, perm: str, obj=None) -> bool:
        return self.has_perm(user_obj, perm, obj)

    async def ahas_module_perms(self, user_obj, app_label: str) -> bool:
        return self.has_module_perms(user_obj, app_label)

    async def aget_all_permissions(self, user_obj, obj=None) -> set[str]:
        return self.get_all_permissions(user_obj, obj)
