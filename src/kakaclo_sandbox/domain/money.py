"""Every derived amount of an order, each with its one formula (ten-thousandths, exact).

None of them goes below 0, given what a stored order holds (data.py checks it
on the way in): unit amounts, freight and coupon are at least 0, pieces at
least 1, and the coupon at most the subtotal plus the freight. None goes above
the spec's ``Amount`` maximum either: data.py refuses an order whose line
totals, subtotal or final amount would, and the refunded and refundable
amounts stay between 0 and the final amount.
"""

from __future__ import annotations

from collections.abc import Iterable

E4 = 10_000  # amounts are kept in ten-thousandths of the currency unit


def line_total_e4(amount_e4: int, product_num: int) -> int:
    """A line's ``total``: its unit amount times its pieces (both at least 0, so is it)."""
    return amount_e4 * product_num


def subtotal_e4(lines: Iterable[tuple[int, int]]) -> int:
    """``subTotalAmount``: the sum of the lines' totals, from (unit amount, pieces) pairs
    (a sum of totals of at least 0)."""
    return sum(line_total_e4(amount, pieces) for amount, pieces in lines)


def final_e4(subtotal: int, freight: int, coupon: int) -> int:
    """``finalAmount``: subtotal plus freight less coupon.

    At least 0 because a stored order's coupon is at most its subtotal plus
    its freight (data.py refuses a larger one: the vendor would not sell below 0).
    """
    return subtotal + freight - coupon


def refunded_e4(lines: Iterable[tuple[int, int, int]], final: int) -> int:
    """``refundedAmount``, from (unit amount, pieces, refunded pieces) of every line.

    The sum of the settled pieces at their unit amount, never above the final
    amount; once every piece is refunded, exactly the final amount (the rest,
    freight less coupon, goes with the refund that settled last). So always
    between 0 and the final amount, itself at least 0.
    """
    lines = list(lines)
    if lines and all(refunded == pieces for _, pieces, refunded in lines):
        return final
    settled = sum(amount * refunded for amount, _, refunded in lines)
    return max(0, min(settled, final))


def refundable_e4(final: int, refunded: int) -> int:
    """``refundableAmount``: what is left of the final amount (at least 0, since the
    refunded amount is at most the final amount)."""
    return final - refunded
