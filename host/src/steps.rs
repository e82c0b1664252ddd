//! The steps people take in a program, from the command line (issue 16):
//! the review queue, lead answers, commission line steps, partner changes,
//! protection extensions and tier changes. Each is one call of the HTTP
//! API on a running server (`--server`, `--key`), with the caller's key:
//! a partner key for a partner's steps (answering a lead, disputing a
//! line, asking for an extension), an admin's or manager's for the rest.
//! The answer is summed up in one line; `--json` prints it whole.

use super::{ServerArgs, call};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// A step's reason, required.
#[derive(Args)]
pub struct Reason {
    /// Why, in your words (1 to 1,000 characters): recorded with the step.
    #[arg(long)]
    reason: String,
}

/// A step on one record that must be explained.
#[derive(Args)]
pub struct Explained {
    /// The record's id (the registration, lead or partner).
    id: String,
    #[command(flatten)]
    reason: Reason,
    #[command(flatten)]
    target: Target,
}

/// The server, the key, and how to print the answer.
#[derive(Args)]
pub struct Target {
    #[command(flatten)]
    server: ServerArgs,
    /// Print the server's whole answer (JSON) instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Lists the registrations waiting for a manager, oldest first, with
    /// the approval plugin's reason.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Approves a registration in review.
    Approve {
        /// The registration's id.
        id: String,
        /// Days of protection from now (default: the program's).
        #[arg(long)]
        days: Option<u32>,
        /// Why, for the partner (default: a sentence naming the reviewer).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Rejects a registration in review.
    Reject(Explained),
}

#[derive(Subcommand)]
pub enum LeadCommand {
    /// Accepts a lead offered to your partner (a partner key).
    Accept {
        /// The lead's id.
        id: String,
        #[command(flatten)]
        target: Target,
    },
    /// Declines a lead offered to your partner: it is routed again at once,
    /// without the partners tried so far.
    Decline(Explained),
    /// Reports how an accepted lead is going (forwards only).
    Report {
        /// The lead's id.
        id: String,
        /// contacted, qualified, converted or disqualified.
        #[arg(long)]
        status: String,
        /// A note for the managers.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

/// A step on one commission line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LineStep {
    /// Holds a pending line out of payouts (manager).
    Hold,
    /// Releases a held line (manager).
    Release,
    /// Voids a held line: it is never paid (manager).
    Void,
    /// Disputes a line (the partner's key).
    Dispute,
    /// Resolves a dispute, with `--amount` for a linked adjustment line
    /// (manager).
    Resolve,
    /// Adds a linked adjustment line of `--amount` (manager).
    Adjust,
}

impl LineStep {
    fn path(self) -> &'static str {
        match self {
            LineStep::Hold => "hold",
            LineStep::Release => "release",
            LineStep::Void => "void",
            LineStep::Dispute => "dispute",
            LineStep::Resolve => "resolve",
            LineStep::Adjust => "adjust",
        }
    }
}

#[derive(Subcommand)]
pub enum PartnerCommand {
    /// Changes a partner's details; what is not given stays.
    Update {
        /// The partner's id.
        id: String,
        /// Its display name.
        #[arg(long)]
        name: Option<String>,
        /// A territory it covers (repeat for each; replaces the list).
        #[arg(long = "territory")]
        territories: Vec<String>,
        /// Its partner manager.
        #[arg(long, conflicts_with = "no_manager")]
        manager: Option<String>,
        /// Clears its partner manager.
        #[arg(long)]
        no_manager: bool,
        /// Its contact's email.
        #[arg(long)]
        contact_email: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Issues or renews a certification.
    Certify {
        /// The partner's id.
        id: String,
        /// The certification's name.
        certification: String,
        /// When it expires, Unix seconds (none: it does not).
        #[arg(long)]
        expires_at: Option<i64>,
        #[command(flatten)]
        target: Target,
    },
    /// Sets a partner's tier by hand (in the decision log, with the reason).
    Tier {
        /// The partner's id.
        id: String,
        /// registered, silver, gold or platinum.
        tier: String,
        #[command(flatten)]
        reason: Reason,
        #[command(flatten)]
        target: Target,
    },
    /// Suspends a partner: no leads, no new registrations, until reactivated.
    Suspend(Explained),
    /// Reactivates a suspended partner.
    Reactivate(Explained),
    /// Offboards a partner: no leads, its open registrations released, its
    /// earned lines still paid.
    Offboard(Explained),
}

#[derive(Subcommand)]
pub enum ExtensionCommand {
    /// Asks for more days of protection on a registration (a partner key).
    Request {
        /// The registration's id.
        registration: String,
        /// Days to add (1 to 365).
        #[arg(long)]
        days: i64,
        #[command(flatten)]
        reason: Reason,
        #[command(flatten)]
        target: Target,
    },
    /// Grants a request (manager), with the days asked for or fewer.
    Grant {
        /// The registration's id.
        registration: String,
        /// Days to add (default: the days asked for).
        #[arg(long)]
        days: Option<i64>,
        #[command(flatten)]
        reason: Reason,
        #[command(flatten)]
        target: Target,
    },
    /// Refuses a request (manager).
    Refuse(Explained),
}

/// A manager's answer to one scorecard's tier change.
#[derive(Args)]
pub struct TierChangeStep {
    /// The partner's id.
    partner: String,
    /// The scorecard's month, `YYYY-MM`.
    period: String,
    #[command(flatten)]
    reason: Reason,
    #[command(flatten)]
    target: Target,
}

#[derive(Subcommand)]
pub enum TierChangeCommand {
    /// Lists the tier changes waiting for a manager's approval.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Approves a scorecard's tier change.
    Approve(TierChangeStep),
    /// Rejects a scorecard's tier change: the partner keeps its tier.
    Reject(TierChangeStep),
}

/// One call and its printed answer.
async fn step(target: &Target, method: &str, path: &str, body: Value) -> Result<(), Box<dyn std::error::Error>> {
    let (_, answer) = call(&target.server, method, path, body).await?;
    if target.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("{}", summary(&answer));
    }
    Ok(())
}

/// One line for a record the API answered: its kind, id and state, or one
/// line per record of a list.
fn summary(answer: &Value) -> String {
    let one = |v: &Value| {
        let field =
            |name: &str| v.get(name).filter(|f| !f.is_null()).map(|f| f.as_str().map_or(f.to_string(), String::from));
        let id = field("id").or_else(|| field("partner_id")).unwrap_or_default();
        let mut parts = vec![id];
        for name in ["status", "tier", "tier_status", "partner_id", "reason", "protected_until"] {
            if let Some(value) = field(name)
                && !(name == "partner_id" && parts[0] == value)
            {
                parts.push(format!("{name}={value}"));
            }
        }
        parts.join(" ")
    };
    match answer {
        Value::Object(map) if map.len() == 1 && map.values().all(Value::is_array) => {
            let rows = map.values().next().and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if rows.is_empty() { "(none)".to_string() } else { rows.iter().map(one).collect::<Vec<_>>().join("\n") }
        }
        Value::Object(map) if map.contains_key("line") => {
            let mut line = one(&map["line"]);
            if let Some(adjustment) = map.get("adjustment").filter(|a| !a.is_null()) {
                line.push_str(&format!(" adjustment={} amount={}", adjustment["id"], adjustment["amount"]));
            }
            line
        }
        Value::Object(map) if map.contains_key("partner") => {
            let released = map.get("released_registrations").and_then(Value::as_u64).unwrap_or(0);
            format!("{} released_registrations={released}", one(&map["partner"]))
        }
        other => one(other),
    }
}

pub async fn review(command: ReviewCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        ReviewCommand::List { target } => step(&target, "GET", "/v1/reviews", Value::Null).await,
        ReviewCommand::Approve { id, days, reason, target } => {
            let body = json!({ "protection_days": days, "reason": reason });
            step(&target, "POST", &format!("/v1/registrations/{}/approve", segment(&id)), body).await
        }
        ReviewCommand::Reject(e) => explained(e, "/v1/registrations/{}/reject").await,
    }
}

pub async fn lead(command: LeadCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        LeadCommand::Accept { id, target } => {
            step(&target, "POST", &format!("/v1/leads/{}/accept", segment(&id)), Value::Null).await
        }
        LeadCommand::Decline(e) => explained(e, "/v1/leads/{}/decline").await,
        LeadCommand::Report { id, status, note, target } => {
            let path = format!("/v1/leads/{}/status", segment(&id));
            step(&target, "POST", &path, json!({ "status": status, "note": note })).await
        }
    }
}

pub async fn line(
    action: LineStep,
    id: i64,
    amount: Option<i64>,
    reason: Reason,
    target: Target,
) -> Result<(), Box<dyn std::error::Error>> {
    let body = json!({ "reason": reason.reason, "amount": amount });
    step(&target, "POST", &format!("/v1/lines/{id}/{}", action.path()), body).await
}

pub async fn partner(command: PartnerCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        PartnerCommand::Update { id, name, territories, manager, no_manager, contact_email, target } => {
            let mut body = serde_json::Map::new();
            if let Some(name) = name {
                body.insert("name".into(), json!(name));
            }
            if !territories.is_empty() {
                body.insert("territories".into(), json!(territories));
            }
            if no_manager {
                body.insert("manager".into(), Value::Null);
            } else if let Some(manager) = manager {
                body.insert("manager".into(), json!(manager));
            }
            if let Some(email) = contact_email {
                body.insert("contact_email".into(), json!(email));
            }
            if body.is_empty() {
                return Err(
                    "nothing to change: give --name, --territory, --manager, --no-manager or --contact-email".into()
                );
            }
            step(&target, "PATCH", &format!("/v1/partners/{}", segment(&id)), Value::Object(body)).await
        }
        PartnerCommand::Certify { id, certification, expires_at, target } => {
            let path = format!("/v1/partners/{}/certifications/{}", segment(&id), segment(&certification));
            step(&target, "PUT", &path, json!({ "expires_at": expires_at })).await
        }
        PartnerCommand::Tier { id, tier, reason, target } => {
            let path = format!("/v1/partners/{}/tier", segment(&id));
            step(&target, "POST", &path, json!({ "tier": tier, "reason": reason.reason })).await
        }
        PartnerCommand::Suspend(e) => explained(e, "/v1/partners/{}/suspend").await,
        PartnerCommand::Reactivate(e) => explained(e, "/v1/partners/{}/reactivate").await,
        PartnerCommand::Offboard(e) => explained(e, "/v1/partners/{}/offboard").await,
    }
}

/// `POST` of `{"reason"}` to `route`, its `{}` the record's id.
async fn explained(e: Explained, route: &str) -> Result<(), Box<dyn std::error::Error>> {
    let path = route.replacen("{}", &segment(&e.id), 1);
    step(&e.target, "POST", &path, json!({ "reason": e.reason.reason })).await
}

pub async fn extension(command: ExtensionCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        ExtensionCommand::Request { registration, days, reason, target } => {
            let path = format!("/v1/registrations/{}/extension", segment(&registration));
            step(&target, "POST", &path, json!({ "days": days, "reason": reason.reason })).await
        }
        ExtensionCommand::Grant { registration, days, reason, target } => {
            let path = format!("/v1/registrations/{}/extension/grant", segment(&registration));
            step(&target, "POST", &path, json!({ "days": days, "reason": reason.reason })).await
        }
        ExtensionCommand::Refuse(e) => explained(e, "/v1/registrations/{}/extension/refuse").await,
    }
}

pub async fn tier_change(command: TierChangeCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        TierChangeCommand::List { target } => step(&target, "GET", "/v1/tier-changes", Value::Null).await,
        TierChangeCommand::Approve(t) => tier_change_step(t, "approve").await,
        TierChangeCommand::Reject(t) => tier_change_step(t, "reject").await,
    }
}

async fn tier_change_step(t: TierChangeStep, answer: &str) -> Result<(), Box<dyn std::error::Error>> {
    let path = format!("/v1/tier-changes/{}/{}/{answer}", segment(&t.partner), segment(&t.period));
    step(&t.target, "POST", &path, json!({ "reason": t.reason.reason })).await
}

/// `text` as one URL path segment: every byte but unreserved ones
/// percent-encoded, so an id cannot reach another route.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(segment("r-12_a.b~"), "r-12_a.b~");
        assert_eq!(segment("../keys"), "..%2Fkeys");
        assert_eq!(segment("a b?c#d"), "a%20b%3Fc%23d");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn answers_are_summed_up_in_a_line() {
        let registration = json!({ "id": "r-1", "status": "approved", "partner_id": "p-1", "protected_until": 5 });
        assert_eq!(summary(&registration), "r-1 status=approved partner_id=p-1 protected_until=5");
        let list =
            json!({ "registrations": [{ "id": "r-1", "status": "review" }, { "id": "r-2", "status": "review" }] });
        assert_eq!(summary(&list), "r-1 status=review\nr-2 status=review");
        assert_eq!(summary(&json!({ "leads": [] })), "(none)");
        let stepped = json!({ "partner": { "id": "p-1", "status": "offboarded" }, "released_registrations": 2 });
        assert_eq!(summary(&stepped), "p-1 status=offboarded released_registrations=2");
        let line = json!({ "id": 7, "status": "held", "partner_id": "p-1" });
        assert_eq!(summary(&json!({ "line": line, "adjustment": null })), "7 status=held partner_id=p-1");
        let adjustment = json!({ "id": 8, "amount": -500 });
        let resolved = json!({ "line": { "id": 7, "status": "pending" }, "adjustment": adjustment });
        assert_eq!(summary(&resolved), "7 status=pending adjustment=8 amount=-500");
    }
}
