"""What the learned scorer sees of a message: runs of one to three characters and lexicon cues.

Training (nlp.training) and the parser call this same function, so the two can never
disagree about a feature. Features are plain strings; text n-grams and cue tags cannot
collide, as a tag carries a control character normalised text never holds.
"""

from __future__ import annotations

from collections.abc import Iterable

CUE = "\x02"
# Only a message's first characters are scored: three runs per character then stay well
# inside what the scorer's packed sums can hold (nlp.scorer), and a chat message is never
# this long anyway.
LONGEST = 4000


def message_features(clean: str, tags: Iterable[str]) -> list[str]:
    """Every feature of one normalised message, repeated as often as it occurs.

    Characters, pairs and triples over the text with a space at each end (so 吗 at the end
    of a message differs from 吗 inside it), and the tags of the lexicon's cue groups that
    the jieba-segmented message hits, which let the model lean on a whole word group (every
    word for gas) from a few examples. A run's length tells the three kinds apart. Every
    character, the two spaces too, starts a pair but the last: so the scorer can add each
    character's weight into its pair's (nlp.scorer). Triples were chosen over jieba's words
    by cross-validation and the blind set (words added nothing once triples were in); the
    danger detector's signs are left out on purpose, so the model's own reading of danger
    stays independent of the detector's table.
    """
    text = f" {clean[:LONGEST]} "
    grams = list(text)
    grams += [text[i : i + 2] for i in range(len(text) - 1)]
    grams += [text[i : i + 3] for i in range(len(text) - 2)]
    grams += [CUE + tag for tag in tags]
    return grams
