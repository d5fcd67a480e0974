"""How figures are written in the report: a median with its 95 %
interval, "1.91 [1.85, 1.97]"; a figure that is not determined is said
so, with what was measured, "n.d. (1.2 [0.8, 1.9])"."""
from math import floor, log10


def sig(v, digits=3):
    """v with `digits` significant digits, without an exponent for the
    sizes a report shows."""
    if v is None:
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 10 ** digits:
        return f"{v:,.0f}".replace(",", " ") if a >= 1e5 else f"{v:.0f}"
    decimals = max(digits - 1 - floor(log10(a)), 0)
    return f"{v:.{decimals}f}"


def same_decimals(value, lo, hi, digits=3):
    """The three numbers with as many decimals as the value needs."""
    text = sig(value, digits)
    decimals = len(text.split(".")[1]) if "." in text else 0
    if abs(value) >= 10 ** digits:
        return text, sig(lo, digits), sig(hi, digits)
    return text, f"{lo:.{decimals}f}", f"{hi:.{decimals}f}"


def est(row, digits=3, unit=""):
    """A results row (or Estimate-like object: value, ci_lo/lo, ci_hi/hi,
    status) as text."""
    if row is None or getattr(row, "value", None) is None:
        status = getattr(row, "status", "") if row is not None else ""
        return status if status and status not in ("ok", "not-determined") else "–"
    lo = getattr(row, "ci_lo", getattr(row, "lo", None))
    hi = getattr(row, "ci_hi", getattr(row, "hi", None))
    u = f" {unit}" if unit else ""
    if lo is None or hi is None:
        text = sig(row.value, digits) + u
    else:
        v, l, h = same_decimals(row.value, lo, hi, digits)
        text = f"{v}{u} [{l}, {h}]"
    if getattr(row, "status", "ok") != "ok":
        return f"n.d. ({text})"
    return text


def determined(row):
    return row is not None and row.value is not None and row.status == "ok"
