//! The host's WIT records converted into each engine's input form, inside
//! the timed call: one description of the document ([`commission`],
//! [`routing`]) over a small [`Tree`] builder implemented for regorus
//! values, Rhai dynamics and JSON (Extism's wire form); and the conversion
//! into the native rule's types.
//!
//! The document: the context's `company` and `event_time`, `params` as an
//! object by name (integers, texts, lists of texts, flags, `{amount,
//! currency}`), then the hook's records with snake_case fields and enum
//! cases by their Rust names (`"Referral"`, `"PartnerSourced"`), options as
//! null, the commission event as `{"kind": "won"}` or `{"kind": "refund",
//! "amount": money}`.

use pactum::runtime::types::*;

/// Builds a value of one engine's document type.
pub trait Tree: Sized {
    fn int(v: i64) -> Self;
    fn text(s: &str) -> Self;
    fn flag(b: bool) -> Self;
    fn null() -> Self;
    fn list(items: Vec<Self>) -> Self;
    fn record<'a>(fields: impl IntoIterator<Item = (&'a str, Self)>) -> Self;
}

impl Tree for regorus::Value {
    fn int(v: i64) -> Self {
        regorus::Value::from(v)
    }
    fn text(s: &str) -> Self {
        regorus::Value::from(s)
    }
    fn flag(b: bool) -> Self {
        regorus::Value::from(b)
    }
    fn null() -> Self {
        regorus::Value::Null
    }
    fn list(items: Vec<Self>) -> Self {
        regorus::Value::from(items)
    }
    fn record<'a>(fields: impl IntoIterator<Item = (&'a str, Self)>) -> Self {
        regorus::Value::from(
            fields.into_iter().map(|(k, v)| (regorus::Value::from(k), v)).collect::<std::collections::BTreeMap<_, _>>(),
        )
    }
}

impl Tree for rhai::Dynamic {
    fn int(v: i64) -> Self {
        rhai::Dynamic::from_int(v)
    }
    fn text(s: &str) -> Self {
        rhai::Dynamic::from(rhai::ImmutableString::from(s))
    }
    fn flag(b: bool) -> Self {
        rhai::Dynamic::from_bool(b)
    }
    fn null() -> Self {
        rhai::Dynamic::UNIT
    }
    fn list(items: Vec<Self>) -> Self {
        rhai::Dynamic::from_array(items)
    }
    fn record<'a>(fields: impl IntoIterator<Item = (&'a str, Self)>) -> Self {
        rhai::Dynamic::from_map(fields.into_iter().map(|(k, v)| (k.into(), v)).collect::<rhai::Map>())
    }
}

impl Tree for serde_json::Value {
    fn int(v: i64) -> Self {
        serde_json::Value::from(v)
    }
    fn text(s: &str) -> Self {
        serde_json::Value::from(s)
    }
    fn flag(b: bool) -> Self {
        serde_json::Value::from(b)
    }
    fn null() -> Self {
        serde_json::Value::Null
    }
    fn list(items: Vec<Self>) -> Self {
        serde_json::Value::Array(items)
    }
    fn record<'a>(fields: impl IntoIterator<Item = (&'a str, Self)>) -> Self {
        serde_json::Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

fn money<T: Tree>(m: &Money) -> T {
    T::record([("amount", T::int(m.amount)), ("currency", T::text(&m.currency))])
}

fn opt<T: Tree>(s: &Option<String>) -> T {
    s.as_deref().map_or_else(T::null, T::text)
}

fn texts<T: Tree>(items: &[String]) -> T {
    T::list(items.iter().map(|s| T::text(s)).collect())
}

/// The context's parameters (one JSON object, as the component receives
/// them) as the engine's record. The JSON is parsed once per program (the
/// host encodes it once per program too); each call builds the engine's
/// own value from it, as each call lowers it into the component.
fn params<T: Tree>(context: &Context) -> T {
    thread_local! {
        static PARSED: std::cell::RefCell<(String, serde_json::Value)> =
            const { std::cell::RefCell::new((String::new(), serde_json::Value::Null)) };
    }
    PARSED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != context.params {
            let value = serde_json::from_str(&context.params).expect("the host encodes params as a JSON object");
            *cache = (context.params.clone(), value);
        }
        from_json(&cache.1)
    })
}

fn from_json<T: Tree>(v: &serde_json::Value) -> T {
    use serde_json::Value;
    match v {
        Value::Null => T::null(),
        Value::Bool(b) => T::flag(*b),
        Value::Number(n) => T::int(n.as_i64().expect("parameters are integers")),
        Value::String(s) => T::text(s),
        Value::Array(items) => T::list(items.iter().map(from_json).collect()),
        Value::Object(fields) => T::record(fields.iter().map(|(k, v)| (k.as_str(), from_json(v)))),
    }
}

fn partner_kind(kind: PartnerKind) -> &'static str {
    match kind {
        PartnerKind::Referral => "Referral",
        PartnerKind::Reseller => "Reseller",
        PartnerKind::Implementation => "Implementation",
        PartnerKind::Technology => "Technology",
        PartnerKind::Strategic => "Strategic",
    }
}

fn tier(tier: Tier) -> &'static str {
    match tier {
        Tier::Registered => "Registered",
        Tier::Silver => "Silver",
        Tier::Gold => "Gold",
        Tier::Platinum => "Platinum",
    }
}

fn partner<T: Tree>(p: &Partner) -> T {
    T::record([
        ("id", T::text(&p.id)),
        ("name", T::text(&p.name)),
        ("kind", T::text(partner_kind(p.kind))),
        ("tier", T::text(tier(p.tier))),
        ("territories", texts(&p.territories)),
        (
            "certifications",
            T::list(
                p.certifications
                    .iter()
                    .map(|c| {
                        T::record([
                            ("name", T::text(&c.name)),
                            ("expires_at", c.expires_at.map_or_else(T::null, T::int)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("active", T::flag(p.active)),
    ])
}

fn line_kind(kind: LineKind) -> &'static str {
    super::line_kind(kind)
}

/// The commission hook's input as a document.
pub fn commission<T: Tree>(input: &CommissionInput) -> T {
    let deal = &input.deal;
    T::record([
        ("company", T::text(&input.context.company)),
        ("event_time", T::int(input.context.event_time)),
        ("params", params(&input.context)),
        (
            "event",
            match &input.event {
                CommissionEvent::Won => T::record([("kind", T::text("won"))]),
                CommissionEvent::Refund(m) => T::record([("kind", T::text("refund")), ("amount", money(m))]),
            },
        ),
        (
            "deal",
            T::record([
                ("id", T::text(&deal.id)),
                ("first_year_acv", money(&deal.first_year_acv)),
                ("services", money(&deal.services)),
                (
                    "source",
                    T::text(match deal.source {
                        DealSource::PartnerSourced => "PartnerSourced",
                        DealSource::PartnerInfluenced => "PartnerInfluenced",
                    }),
                ),
                ("closed_at", T::int(deal.closed_at)),
            ]),
        ),
        ("partner", partner(&input.partner)),
        (
            "prior_lines",
            T::list(
                input
                    .prior_lines
                    .iter()
                    .map(|l| T::record([("kind", T::text(line_kind(l.kind))), ("amount", money(&l.amount))]))
                    .collect(),
            ),
        ),
        ("quarter_to_date", money(&input.quarter_to_date)),
    ])
}

/// The routing hook's input as a document.
pub fn routing<T: Tree>(input: &RoutingInput) -> T {
    let lead = &input.lead;
    T::record([
        ("company", T::text(&input.context.company)),
        ("event_time", T::int(input.context.event_time)),
        ("params", params(&input.context)),
        (
            "lead",
            T::record([
                ("id", T::text(&lead.id)),
                ("account_domain", T::text(&lead.account_domain)),
                ("account_name", T::text(&lead.account_name)),
                ("country", opt(&lead.country)),
                ("region", opt(&lead.region)),
                ("industry", opt(&lead.industry)),
                ("source", T::text(&lead.source)),
            ]),
        ),
        (
            "registrations",
            T::list(
                input
                    .registrations
                    .iter()
                    .map(|r| {
                        T::record([
                            ("id", T::text(&r.id)),
                            ("partner_id", T::text(&r.partner_id)),
                            ("protected_until", T::int(r.protected_until)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("partners", T::list(input.partners.iter().map(partner).collect())),
    ])
}

// ------------------------------------------------- the native rule's types

mod native {
    pub use pactum_pdk::commission::*;
    pub use pactum_pdk::routing::{Lead, LiveRegistration, RoutingInput};
}

fn n_money(m: &Money) -> native::Money {
    native::Money { amount: m.amount, currency: m.currency.clone() }
}

fn n_context(c: &Context) -> native::Context {
    native::Context { company: c.company.clone(), event_time: c.event_time, params: c.params.clone() }
}

fn n_partner(p: &Partner) -> native::Partner {
    native::Partner {
        id: p.id.clone(),
        name: p.name.clone(),
        kind: match p.kind {
            PartnerKind::Referral => native::PartnerKind::Referral,
            PartnerKind::Reseller => native::PartnerKind::Reseller,
            PartnerKind::Implementation => native::PartnerKind::Implementation,
            PartnerKind::Technology => native::PartnerKind::Technology,
            PartnerKind::Strategic => native::PartnerKind::Strategic,
        },
        tier: match p.tier {
            Tier::Registered => native::Tier::Registered,
            Tier::Silver => native::Tier::Silver,
            Tier::Gold => native::Tier::Gold,
            Tier::Platinum => native::Tier::Platinum,
        },
        territories: p.territories.clone(),
        certifications: p
            .certifications
            .iter()
            .map(|c| native::Certification { name: c.name.clone(), expires_at: c.expires_at })
            .collect(),
        active: p.active,
    }
}

fn n_line_kind(kind: LineKind) -> native::LineKind {
    match kind {
        LineKind::Fee => native::LineKind::Fee,
        LineKind::Margin => native::LineKind::Margin,
        LineKind::Bonus => native::LineKind::Bonus,
        LineKind::Clawback => native::LineKind::Clawback,
    }
}

/// The commission input in the native rule's types (as costly as a clone).
pub fn native_commission(input: &CommissionInput) -> native::CommissionInput {
    let deal = &input.deal;
    native::CommissionInput {
        context: n_context(&input.context),
        event: match &input.event {
            CommissionEvent::Won => native::CommissionEvent::Won,
            CommissionEvent::Refund(m) => native::CommissionEvent::Refund(n_money(m)),
        },
        deal: native::Deal {
            id: deal.id.clone(),
            first_year_acv: n_money(&deal.first_year_acv),
            services: n_money(&deal.services),
            source: match deal.source {
                DealSource::PartnerSourced => native::DealSource::PartnerSourced,
                DealSource::PartnerInfluenced => native::DealSource::PartnerInfluenced,
            },
            closed_at: deal.closed_at,
        },
        partner: n_partner(&input.partner),
        prior_lines: input
            .prior_lines
            .iter()
            .map(|l| native::PriorLine { kind: n_line_kind(l.kind), amount: n_money(&l.amount) })
            .collect(),
        quarter_to_date: n_money(&input.quarter_to_date),
    }
}

/// The routing input in the native rule's types (as costly as a clone).
pub fn native_routing(input: &RoutingInput) -> native::RoutingInput {
    let lead = &input.lead;
    native::RoutingInput {
        context: n_context(&input.context),
        lead: native::Lead {
            id: lead.id.clone(),
            account_domain: lead.account_domain.clone(),
            account_name: lead.account_name.clone(),
            country: lead.country.clone(),
            region: lead.region.clone(),
            industry: lead.industry.clone(),
            source: lead.source.clone(),
        },
        registrations: input
            .registrations
            .iter()
            .map(|r| native::LiveRegistration {
                id: r.id.clone(),
                partner_id: r.partner_id.clone(),
                protected_until: r.protected_until,
            })
            .collect(),
        partners: input.partners.iter().map(n_partner).collect(),
    }
}
