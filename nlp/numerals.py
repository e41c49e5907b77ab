"""Chinese and Arabic numerals as they appear in residents' messages."""

from __future__ import annotations

# One character class shared by every slot pattern, so 三栋 and 3栋 read alike.
NUM_CHARS = "0-9零〇一二两三四五六七八九十百幺"
NUM = f"[{NUM_CHARS}]+"

# 两 counts (两点, 两栋) but is never written digit by digit, so 一两 is not 12.
_DIGITS = {
    "0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9,
    "零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_UNITS = {"十": 10, "百": 100}


def to_int(text: str) -> int | None:
    """The value of a numeral like 23, 二十三, 十五, 一百零一 or 五零一 (digit by digit)."""
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)  # the common case, 3栋 / 501, without the table walk below
    if not any(ch in _UNITS for ch in text):
        # Without 十/百 every character is a digit: 五零一 = 501, 幺三八 = 138.
        if len(text) > 1 and "两" in text:
            return None
        digits = [_DIGITS.get(ch) for ch in text]
        if any(d is None for d in digits):
            return None
        return int("".join(str(d) for d in digits))
    total = 0
    pending: int | None = None
    for ch in text:
        if ch in "零〇":
            continue  # a placeholder inside 一百零一, not a digit
        if ch in _UNITS:
            total += (1 if pending is None else pending) * _UNITS[ch]
            pending = None
        elif ch in _DIGITS:
            if pending is not None:
                return None  # 二三十 and the like: a range, not a number
            pending = _DIGITS[ch]
        else:
            return None
    return total + (pending or 0)


def to_digits(text: str) -> str | None:
    """The numeral written as Arabic digits (五零一 -> "501", 十五 -> "15")."""
    value = to_int(text)
    if value is None:
        return None
    if text.isascii():
        return text  # Arabic digits already, leading zeros and all
    if not any(ch in _UNITS for ch in text):
        # Keep leading zeros that digit-by-digit writing carries (a room 0501 stays 0501).
        return "".join(str(_DIGITS[ch]) for ch in text)
    return str(value)
