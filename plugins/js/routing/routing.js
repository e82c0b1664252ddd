// Stock routing, in JavaScript: the same rule as plugins/stock/src/routing.rs.
//
// 1. A live deal registration on the lead's account (protected past the
//    event time): the lead goes to the partner holding it.
// 2. Else, with `territory-routing` (default true): the active partner whose
//    territory matches the lead's region or country (case-insensitive), the
//    highest tier first, then the smallest id.
// 3. Else direct sales.
//
// Timestamps (`s64`) are BigInt.

const TIERS = ['registered', 'silver', 'gold', 'platinum'];

// `YYYY-MM-DD` of a Unix timestamp, UTC (Howard Hinnant's algorithm, as the PDK).
function civilDate(ts) {
  const fdiv = (a, b) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
  const z = fdiv(ts, 86400n) + 719468n;
  const era = fdiv(z, 146097n);
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  const y = yoe + era * 400n + (m <= 2n ? 1n : 0n);
  const pad = (v, n) => String(v).padStart(n, '0');
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

export const routing = {
  route(input) {
    const params = JSON.parse(input.context.params || '{}');
    const now = input.context.eventTime;
    const lead = input.lead;
    const reg = input.registrations.find((r) => r.protectedUntil > now);
    if (reg) {
      return {
        destination: { tag: 'partner', val: reg.partnerId },
        reason: `${lead.accountDomain} has a live deal registration ${reg.id} held by partner ${reg.partnerId}, protected until ${civilDate(reg.protectedUntil)}.`,
        attribution: 'registered-deal',
      };
    }
    const territoryRouting = params['territory-routing'] ?? true;
    if (typeof territoryRouting !== 'boolean') {
      throw { code: 'bad-param', message: `parameter \`territory-routing\` must be true or false, got ${JSON.stringify(territoryRouting)}` };
    }
    if (territoryRouting) {
      const keys = [lead.region, lead.country].filter((k) => k != null).map((k) => k.toLowerCase());
      let best;
      for (const p of input.partners) {
        if (!p.active) continue;
        const hit = p.territories.find((t) => keys.includes(t.toLowerCase()));
        if (hit === undefined) continue;
        const rank = TIERS.indexOf(p.tier);
        if (!best || rank > best.rank || (rank === best.rank && p.id < best.p.id)) best = { p, hit, rank };
      }
      if (best) {
        return {
          destination: { tag: 'partner', val: best.p.id },
          reason: `No live registration on ${lead.accountDomain}; territory ${best.hit} belongs to partner ${best.p.id} (${best.p.name}, ${best.p.tier}).`,
          attribution: 'partner-territory',
        };
      }
    }
    let place = 'an unknown location';
    if (lead.region != null && lead.country != null) place = `region ${lead.region} / country ${lead.country}`;
    else if (lead.region != null) place = `region ${lead.region}`;
    else if (lead.country != null) place = `country ${lead.country}`;
    return {
      destination: { tag: 'direct' },
      reason: `No live registration on ${lead.accountDomain} and no active partner covers ${place}: direct sales.`,
      attribution: 'direct',
    };
  },
};

// An Error thrown by the rule (a bug, not a decision) reaches the host as the
// policy error `exception`, carrying the Error's message, with its stack in
// the decision's log. Left alone, componentize-js would take the Error for a
// policy-error record, find no `code` in it, and trap without the message.
for (const [name, hook] of Object.entries(routing)) {
  routing[name] = (input) => {
    try {
      return hook(input);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      console.error(`${e}\n${e.stack}`);
      throw { code: 'exception', message: String(e) };
    }
  };
}

// ---- Build-time warm-up (performance, issue 7; see BENCHMARKS.md) ----------
// componentize-js evaluates this module once at build time and snapshots the
// engine's memory; every call starts in a fresh instance of that snapshot.
// Running the rule here, once per outcome (registered deal, territory,
// direct), leaves the engine's first-call work for this code in the snapshot
// instead of redoing it on every call. The rule keeps no state between
// calls, so no decision can see these.
{
  const context = { company: 'warm-up', eventTime: 0n, params: '{"territory-routing":true}' };
  const lead = { id: 'l', accountDomain: 'a.example', accountName: 'a', country: 'US', region: 'emea', industry: undefined, source: 's' };
  const partners = [
    { id: 'p1', name: 'p1', kind: 'reseller', tier: 'gold', territories: ['EMEA'], certifications: [], active: true },
    { id: 'p2', name: 'p2', kind: 'reseller', tier: 'silver', territories: ['us'], certifications: [], active: true },
  ];
  routing.route({ context, lead, registrations: [{ id: 'r', partnerId: 'p1', protectedUntil: 86400n }], partners });
  routing.route({ context, lead, registrations: [], partners });
  routing.route({ context, lead, registrations: [], partners: [] });
}
