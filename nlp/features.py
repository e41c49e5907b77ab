"""What the learned scorer sees of a message: character n-grams, words and the lexicon's cues.

Training (nlp.training) and the parser call this same function, so the two can never
disagree about a feature. Features are plain strings; the three kinds cannot collide,
as words and cue tags carry a control character normalised text never holds.
"""

from __future__ import annotations

from collections.abc import Iterable

WORD = "\x01"
CUE = "\x02"


def message_features(clean: str, tokens: Iterable[str], tags: Iterable[str]) -> list[str]:
    """Every feature of one normalised message, repeated as often as it occurs.

    Characters, bigrams and trigrams over the text with a space at each end (so 吗 at the
    end of a message differs from 吗 inside it); the segmenter's words of two or more
    characters, which keep 接不了 apart from 接; and the lexicon's cue tags, which let the
    model lean on a whole word group (every word for gas) from a few examples.
    """
    text = f" {clean} "
    size = len(text)
    grams = list(clean)
    grams += [text[i : i + 2] for i in range(size - 1)]
    grams += [text[i : i + 3] for i in range(size - 2)]
    grams += [WORD + token for token in tokens if len(token) > 1 and token != " "]
    grams += [CUE + tag for tag in tags]
    return grams
