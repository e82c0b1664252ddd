//! People who sign in: invitations, passwords, sessions, the sign-in
//! throttle, and what a signed-in person sees on their home page.
//!
//! A user belongs to one company with one [`Role`] (a partner user to one
//! partner), exactly like an API key; a live session becomes the same
//! [`Caller`] a key would, named `user:<email>` in audit records, so every
//! capability check and partner scoping is the one in [`crate::auth`].
//!
//! - An admin invites someone ([`Service::create_invitation`], or the CLI
//!   through [`invite`]): a one-time link `/invitations/{token}` valid
//!   [`INVITATION_TTL_S`]; only the token's sha256 is stored.
//! - Opening it, the person chooses a password ([`Service::accept_invitation`]):
//!   the user is created and signed in, in one transaction that uses the
//!   invitation once.
//! - Passwords are hashed with argon2id (default parameters) on the
//!   blocking pool. [`THROTTLE_FAILURES`] failed sign-ins for an email within
//!   [`THROTTLE_WINDOW_S`] refuse further tries without checking the
//!   password until the window has passed; the failures are in the
//!   database, so the throttle holds across replicas.
//! - A session is a random 32-byte token (the cookie), stored as its
//!   sha256, with a CSRF token for its forms; it ends after
//!   [`SESSION_IDLE_S`] unused or [`SESSION_MAX_S`] in all, or at sign-out.

use crate::auth::{Caller, Capability, Role};
use crate::runtime::types as wit;
use crate::service::{Service, ServiceError, key_hash};
use crate::store::{Db, NewSession, RegistrationRow, UserRow};
use crate::workflows::{DAY, bad, check_id, check_text};
use pactum_core::{LeadStatus, RegistrationStatus};
use pactum_pdk::time::{civil_date, days_from_civil};
use serde::{Deserialize, Serialize};

/// How long an invitation link works: 7 days.
pub const INVITATION_TTL_S: i64 = 7 * DAY;
/// A session unused this long has ended: 12 hours.
pub const SESSION_IDLE_S: i64 = 12 * 3600;
/// A session ends this long after sign-in however it is used: 7 days.
pub const SESSION_MAX_S: i64 = 7 * DAY;
/// How many failed sign-ins for one email within [`THROTTLE_WINDOW_S`]
/// make further tries wait.
pub const THROTTLE_FAILURES: i64 = 5;
/// The window of [`THROTTLE_FAILURES`]: 15 minutes.
pub const THROTTLE_WINDOW_S: i64 = 15 * 60;
/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes (1 KiB).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest email address, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// A session is marked used at most this often (a write per request
/// otherwise).
const TOUCH_EVERY_S: i64 = 60;

/// An invitation to create (admin).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The person's email (at most 254 characters): unique across the
    /// service, compared without regard to case.
    pub email: String,
    /// Their name (1 to 200 characters).
    pub name: String,
    /// Their role in the company.
    pub role: Role,
    /// For a partner user, the partner they act for (required then, refused
    /// otherwise).
    pub partner_id: Option<String>,
}

/// A created invitation: the link is shown this once.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Invitation {
    /// Who is invited (lower case).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their partner, for a partner user.
    pub partner_id: Option<String>,
    /// The one-time link, relative to the service (`/invitations/{token}`):
    /// opened, it asks for a password and signs the person in. Only its
    /// hash is stored.
    pub link: String,
    /// Until when it works (Unix seconds): 7 days.
    pub expires_at: i64,
}

/// A person signed in: the session's cookie token and what it is.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie's value: shown once, stored as its sha256.
    pub token: String,
    /// The session.
    pub session: Session,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who acts: the same caller an API key of the user's role would be,
    /// named `user:<email>`.
    pub caller: Caller,
    /// The person's name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// The token every form of the session carries.
    pub csrf: String,
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The email and password do not match a user (which one is wrong is
    /// not said).
    #[error("the email or the password is wrong")]
    Wrong,
    /// Too many failures for this email lately: try again in
    /// `retry_after_s` seconds. The password was not checked.
    #[error("too many failed sign-ins; try again in {retry_after_s} s")]
    Throttled {
        /// Seconds until a try is checked again.
        retry_after_s: i64,
    },
    /// The service failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What is wrong with a chosen password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
}

/// What is wrong with `password` as a new password, if anything.
pub fn password_problem(password: &str) -> Option<PasswordProblem> {
    if password.len() > MAX_PASSWORD_BYTES {
        Some(PasswordProblem::TooLong)
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(PasswordProblem::TooShort)
    } else {
        None
    }
}

/// `email` checked (at most 254 characters, `local@domain.tld`, no control
/// characters or spaces) and in lower case, as users are stored.
pub fn normalize_email(email: &str) -> Result<String, ServiceError> {
    let email = email.trim();
    check_text("email", email, MAX_EMAIL_CHARS)?;
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if ok { Ok(email.to_lowercase()) } else { Err(bad(format!("`email` {email:?} is not an email address"))) }
}

/// 32 random bytes, hex: a session or invitation token.
pub fn new_token() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(format!("no randomness for a token: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Compares two texts in time independent of where they differ (CSRF
/// tokens).
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Hashes `password` with argon2id on the blocking pool.
async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| ServiceError::Internal(format!("no randomness for a salt: {e}")))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| ServiceError::Internal(format!("a salt: {e}")))?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("the password hashing task: {e}")))?
}

/// Whether `password` matches the argon2 `hash` (with none, the decoy's,
/// which nothing matches: an unknown email takes as long as a known one),
/// on the blocking pool.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let hash = hash.unwrap_or_else(|| decoy_hash().to_string());
        let parsed = PasswordHash::new(&hash).map_err(|e| ServiceError::Internal(format!("a stored hash: {e}")))?;
        Ok(argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("the password checking task: {e}")))?
}

/// A hash no password matches, checked when the email is unknown so that
/// an unknown email takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"pactum-decoy-salt").expect("a constant salt encodes");
        argon2::Argon2::default()
            .hash_password(b"no password is this one", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn caller_of(user: &UserRow) -> Caller {
    Caller {
        tenant: user.tenant.clone(),
        role: user.role,
        partner: user.partner_id.clone(),
        key: format!("user:{}", user.email),
    }
}

/// Creates an invitation for `caller`'s company (admin): checks it, stores
/// the token's hash and returns the link. The CLI calls it on the database
/// alone, as an operator acting for the company's admin.
pub async fn invite(db: &Db, caller: &Caller, new: NewInvitation, at: i64) -> Result<Invitation, ServiceError> {
    caller.require(Capability::ManageUsers)?;
    let email = normalize_email(&new.email)?;
    let name = new.name.trim();
    if name.is_empty() {
        return Err(bad("`name` must not be empty"));
    }
    check_text("name", name, MAX_NAME_CHARS)?;
    match (new.role, new.partner_id.as_deref()) {
        (Role::Partner, Some(p)) => {
            check_id("partner_id", p)?;
            if db.partner(&caller.tenant, p).await?.is_none() {
                return Err(ServiceError::NotFound(format!("no partner `{p}`")));
            }
        }
        (Role::Partner, None) => return Err(bad("`partner_id` is required for a partner user")),
        (_, Some(_)) => return Err(bad("`partner_id` goes with the role `partner` only")),
        (_, None) => {}
    }
    if db.user_by_email(&email).await?.is_some() {
        return Err(ServiceError::Conflict(format!("a user with the email {email} exists already")));
    }
    let token = new_token()?;
    let expires_at = at + INVITATION_TTL_S;
    db.add_invitation(&crate::store::NewInvitation {
        token_hash: &key_hash(&token),
        tenant: &caller.tenant,
        email: &email,
        name,
        role: new.role,
        partner_id: new.partner_id.as_deref(),
        created_by: &caller.key,
        at,
        expires_at,
    })
    .await?;
    tracing::info!(tenant = %caller.tenant, role = %new.role.as_str(), by = %caller.key, "invitation created");
    Ok(Invitation {
        email,
        name: name.to_string(),
        role: new.role,
        partner_id: new.partner_id,
        link: format!("/invitations/{token}"),
        expires_at,
    })
}

/// Whether `token` looks like one of ours (64 hex digits): anything else
/// is not looked up.
fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Service {
    /// Creates an invitation (admin): see [`invite`].
    pub async fn create_invitation(
        &self,
        caller: &Caller,
        new: NewInvitation,
        at: i64,
    ) -> Result<Invitation, ServiceError> {
        invite(&self.db, caller, new, at).await
    }

    /// The invitation of `token` while it can be used, for its form.
    pub async fn open_invitation(
        &self,
        token: &str,
        at: i64,
    ) -> Result<Option<crate::store::InvitationRow>, ServiceError> {
        if !plausible_token(token) {
            return Ok(None);
        }
        Ok(self.db.open_invitation(&key_hash(token), at).await?)
    }

    /// Uses the invitation of `token`: creates its user with `password` and
    /// signs them in. `BadInput` for a password that is too short or long,
    /// `Conflict` when the link was used already or has expired (of
    /// concurrent uses, exactly one creates the user).
    pub async fn accept_invitation(&self, token: &str, password: &str, at: i64) -> Result<SignedIn, ServiceError> {
        match password_problem(password) {
            Some(PasswordProblem::TooShort) => {
                return Err(bad(format!("the password must be at least {MIN_PASSWORD_CHARS} characters")));
            }
            Some(PasswordProblem::TooLong) => {
                return Err(bad(format!("the password must be at most {MAX_PASSWORD_BYTES} bytes")));
            }
            None => {}
        }
        let Some(invitation) = self.open_invitation(token, at).await? else {
            return Err(ServiceError::Conflict("this invitation has been used already or has expired".into()));
        };
        let hash = hash_password(password.to_string()).await?;
        let (session_token, csrf) = (new_token()?, new_token()?);
        let user = self
            .db
            .accept_invitation(
                &key_hash(token),
                &hash,
                &NewSession { token_hash: &key_hash(&session_token), csrf: &csrf, at, expires_at: at + SESSION_MAX_S },
            )
            .await?;
        tracing::info!(tenant = %invitation.tenant, user = user.id, "invitation used: user created");
        Ok(SignedIn {
            token: session_token,
            session: Session { caller: caller_of(&user), name: user.name, email: user.email, csrf },
        })
    }

    /// Signs in with `email` and `password`: a new session, or why not.
    pub async fn sign_in(&self, email: &str, password: &str, at: i64) -> Result<SignedIn, SignInError> {
        // Over-long input is not a user's: wrong, without hashing a megabyte.
        if email.len() > 4 * MAX_EMAIL_CHARS || password.len() > MAX_PASSWORD_BYTES {
            return Err(SignInError::Wrong);
        }
        let email = email.trim().to_lowercase();
        let since = at - THROTTLE_WINDOW_S;
        let (failures, oldest) = self.db.sign_in_failures(&email, since).await.map_err(ServiceError::from)?;
        if failures >= THROTTLE_FAILURES {
            let retry_after_s = (oldest.unwrap_or(at) + THROTTLE_WINDOW_S - at).max(1);
            tracing::warn!(failures, retry_after_s, "sign-in throttled");
            return Err(SignInError::Throttled { retry_after_s });
        }
        let found = self.db.user_by_email(&email).await.map_err(ServiceError::from)?;
        let hash = found.as_ref().map(|(_, h)| h.clone());
        let matches = verify_password(password.to_string(), hash).await?;
        let user = match found {
            Some((user, _)) if matches => user,
            _ => {
                self.db.add_sign_in_failure(&email, at, since).await.map_err(ServiceError::from)?;
                tracing::info!("sign-in failed");
                return Err(SignInError::Wrong);
            }
        };
        let (token, csrf) = (new_token()?, new_token()?);
        self.db
            .add_session(
                user.id,
                &email,
                &NewSession { token_hash: &key_hash(&token), csrf: &csrf, at, expires_at: at + SESSION_MAX_S },
                at - SESSION_IDLE_S,
            )
            .await
            .map_err(ServiceError::from)?;
        tracing::info!(tenant = %user.tenant, user = user.id, "signed in");
        Ok(SignedIn { token, session: Session { caller: caller_of(&user), name: user.name, email: user.email, csrf } })
    }

    /// The live session of the cookie `token`, marked used; `None` when
    /// there is none (never was, signed out, idle too long, too old).
    pub async fn session(&self, token: &str, at: i64) -> Result<Option<Session>, ServiceError> {
        if !plausible_token(token) {
            return Ok(None);
        }
        let hash = key_hash(token);
        let Some(row) = self.db.session(&hash, at, at - SESSION_IDLE_S).await? else { return Ok(None) };
        if at - row.last_seen_at >= TOUCH_EVERY_S {
            self.db.touch_session(&hash, at).await?;
        }
        Ok(Some(Session { caller: caller_of(&row.user), name: row.user.name, email: row.user.email, csrf: row.csrf }))
    }

    /// Ends the session of the cookie `token` (sign-out).
    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        if plausible_token(token) && self.db.delete_session(&key_hash(token)).await? {
            tracing::info!("signed out");
        }
        Ok(())
    }

    /// A partner's standing at `at`: its tier, its won revenue over the
    /// trailing twelve months (deals in the program's currency) and the
    /// next tier's revenue threshold (the program's `silver-revenue`,
    /// `gold-revenue`, `platinum-revenue`), for its own partner user or
    /// staff.
    pub async fn standing(&self, caller: &Caller, partner: &str, at: i64) -> Result<Standing, ServiceError> {
        caller.require(Capability::ReadOwnRecords)?;
        let row = self.partner(caller, partner).await?;
        let tenant = self.tenant(&caller.tenant)?;
        let currency = tenant.program.currency.clone();
        let from = at - 365 * DAY;
        // Through `at` itself: a deal won this second counts.
        let stats = self.db.deal_stats(&caller.tenant, from, from, at + 1, &currency).await?;
        let trailing_revenue = stats.get(partner).map_or(0, |(_, revenue)| *revenue);
        let threshold = |name: &str| {
            tenant.program.params.iter().find(|p| p.name == name).and_then(|p| match &p.value {
                wit::ParamValue::Money(m) if m.currency == currency => Some(m.amount),
                _ => None,
            })
        };
        const LADDER: [&str; 4] = ["registered", "silver", "gold", "platinum"];
        let position = LADDER.iter().position(|t| *t == row.tier).unwrap_or(0);
        let next = LADDER.get(position + 1).and_then(|tier| {
            let amount = threshold(&format!("{tier}-revenue"))?;
            Some(NextTier { tier: (*tier).to_string(), revenue: amount, missing: (amount - trailing_revenue).max(0) })
        });
        let top = position + 1 == LADDER.len();
        // The last twelve calendar months, this one included.
        let (mut year, mut month) = {
            let (y, m, _) = civil_date(at);
            (y, m)
        };
        let mut starts = Vec::with_capacity(13);
        for _ in 0..12 {
            starts.push((year, month));
            (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
        }
        starts.reverse();
        let (last_year, last_month) = *starts.last().expect("twelve months");
        let after = if last_month == 12 { (last_year + 1, 1) } else { (last_year, last_month + 1) };
        let bounds: Vec<i64> = starts.iter().chain([&after]).map(|&(y, m)| days_from_civil(y, m, 1)).collect();
        let revenue = self.db.won_revenue_by_window(&caller.tenant, partner, &bounds, &currency).await?;
        let months = starts
            .iter()
            .zip(revenue)
            .map(|(&(y, m), revenue)| MonthRevenue { period: format!("{y:04}-{m:02}"), revenue })
            .collect();
        Ok(Standing {
            partner_id: row.id,
            partner_name: row.name,
            tier: row.tier,
            trailing_revenue,
            currency,
            next,
            top,
            months,
        })
    }

    /// A partner user's home at `at`: its standing, its approved
    /// registrations whose protection ends within 30 days (soonest first),
    /// and the leads offered to it awaiting its answer (soonest deadline
    /// first).
    pub async fn partner_home(&self, caller: &Caller, at: i64) -> Result<PartnerHome, ServiceError> {
        let Some(partner) = caller.partner.clone() else {
            return Err(ServiceError::Forbidden("the partner home is for a partner's users".into()));
        };
        let standing = self.standing(caller, &partner, at).await?;
        let mut ending: Vec<RegistrationRow> = self
            .registrations(caller, Some(&partner), Some(RegistrationStatus::Approved), 500)
            .await?
            .into_iter()
            .filter(|r| r.protected_until.is_some_and(|until| until > at && until <= at + 30 * DAY))
            .collect();
        ending.sort_by_key(|r| r.protected_until);
        let mut leads: Vec<crate::store::LeadRow> = self
            .leads(caller, Some(&partner), 500)
            .await?
            .into_iter()
            .filter(|l| l.status == LeadStatus::Offered && l.respond_by.is_some_and(|by| by > at))
            .collect();
        leads.sort_by_key(|l| l.respond_by);
        Ok(PartnerHome { standing, ending, leads })
    }
}

/// A partner's tier and revenue ([`Service::standing`]).
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    /// The partner.
    pub partner_id: String,
    /// Its name.
    pub partner_name: String,
    /// Its tier (`registered`, `silver`, `gold`, `platinum`).
    pub tier: String,
    /// Won revenue over the trailing twelve months, minor units.
    pub trailing_revenue: i64,
    /// The program's currency.
    pub currency: String,
    /// The next tier up, when there is one with a revenue threshold in
    /// the program's currency.
    pub next: Option<NextTier>,
    /// Whether the partner is at the top tier.
    pub top: bool,
    /// Won revenue of each of the last twelve calendar months (this one
    /// included), oldest first.
    pub months: Vec<MonthRevenue>,
}

/// A partner's won revenue in one calendar month.
#[derive(Debug, Clone, Serialize)]
pub struct MonthRevenue {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// Deals won in it, in the program's currency, minor units.
    pub revenue: i64,
}

/// The tier above a partner's.
#[derive(Debug, Clone, Serialize)]
pub struct NextTier {
    /// Its name.
    pub tier: String,
    /// Its trailing revenue threshold, minor units.
    pub revenue: i64,
    /// What is still missing to reach it (0 when reached: the next
    /// scorecard decides).
    pub missing: i64,
}

/// A partner user's home ([`Service::partner_home`]).
#[derive(Debug, Clone)]
pub struct PartnerHome {
    /// Tier and revenue.
    pub standing: Standing,
    /// Approved registrations whose protection ends within 30 days.
    pub ending: Vec<RegistrationRow>,
    /// Leads waiting for the partner's answer.
    pub leads: Vec<crate::store::LeadRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lowered() {
        assert_eq!(normalize_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        for wrong in ["", "ana", "@example.com", "ana@example", "ana @example.com", "ana@.com"] {
            assert!(normalize_email(wrong).is_err(), "{wrong:?}");
        }
        assert!(normalize_email(&format!("{}@example.com", "a".repeat(300))).is_err());
    }

    #[test]
    fn passwords_are_bounded() {
        assert_eq!(password_problem("short"), Some(PasswordProblem::TooShort));
        assert_eq!(password_problem("twelve chars"), None);
        assert_eq!(password_problem(&"x".repeat(1025)), Some(PasswordProblem::TooLong));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
        assert!(!same_token("", "a"));
    }
}
