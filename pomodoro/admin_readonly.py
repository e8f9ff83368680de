class ReadOnlyAdminMixin:
    """Admin for records that only services may change (they record events), or nobody."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
