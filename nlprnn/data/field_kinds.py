"""The kinds of field a saved spec can name (``Field.from_spec`` looks them up here)."""

from nlprnn.data.field import Field
from nlprnn.data.label_field import LabelField
from nlprnn.data.legacy_fields import RawField, ReversibleField, SubwordField
from nlprnn.data.nested_field import NestedField
from nlprnn.data.tag_field import TagField

FIELD_KINDS: dict[str, type[Field]] = {
    "field": Field, "label": LabelField, "tag": TagField, "nested": NestedField, "raw": RawField,
    "reversible": ReversibleField, "subword": SubwordField,
}
