"""A form's errors as plain sentences, for a flash message when the form is not shown again."""


def form_errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]
