"""What the admin's own action pages share: a service's refusal shown on the page's form."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError


def show_refusal(form, refused: ValidationError | PermissionDenied) -> None:
    """Put a service's refusal on ``form``: each field's messages beside that field when the form has it, and the
    rest (a refusal not about one field, or who may act) at the top of the form."""
    if isinstance(refused, PermissionDenied):
        form.add_error(None, str(refused))
        return
    if not hasattr(refused, "error_dict"):
        for message in refused.messages:
            form.add_error(None, message)
        return
    for field, messages in refused.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
