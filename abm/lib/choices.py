"""Text choices without Django: an enum whose members are strings with a label, read like
Django's TextChoices (``.choices``, ``.values``, ``.labels``, ``member.label``) by models, forms
and serializers, and importable by the pure computation modules, which take no Django."""

from enum import EnumType, StrEnum, nonmember


class _ChoicesType(EnumType):
    @property
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]

    @property
    def values(cls) -> list[str]:
        return [member.value for member in cls]

    @property
    def labels(cls) -> list[str]:
        return [member.label for member in cls]

    @property
    def names(cls) -> list[str]:
        return [member.name for member in cls]


class TextChoices(StrEnum, metaclass=_ChoicesType):
    """Members are declared as ``NAME = "value", "Label"``."""

    # Templates must read a member, never call the class.
    do_not_call_in_templates = nonmember(True)

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label_ = label
        return member

    @property
    def label(self) -> str:
        return self._label_
