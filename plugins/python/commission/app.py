"""Stock commission, in Python: the same rule as plugins/stock/src/commission.rs.

On a won deal, by partner kind and deal source:

| partner        | partner-sourced                         | partner-influenced |
|----------------|-----------------------------------------|--------------------|
| referral       | `referral-rate-bps` of first-year ACV   | `cosell-rate-bps`  |
| reseller       | `reseller-margin-bps` off list (margin) | same               |
| technology     | `cosell-rate-bps` (fee)                 | same               |
| strategic      | `strategic-rate-bps`, else `cosell-rate-bps` (fee) | same    |
| implementation | no software commission                  | same               |

On a refund: the refunded share of what was earned is clawed back.

Money is integers (minor units) and rates basis points: no floats anywhere,
so the results match the Rust plugin exactly.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.commission import (
    CommissionDecision,
    CommissionEvent_Refund,
    CommissionInput,
    CommissionLine,
    DealSource,
    LineKind,
)
from wit_world.imports.types import Money, PartnerKind, PolicyError

FULL_BPS = 10_000
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def fail(code: str, message: str) -> Err:
    return Err(PolicyError(code=code, message=message))


def mul_div_round(amount: int, numerator: int, denominator: int) -> int:
    """amount * numerator / denominator, rounded half away from zero (as the PDK)."""
    if denominator == 0:
        raise fail("overflow", "division by zero")
    product = amount * numerator
    q, r = abs(product) // abs(denominator), abs(product) % abs(denominator)
    if 2 * r >= abs(denominator):
        q += 1
    if (product < 0) != (denominator < 0):
        q = -q
    if not I64_MIN <= q <= I64_MAX:
        raise fail("overflow", f"{amount} x {numerator} / {denominator} overflows")
    return q


def minor_unit_digits(currency: str) -> int:
    if currency in ("JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "UGX"):
        return 0
    if currency in ("BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD"):
        return 3
    return 2


def fmt_money(m: Money) -> str:
    """`USD 18,000.00`, as the PDK's Display for Money."""
    digits = minor_unit_digits(m.currency)
    sign = "-" if m.amount < 0 else ""
    major, minor = divmod(abs(m.amount), 10**digits)
    text = f"{sign}{m.currency} {major:,}"
    return f"{text}.{minor:0{digits}d}" if digits else text


class Params:
    """The company's `[params]`, from `context.params` (one JSON object)."""

    def __init__(self, text: str):
        try:
            self.values = json.loads(text) if text else {}
        except ValueError as e:
            raise fail("bad-param", f"context.params is not JSON: {e}")

    def has(self, name: str) -> bool:
        return name in self.values

    def bps(self, name: str) -> int:
        v = self.values.get(name)
        if not isinstance(v, int) or isinstance(v, bool):
            raise fail("bad-param", f"parameter `{name}` must be an integer, got {json.dumps(v)}")
        if not 0 <= v <= FULL_BPS:
            raise fail("bad-param", f"parameter `{name}` must be 0 to 10000 basis points, got {v}")
        return v


RULES = {
    (PartnerKind.REFERRAL, DealSource.PARTNER_SOURCED): (LineKind.FEE, "referral-rate-bps", "referral fee"),
    (PartnerKind.REFERRAL, DealSource.PARTNER_INFLUENCED): (LineKind.FEE, "cosell-rate-bps", "co-sell fee"),
}


def won(input: CommissionInput) -> CommissionDecision:
    params = Params(input.context.params)
    deal, partner = input.deal, input.partner
    if partner.kind == PartnerKind.IMPLEMENTATION:
        return CommissionDecision(
            lines=[],
            explanation=f"Implementation partner {partner.id} keeps the services revenue "
            f"({fmt_money(deal.services)}); no software commission on deal {deal.id}.",
        )
    if partner.kind == PartnerKind.REFERRAL:
        kind, param, label = RULES[(partner.kind, deal.source)]
    elif partner.kind == PartnerKind.RESELLER:
        kind, param, label = LineKind.MARGIN, "reseller-margin-bps", "reseller margin off list"
    elif partner.kind == PartnerKind.STRATEGIC and params.has("strategic-rate-bps"):
        kind, param, label = LineKind.FEE, "strategic-rate-bps", "strategic alliance fee"
    else:  # technology, or strategic without its own rate
        kind, param, label = LineKind.FEE, "cosell-rate-bps", "co-sell fee"
    rate = params.bps(param)
    acv = deal.first_year_acv
    amount = Money(amount=mul_div_round(acv.amount, rate, FULL_BPS), currency=acv.currency)
    description = (
        f"{label[0].upper()}{label[1:]} {fmt_money(amount)}: {rate // 100}.{rate % 100:02d} % "
        f"of first-year ACV {fmt_money(acv)} on deal {deal.id}"
    )
    line = CommissionLine(
        partner_id=partner.id, kind=kind, amount=amount, basis=acv, rate=rate, description=description
    )
    return CommissionDecision(lines=[line], explanation=description + ".")


def clawback(input: CommissionInput, refund: Money) -> CommissionDecision:
    acv = input.deal.first_year_acv
    if refund.currency != acv.currency:
        raise fail("currency-mismatch", f"refund is in {refund.currency} but the deal is in {acv.currency}")
    if refund.amount <= 0 or acv.amount <= 0:
        raise fail("bad-input", f"refund {fmt_money(refund)} of a {fmt_money(acv)} deal cannot be clawed back")
    earned = outstanding = 0
    for line in input.prior_lines:
        if line.amount.currency != acv.currency:
            raise fail("currency-mismatch", f"prior line in {line.amount.currency}")
        if line.amount.amount > 0:
            earned += line.amount.amount
        outstanding += line.amount.amount
    if outstanding <= 0:
        return CommissionDecision(
            lines=[],
            explanation=f"Refund of {fmt_money(refund)}: no commission outstanding on deal "
            f"{input.deal.id}, nothing to claw back.",
        )
    refunded = min(refund.amount, acv.amount)
    amount = min(mul_div_round(earned, refunded, acv.amount), outstanding)
    rate = mul_div_round(FULL_BPS, refunded, acv.amount)
    taken = Money(amount=-amount, currency=acv.currency)
    explanation = (
        f"Refund of {fmt_money(refund)} on deal {input.deal.id} ({rate} bp of first-year ACV "
        f"{fmt_money(acv)}): clawback {fmt_money(taken)} of "
        f"{fmt_money(Money(amount=earned, currency=acv.currency))} earned."
    )
    line = CommissionLine(
        partner_id=input.partner.id, kind=LineKind.CLAWBACK, amount=taken, basis=refund, rate=rate,
        description=explanation,
    )
    return CommissionDecision(lines=[line], explanation=explanation)


class Commission(exports.Commission):
    def compute(self, input: CommissionInput) -> CommissionDecision:
        if isinstance(input.event, CommissionEvent_Refund):
            return clawback(input, input.event.value)
        return won(input)


# ---- Build-time warm-up (performance, issue 7; see BENCHMARKS.md) ----------
# componentize-py imports this module once at build time and snapshots the
# interpreter's memory; every call starts in a fresh instance of that
# snapshot. Running the rule here, on a won deal and a refund, leaves the
# interpreter's first-call work for this code (specialised bytecode, caches)
# in the snapshot instead of redoing it on every call. The rule keeps no state
# between calls, so no decision can see these.
def _warm_up() -> None:
    from wit_world.exports.commission import CommissionEvent_Won, Deal, PriorLine
    from wit_world.imports.types import Context, Partner, Tier

    def usd(amount: int) -> Money:
        return Money(amount=amount, currency="USD")

    params = '{"referral-rate-bps":1500,"cosell-rate-bps":1200}'
    deal = Deal(id="d", first_year_acv=usd(12_000_000), services=usd(0), source=DealSource.PARTNER_SOURCED, closed_at=0)
    partner = Partner(
        id="p", name="p", kind=PartnerKind.REFERRAL, tier=Tier.REGISTERED, territories=[], certifications=[], active=True
    )
    for event, prior in [
        (CommissionEvent_Won(), []),
        (CommissionEvent_Refund(value=usd(6_000_000)), [PriorLine(kind=LineKind.FEE, amount=usd(1_800_000))]),
    ]:
        input = CommissionInput(
            context=Context(company="warm-up", event_time=0, params=params),
            event=event, deal=deal, partner=partner, prior_lines=prior, quarter_to_date=usd(0),
        )
        Commission().compute(input)


_warm_up()
