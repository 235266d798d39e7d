"""The preference NLU: what a chat message says about taste, as typed statements.

Rule-based and deterministic (see `extract.py`); used by memory write-back and, through
`extract_preferences`, by anything that needs a message's likes, dislikes, seen titles, people,
themes, viewing constraints and context. This module is the package's one public surface.
"""

from mrrec_chat.nlu.extract import Preference, extract_preferences, names_person
from mrrec_chat.nlu.lexicon import DEFAULT_MOVIE_GENRES, GENRE_SYNONYMS

__all__ = ["DEFAULT_MOVIE_GENRES", "GENRE_SYNONYMS", "Preference", "extract_preferences", "names_person"]
