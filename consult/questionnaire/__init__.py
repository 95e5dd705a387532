"""The instrument: model, loading and checks, import and export."""

from consult.questionnaire.load import check_questionnaire, load_questionnaire
from consult.questionnaire.model import (
    Choice,
    Condition,
    Domain,
    Item,
    ItemType,
    Questionnaire,
)

__all__ = [
    "Choice",
    "Condition",
    "Domain",
    "Item",
    "ItemType",
    "Questionnaire",
    "check_questionnaire",
    "load_questionnaire",
]
