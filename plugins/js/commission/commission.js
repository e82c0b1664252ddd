// Stock commission, in JavaScript: the same rule as plugins/stock/src/commission.rs.
//
// On a won deal, by partner kind and deal source:
//   referral        partner-sourced: `referral-rate-bps` (fee); influenced: `cosell-rate-bps` (fee)
//   reseller        `reseller-margin-bps` off list (margin)
//   technology      `cosell-rate-bps` (fee)
//   strategic       `strategic-rate-bps`, else `cosell-rate-bps` (fee)
//   implementation  no software commission: it keeps the services revenue
// On a refund: the refunded share of what was earned is clawed back.
//
// WIT `s64` arrives and leaves as BigInt: all money arithmetic is BigInt,
// never Number, so results match the Rust plugin exactly. Returning a value
// is `ok`; throwing a plain object {code, message} is a policy error;
// throwing an Error traps.

const FULL_BPS = 10000n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

const fail = (code, message) => ({ code, message });

const abs = (x) => (x < 0n ? -x : x);

// amount * numerator / denominator, rounded half away from zero (as the PDK).
function mulDivRound(amount, numerator, denominator) {
  if (denominator === 0n) throw fail('overflow', 'division by zero');
  const product = amount * numerator;
  let q = abs(product) / abs(denominator);
  if (2n * (abs(product) % abs(denominator)) >= abs(denominator)) q += 1n;
  if ((product < 0n) !== (denominator < 0n)) q = -q;
  if (q < I64_MIN || q > I64_MAX) throw fail('overflow', `${amount} x ${numerator} / ${denominator} overflows`);
  return q;
}

function minorUnitDigits(currency) {
  if (['JPY', 'KRW', 'CLP', 'ISK', 'VND', 'XAF', 'XOF', 'UGX'].includes(currency)) return 0;
  if (['BHD', 'KWD', 'OMR', 'JOD', 'TND', 'LYD', 'IQD'].includes(currency)) return 3;
  return 2;
}

// `1234567` -> `1,234,567`. By hand: the interpreter runs a regular
// expression's replace in about 50 000 Wasm instructions, this loop in a
// few thousand (BENCHMARKS.md, issue 7).
function groupThousands(digits) {
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return out;
}

// `USD 18,000.00`, as the PDK's Display for Money.
function fmtMoney({ amount, currency }) {
  const digits = minorUnitDigits(currency);
  const sign = amount < 0n ? '-' : '';
  const scale = 10n ** BigInt(digits);
  const major = groupThousands((abs(amount) / scale).toString());
  const minor = (abs(amount) % scale).toString().padStart(digits, '0');
  return digits ? `${sign}${currency} ${major}.${minor}` : `${sign}${currency} ${major}`;
}

// The company's `[params]`, from `context.params` (one JSON object).
function params(text) {
  let values;
  try {
    values = text ? JSON.parse(text) : {};
  } catch (e) {
    throw fail('bad-param', `context.params is not JSON: ${e.message}`);
  }
  return {
    has: (name) => Object.hasOwn(values, name),
    bps(name) {
      const v = values[name];
      if (!Number.isInteger(v)) throw fail('bad-param', `parameter \`${name}\` must be an integer, got ${JSON.stringify(v)}`);
      if (v < 0 || v > 10000) throw fail('bad-param', `parameter \`${name}\` must be 0 to 10000 basis points, got ${v}`);
      return v;
    },
  };
}

function won(input) {
  const p = params(input.context.params);
  const { deal, partner } = input;
  if (partner.kind === 'implementation') {
    return {
      lines: [],
      explanation: `Implementation partner ${partner.id} keeps the services revenue (${fmtMoney(deal.services)}); no software commission on deal ${deal.id}.`,
    };
  }
  let kind, param, label;
  if (partner.kind === 'referral' && deal.source === 'partner-sourced') [kind, param, label] = ['fee', 'referral-rate-bps', 'referral fee'];
  else if (partner.kind === 'reseller') [kind, param, label] = ['margin', 'reseller-margin-bps', 'reseller margin off list'];
  else if (partner.kind === 'strategic' && p.has('strategic-rate-bps')) [kind, param, label] = ['fee', 'strategic-rate-bps', 'strategic alliance fee'];
  else [kind, param, label] = ['fee', 'cosell-rate-bps', 'co-sell fee'];
  const rate = p.bps(param);
  const acv = deal.firstYearAcv;
  const amount = { amount: mulDivRound(acv.amount, BigInt(rate), FULL_BPS), currency: acv.currency };
  const cents = rate % 100;
  const pct = `${(rate - cents) / 100}.${cents < 10 ? '0' : ''}${cents}`;
  const description = `${label[0].toUpperCase()}${label.slice(1)} ${fmtMoney(amount)}: ${pct} % of first-year ACV ${fmtMoney(acv)} on deal ${deal.id}`;
  return {
    lines: [{ partnerId: partner.id, kind, amount, basis: acv, rate, description }],
    explanation: `${description}.`,
  };
}

function clawback(input, refund) {
  const acv = input.deal.firstYearAcv;
  if (refund.currency !== acv.currency) throw fail('currency-mismatch', `refund is in ${refund.currency} but the deal is in ${acv.currency}`);
  if (refund.amount <= 0n || acv.amount <= 0n) throw fail('bad-input', `refund ${fmtMoney(refund)} of a ${fmtMoney(acv)} deal cannot be clawed back`);
  let earned = 0n;
  let outstanding = 0n;
  for (const line of input.priorLines) {
    if (line.amount.currency !== acv.currency) throw fail('currency-mismatch', `prior line in ${line.amount.currency}`);
    if (line.amount.amount > 0n) earned += line.amount.amount;
    outstanding += line.amount.amount;
  }
  if (outstanding <= 0n) {
    return { lines: [], explanation: `Refund of ${fmtMoney(refund)}: no commission outstanding on deal ${input.deal.id}, nothing to claw back.` };
  }
  const refunded = refund.amount < acv.amount ? refund.amount : acv.amount;
  const share = mulDivRound(earned, refunded, acv.amount);
  const amount = share < outstanding ? share : outstanding;
  const rate = Number(mulDivRound(FULL_BPS, refunded, acv.amount));
  const taken = { amount: -amount, currency: acv.currency };
  const explanation = `Refund of ${fmtMoney(refund)} on deal ${input.deal.id} (${rate} bp of first-year ACV ${fmtMoney(acv)}): clawback ${fmtMoney(taken)} of ${fmtMoney({ amount: earned, currency: acv.currency })} earned.`;
  return {
    lines: [{ partnerId: input.partner.id, kind: 'clawback', amount: taken, basis: refund, rate, description: explanation }],
    explanation,
  };
}

export const commission = {
  compute(input) {
    return input.event.tag === 'refund' ? clawback(input, input.event.val) : won(input);
  },
};

// An Error thrown by the rule (a bug, not a decision) reaches the host as the
// policy error `exception`, carrying the Error's message, with its stack in
// the decision's log. Left alone, componentize-js would take the Error for a
// policy-error record, find no `code` in it, and trap without the message.
for (const [name, hook] of Object.entries(commission)) {
  commission[name] = (input) => {
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
// Running the rule here, on a won deal and a refund, leaves the engine's
// first-call work for this code (bytecode, inline caches) in the snapshot instead of redoing it on every call.
// The rule keeps no state between calls, so no decision can see these.
{
  const money = (amount) => ({ amount, currency: 'USD' });
  const input = (event, priorLines) => ({
    context: { company: 'warm-up', eventTime: 0n, params: '{"referral-rate-bps":1500,"cosell-rate-bps":1200}' },
    event,
    deal: { id: 'd', firstYearAcv: money(12000000n), services: money(0n), source: 'partner-sourced', closedAt: 0n },
    partner: { id: 'p', name: 'p', kind: 'referral', tier: 'registered', territories: [], certifications: [], active: true },
    priorLines,
    quarterToDate: money(0n),
  });
  commission.compute(input({ tag: 'won' }, []));
  commission.compute(input({ tag: 'refund', val: money(6000000n) }, [{ kind: 'fee', amount: money(1800000n) }]));
}
