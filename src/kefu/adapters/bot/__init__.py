"""The smart assistant's trained parts: the intent classifier behind ``kefu.domain.bot``'s
:class:`~kefu.domain.bot.understand.IntentScorer` port."""

from kefu.adapters.bot.intent_model import (
    DEFAULT_MODEL_FILE,
    DEFAULT_TRAIN_FILE,
    SEED,
    IntentModel,
    load,
    load_or_train,
    save,
    train,
    train_from_file,
)

__all__ = [
    "DEFAULT_MODEL_FILE", "DEFAULT_TRAIN_FILE", "SEED", "IntentModel", "load", "load_or_train", "save", "train",
    "train_from_file",
]
