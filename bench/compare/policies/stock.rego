# The stock commission and routing rules (plugins/stock) in Rego, for
# issue 4's comparison. Money is integer minor units, rates basis points;
# products are rounded half away from zero with integer arithmetic only
# (`%` and an exact division), never floats.
#
# Input: the same records Pactum's plugin receives, as JSON-like values:
# `params` is an object of the company's parameters by name.
package pactum.stock

import rego.v1

# ---------------------------------------------------------------- money

# amount * num / den, rounded half away from zero (den > 0).
mul_div_round(amount, num, den) := (((amount * num) - r) / den) + away(amount * num, r, den) if {
	r := (amount * num) % den
}

away(p, r, den) := 1 if {
	2 * abs(r) >= den
	p > 0
}

away(p, r, den) := -1 if {
	2 * abs(r) >= den
	p < 0
}

away(p, r, den) := 0 if 2 * abs(r) < den

# "USD 18000.00"
money(amount, currency) := sprintf("%s%s %d.%s", [sign, currency, major, minor]) if {
	sign := sign_of(amount)
	a := abs(amount)
	m := a % 100
	major := (a - m) / 100
	minor := two_digits(m)
}

sign_of(a) := "-" if a < 0

sign_of(a) := "" if a >= 0

two_digits(m) := sprintf("0%d", [m]) if m < 10

two_digits(m) := sprintf("%d", [m]) if m >= 10

bps(name) := rate if {
	rate := input.params[name]
	is_number(rate)
	rate >= 0
	rate <= 10000
}

# ----------------------------------------------------------- commission

partner := input.partner

deal := input.deal

acv := input.deal.first_year_acv

# [line kind, rate parameter, label] by partner kind and deal source.
terms := ["Fee", "referral-rate-bps", "Referral fee"] if {
	partner.kind == "Referral"
	deal.source == "PartnerSourced"
}

terms := ["Fee", "cosell-rate-bps", "Co-sell fee"] if {
	partner.kind == "Referral"
	deal.source == "PartnerInfluenced"
}

terms := ["Margin", "reseller-margin-bps", "Reseller margin off list"] if partner.kind == "Reseller"

terms := ["Fee", "cosell-rate-bps", "Co-sell fee"] if partner.kind == "Technology"

terms := ["Fee", "strategic-rate-bps", "Strategic alliance fee"] if {
	partner.kind == "Strategic"
	input.params["strategic-rate-bps"]
}

terms := ["Fee", "cosell-rate-bps", "Co-sell fee"] if {
	partner.kind == "Strategic"
	not input.params["strategic-rate-bps"]
}

commission := won if input.event.kind == "won"

commission := clawback if input.event.kind == "refund"

won := {"lines": [], "explanation": explanation} if {
	partner.kind == "Implementation"
	explanation := sprintf(
		"Implementation partner %s keeps the services revenue (%s); no software commission on deal %s.",
		[partner.id, money(deal.services.amount, deal.services.currency), deal.id],
	)
}

won := {"lines": [line], "explanation": concat("", [description, "."])} if {
	[kind, param, label] := terms
	rate := bps(param)
	amount := mul_div_round(acv.amount, rate, 10000)
	rm := rate % 100
	description := sprintf(
		"%s %s: %d.%s %% of first-year ACV %s on deal %s",
		[label, money(amount, acv.currency), (rate - rm) / 100, two_digits(rm), money(acv.amount, acv.currency), deal.id],
	)
	line := {
		"partner_id": partner.id,
		"kind": kind,
		"amount": {"amount": amount, "currency": acv.currency},
		"rate": rate,
		"description": description,
	}
}

refund := input.event.amount

earned := sum([l.amount.amount | some l in input.prior_lines; l.amount.amount > 0])

outstanding := sum([l.amount.amount | some l in input.prior_lines])

clawback := {"lines": [], "explanation": explanation} if {
	outstanding <= 0
	explanation := sprintf(
		"Refund of %s: no commission outstanding on deal %s, nothing to claw back.",
		[money(refund.amount, refund.currency), deal.id],
	)
}

clawback := {"lines": [line], "explanation": explanation} if {
	outstanding > 0
	refunded := min([refund.amount, acv.amount])
	amount := min([mul_div_round(earned, refunded, acv.amount), outstanding])
	rate := mul_div_round(10000, refunded, acv.amount)
	explanation := sprintf(
		"Refund of %s on deal %s (%d bp of first-year ACV %s): clawback %s of %s earned.",
		[
			money(refund.amount, refund.currency), deal.id, rate, money(acv.amount, acv.currency),
			money(0 - amount, acv.currency), money(earned, acv.currency),
		],
	)
	line := {
		"partner_id": partner.id,
		"kind": "Clawback",
		"amount": {"amount": 0 - amount, "currency": acv.currency},
		"rate": rate,
		"description": explanation,
	}
}

# -------------------------------------------------------------- routing

lead := input.lead

# Registrations still protected at the event time, in input order.
live := [r | some r in input.registrations; r.protected_until > input.event_time]

tier_rank := {"Registered": 0, "Silver": 1, "Gold": 2, "Platinum": 3}

keys := {lower(k) | some k in [lead.region, lead.country]; is_string(k)}

# Active partners covering the lead's region or country.
covering := [p | some p in input.partners; p.active; some t in p.territories; lower(t) in keys]

territory_routing := object.get(input.params, "territory-routing", true)

# The highest tier, then the lowest id.
best := [p | some p in covering; p.id == best_id][0] if {
	territory_routing
	count(covering) > 0
	best_rank := max({tier_rank[p.tier] | some p in covering})
	best_id := min({p.id | some p in covering; tier_rank[p.tier] == best_rank})
}

default territory_pick := null

territory_pick := best

place := sprintf("region %s / country %s", [lead.region, lead.country]) if {
	is_string(lead.region)
	is_string(lead.country)
}

place := sprintf("region %s", [lead.region]) if {
	is_string(lead.region)
	not is_string(lead.country)
}

place := sprintf("country %s", [lead.country]) if {
	not is_string(lead.region)
	is_string(lead.country)
}

place := "an unknown location" if {
	not is_string(lead.region)
	not is_string(lead.country)
}

route := {"destination": reg.partner_id, "attribution": "registered-deal", "reason": reason} if {
	count(live) > 0
	reg := live[0]
	reason := sprintf(
		"%s has a live deal registration %s held by partner %s, protected until %d.",
		[lead.account_domain, reg.id, reg.partner_id, reg.protected_until],
	)
}

route := {"destination": p.id, "attribution": "partner-territory", "reason": reason} if {
	count(live) == 0
	p := territory_pick
	p != null
	territory := [t | some t in p.territories; lower(t) in keys][0]
	reason := sprintf(
		"No live registration on %s; territory %s belongs to partner %s (%s, %s).",
		[lead.account_domain, territory, p.id, p.name, p.tier],
	)
}

route := {"destination": null, "attribution": "direct", "reason": reason} if {
	count(live) == 0
	territory_pick == null
	reason := sprintf(
		"No live registration on %s and no active partner covers %s: direct sales.",
		[lead.account_domain, place],
	)
}
