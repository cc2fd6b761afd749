"""Amounts in Chinese capital numerals (人民币大写), as printed quotes and contracts show them."""

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ["", "拾", "佰", "仟"]
BIG_UNITS = ["", "万", "亿", "万亿"]


def _four(group: int) -> str:
    """0–9999 in capitals, with 零 for inner gaps (1005 → 壹仟零伍)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
        else:
            text += ("零" if zero else "") + DIGITS[digit] + SMALL_UNITS[position]
            zero = False
    return text


def rmb_upper(amount: Decimal) -> str:
    """1234.50 → 壹仟贰佰叁拾肆元伍角; 100 → 壹佰元整. Negative amounts get 负."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    cents = int(abs(amount) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    text, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = bool(text)
            continue
        if text and (zero or group < 1000):
            text += "零"
        text += _four(group) + BIG_UNITS[index]
        zero = False
    text = (text + "元") if text else ""
    if not jiao and not fen:
        return sign + (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    return sign + text
