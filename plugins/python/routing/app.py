"""Stock routing, in Python: the same rule as plugins/stock/src/routing.rs.

1. A live deal registration on the lead's account (protected past the event
   time): the lead goes to the partner holding it.
2. Else, with `territory-routing` (default true): the active partner whose
   territory matches the lead's region or country (case-insensitive), the
   highest tier first, then the smallest id.
3. Else direct sales.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.routing import (
    Destination_Direct,
    Destination_Partner,
    RoutingDecision,
    RoutingInput,
)
from wit_world.imports.types import PolicyError

TIER_NAMES = ["registered", "silver", "gold", "platinum"]


def civil_date(ts: int) -> str:
    """`YYYY-MM-DD` of a Unix timestamp, UTC (Howard Hinnant's algorithm, as the PDK)."""
    z = ts // 86_400 + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return f"{y:04d}-{m:02d}-{d:02d}"


def flag_or(params: dict, name: str, default: bool) -> bool:
    v = params.get(name, default)
    if not isinstance(v, bool):
        raise Err(PolicyError(code="bad-param", message=f"parameter `{name}` must be true or false, got {json.dumps(v)}"))
    return v


class Routing(exports.Routing):
    def route(self, input: RoutingInput) -> RoutingDecision:
        params = json.loads(input.context.params or "{}")
        now, lead = input.context.event_time, input.lead
        for reg in input.registrations:
            if reg.protected_until > now:
                return RoutingDecision(
                    destination=Destination_Partner(reg.partner_id),
                    reason=f"{lead.account_domain} has a live deal registration {reg.id} held by partner "
                    f"{reg.partner_id}, protected until {civil_date(reg.protected_until)}.",
                    attribution="registered-deal",
                )
        if flag_or(params, "territory-routing", True):
            keys = [k.lower() for k in (lead.region, lead.country) if k is not None]
            hits = []
            for p in input.partners:
                if not p.active:
                    continue
                hit = next((t for t in p.territories if t.lower() in keys), None)
                if hit is not None:
                    hits.append((-p.tier.value, p.id, p, hit))
            if hits:
                _, _, partner, territory = min(hits, key=lambda h: (h[0], h[1]))
                return RoutingDecision(
                    destination=Destination_Partner(partner.id),
                    reason=f"No live registration on {lead.account_domain}; territory {territory} belongs to "
                    f"partner {partner.id} ({partner.name}, {TIER_NAMES[partner.tier.value]}).",
                    attribution="partner-territory",
                )
        if lead.region is not None and lead.country is not None:
            place = f"region {lead.region} / country {lead.country}"
        elif lead.region is not None:
            place = f"region {lead.region}"
        elif lead.country is not None:
            place = f"country {lead.country}"
        else:
            place = "an unknown location"
        return RoutingDecision(
            destination=Destination_Direct(),
            reason=f"No live registration on {lead.account_domain} and no active partner covers {place}: direct sales.",
            attribution="direct",
        )


# ---- Build-time warm-up (performance, issue 7; see BENCHMARKS.md) ----------
# componentize-py imports this module once at build time and snapshots the
# interpreter's memory; every call starts in a fresh instance of that
# snapshot. Running the rule here, once per outcome (registered deal,
# territory, direct), leaves the interpreter's first-call work for this code
# (specialised bytecode, caches) in the snapshot instead of redoing it on
# every call. The rule keeps no state between calls, so no decision can see
# these.
def _warm_up() -> None:
    from wit_world.exports.routing import Lead, LiveRegistration
    from wit_world.imports.types import Context, Partner, PartnerKind, Tier

    context = Context(company="warm-up", event_time=0, params='{"territory-routing":true}')
    lead = Lead(
        id="l", account_domain="a.example", account_name="a", country="US", region="emea", industry=None, source="s"
    )
    partners = [
        Partner(id="p1", name="p1", kind=PartnerKind.RESELLER, tier=Tier.GOLD, territories=["EMEA"], certifications=[],
                active=True),
        Partner(id="p2", name="p2", kind=PartnerKind.RESELLER, tier=Tier.SILVER, territories=["us"], certifications=[],
                active=True),
    ]
    registrations = [LiveRegistration(id="r", partner_id="p1", protected_until=86_400)]
    for regs, ps in [(registrations, partners), ([], partners), ([], [])]:
        Routing().route(RoutingInput(context=context, lead=lead, registrations=regs, partners=ps))


_warm_up()
