//! People who sign in to the portal: users, the one-time invitations that
//! create them, their sessions and the failed sign-ins that throttle an
//! email. Tokens (invitation links, session cookies) arrive here already
//! hashed: the database never holds one that works. Password hashing is
//! the application's (`pactum_app::users`); this layer stores the hash.
//!
//! Every step that changes state is one transaction guarded in SQL: an
//! invitation is used by exactly one `UPDATE ... WHERE used_at IS NULL`,
//! however many requests race for it, and the user it creates is unique by
//! email.

use super::{Db, Get, StoreError, stored_role};
use pactum_core::Role;

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Its id.
    pub id: i64,
    /// Its company.
    pub tenant: String,
    /// Its email, lower case: unique across the service.
    pub email: String,
    /// Its name.
    pub name: String,
    /// Its role in the company.
    pub role: Role,
    /// The partner a partner user acts for.
    pub partner_id: Option<String>,
}

/// An invitation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    /// The company.
    pub tenant: String,
    /// Who is invited (lower case).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their partner, for a partner user.
    pub partner_id: Option<String>,
    /// Until when the link works (Unix seconds).
    pub expires_at: i64,
}

/// A new invitation.
#[derive(Debug, Clone, Copy)]
pub struct NewInvitation<'a> {
    /// sha256 of the link's token, hex.
    pub token_hash: &'a str,
    /// The company.
    pub tenant: &'a str,
    /// Who is invited (lower case).
    pub email: &'a str,
    /// Their name.
    pub name: &'a str,
    /// Their role.
    pub role: Role,
    /// Their partner, for a partner user.
    pub partner_id: Option<&'a str>,
    /// Who invites.
    pub created_by: &'a str,
    /// When.
    pub at: i64,
    /// Until when the link works.
    pub expires_at: i64,
}

/// A new session.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// sha256 of the cookie's token, hex.
    pub token_hash: &'a str,
    /// The token every form of the session carries.
    pub csrf: &'a str,
    /// When it starts.
    pub at: i64,
    /// Its absolute end.
    pub expires_at: i64,
}

/// A live session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Its user.
    pub user: UserRow,
    /// The token its forms carry.
    pub csrf: String,
    /// When it was last used (Unix seconds).
    pub last_seen_at: i64,
}

const USER_COLUMNS: &str = "u.id, u.tenant, u.email, u.name, u.role, u.partner_id";

fn user(r: &impl Get) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: r.get(0),
        tenant: r.get(1),
        email: r.get(2),
        name: r.get(3),
        role: stored_role(&r.get::<String>(4))?,
        partner_id: r.get(5),
    })
}

/// Whether `e` is a unique-constraint violation (both drivers).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Db {
    /// Stores an invitation.
    pub async fn add_invitation(&self, i: &NewInvitation<'_>) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query(
                "INSERT INTO invitations (token_hash, tenant, email, name, role, partner_id, created_by, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(i.token_hash)
            .bind(i.tenant)
            .bind(i.email)
            .bind(i.name)
            .bind(i.role.as_str())
            .bind(i.partner_id)
            .bind(i.created_by)
            .bind(i.at)
            .bind(i.expires_at)
            .execute(e)
            .await?;
        });
        Ok(())
    }

    /// The invitation whose token hashes to `token_hash`, while it is
    /// unused and unexpired at `at`.
    pub async fn open_invitation(&self, token_hash: &str, at: i64) -> Result<Option<InvitationRow>, StoreError> {
        with_reader!(self, |e| {
            let row = sqlx::query(
                "SELECT tenant, email, name, role, partner_id, expires_at FROM invitations \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(at)
            .fetch_optional(e)
            .await?;
            row.map(|r| {
                Ok(InvitationRow {
                    tenant: r.get(0),
                    email: r.get(1),
                    name: r.get(2),
                    role: stored_role(&r.get::<String>(3))?,
                    partner_id: r.get(4),
                    expires_at: r.get(5),
                })
            })
            .transpose()
        })
    }

    /// Uses the invitation: marks it used (only if it is unused and
    /// unexpired at `session.at`), creates its user with `password_hash`
    /// and opens the user's first session, in one transaction. `Conflict`
    /// when the link was used already or has expired, or when a user with
    /// its email exists; nothing is written then.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: &str,
        session: &NewSession<'_>,
    ) -> Result<UserRow, StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let used = sqlx::query(
                "UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING tenant, email, name, role, partner_id",
            )
            .bind(session.at)
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(used) = used else {
                return Err(StoreError::Conflict("this invitation has been used already or has expired".into()));
            };
            let (tenant, email, name, role, partner): (String, String, String, String, Option<String>) =
                (used.get(0), used.get(1), used.get(2), used.get(3), used.get(4));
            self.before_write()?;
            let id: i64 = match sqlx::query_scalar(
                "INSERT INTO users (tenant, email, name, role, partner_id, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&tenant)
            .bind(&email)
            .bind(&name)
            .bind(&role)
            .bind(&partner)
            .bind(password_hash)
            .bind(session.at)
            .fetch_one(&mut *tx)
            .await
            {
                Ok(id) => id,
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!("a user with the email {email} exists already")));
                }
                Err(e) => return Err(e.into()),
            };
            self.before_write()?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(session.token_hash)
            .bind(id)
            .bind(session.csrf)
            .bind(session.at)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(UserRow { id, tenant, email, name, role: stored_role(&role)?, partner_id: partner })
        })
    }

    /// The user with `email` (lower case) and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(UserRow, String)>, StoreError> {
        with_reader!(self, |e| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
            )))
            .bind(email)
            .fetch_optional(e)
            .await?;
            row.map(|r| Ok((user(&r)?, r.get(6)))).transpose()
        })
    }

    /// How many sign-ins failed for `email` since `since`, and the oldest
    /// of them.
    pub async fn sign_in_failures(&self, email: &str, since: i64) -> Result<(i64, Option<i64>), StoreError> {
        with_writer!(self, |e| {
            // The writer: a failure just recorded is seen at once.
            let row = sqlx::query(
                "SELECT CAST(COUNT(*) AS BIGINT), MIN(at) FROM sign_in_failures WHERE email = $1 AND at > $2",
            )
            .bind(email)
            .bind(since)
            .fetch_one(e)
            .await?;
            Ok((row.get(0), row.get(1)))
        })
    }

    /// Records a failed sign-in for `email` at `at`, and forgets those
    /// before `forget_before` (of every email: the table stays small).
    pub async fn add_sign_in_failure(&self, email: &str, at: i64, forget_before: i64) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            sqlx::query("DELETE FROM sign_in_failures WHERE at <= $1").bind(forget_before).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO sign_in_failures (email, at) VALUES ($1, $2)")
                .bind(email)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Opens a session for user `user_id` after a successful sign-in,
    /// forgets the email's failed sign-ins and the user's sessions that
    /// ended (unused since `idle_from`, or past their end), in one
    /// transaction.
    pub async fn add_session(
        &self,
        user_id: i64,
        email: &str,
        session: &NewSession<'_>,
        idle_from: i64,
    ) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            sqlx::query("DELETE FROM sign_in_failures WHERE email = $1").bind(email).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at <= $3)")
                .bind(user_id)
                .bind(session.at)
                .bind(idle_from)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(session.token_hash)
            .bind(user_id)
            .bind(session.csrf)
            .bind(session.at)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The session whose token hashes to `token_hash`, with its user, while
    /// it is live at `at`: used since `idle_from` and before its absolute
    /// end.
    pub async fn session(&self, token_hash: &str, at: i64, idle_from: i64) -> Result<Option<SessionRow>, StoreError> {
        with_reader!(self, |e| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS}, s.csrf, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3"
            )))
            .bind(token_hash)
            .bind(at)
            .bind(idle_from)
            .fetch_optional(e)
            .await?;
            row.map(|r| Ok(SessionRow { user: user(&r)?, csrf: r.get(6), last_seen_at: r.get(7) })).transpose()
        })
    }

    /// Marks the session used at `at` (its idle time starts again).
    pub async fn touch_session(&self, token_hash: &str, at: i64) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1")
                .bind(at)
                .bind(token_hash)
                .execute(e)
                .await?;
        });
        Ok(())
    }

    /// Ends the session (sign-out); whether there was one.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(with_writer!(self, |e| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(e).await?.rows_affected()
        }) > 0)
    }
}
