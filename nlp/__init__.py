"""Message understanding for Jinlin: chat text in, a Parse (intent, category, slots) out.

Importing this package does no work; build one Parser at start-up and share it.
"""

from nlp.model import CATEGORIES, INTENTS, Parse, Where
from nlp.parser import Parser

__all__ = ["CATEGORIES", "INTENTS", "Parse", "Parser", "Where"]
