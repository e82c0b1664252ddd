//! Migrations carry stored records forward: a database written by an
//! earlier release, its enum cases spelled the old way (`PartnerSourced`,
//! `Referral`, `Gold`, an offboarded partner as `terminated`), opens with
//! every one respelled as the API now spells it, and its references intact.
//! Run on SQLite by default and on PostgreSQL in CI
//! (`PACTUM_TEST_DATABASE_URL`).

mod common;

use common::app::{TestDb, execute_sql, query_i64};
use pactum::domain::{DealSource, PartnerStatus};
use pactum::store::{Db, POSTGRES_MIGRATOR, SQLITE_MIGRATOR};
use sqlx::Connection;

/// The last migration before the one that respells (sqlite 0014, postgres 0009).
const BEFORE_SPELLING: (i64, i64) = (13, 8);

#[tokio::test]
async fn an_earlier_database_opens_with_one_spelling() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        POSTGRES_MIGRATOR.run_to(BEFORE_SPELLING.1, &mut conn).await.unwrap();
    } else {
        let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
        SQLITE_MIGRATOR.run_to(BEFORE_SPELLING.0, &mut conn).await.unwrap();
    }
    for sql in [
        "INSERT INTO tenants (slug, name, currency, program, created_at) VALUES ('acme', 'Acme', 'USD', '', 0)",
        "INSERT INTO partners (tenant, id, name, kind, tier, territories, certifications, manager, status, joined_at) \
         VALUES ('acme', 'p-1', 'Initech', 'Referral', 'Gold', '[]', '[]', NULL, 'active', 0), \
                ('acme', 'p-2', 'Globex', 'Reseller', 'Registered', '[]', '[]', NULL, 'terminated', 0)",
        "INSERT INTO registrations (tenant, id, partner_id, account_domain, amount, currency, status, reason, created_at) \
         VALUES ('acme', 'r-1', 'p-1', 'globex.com', 100, 'USD', 'approved', 'ok', 0)",
        "INSERT INTO deals (tenant, id, partner_id, account_domain, first_year_acv, services, currency, source, stage, created_at) \
         VALUES ('acme', 'd-1', 'p-1', 'globex.com', 100, 0, 'USD', 'PartnerSourced', 'open', 0), \
                ('acme', 'd-2', 'p-2', 'initech.com', 100, 0, 'USD', 'PartnerInfluenced', 'won', 0), \
                ('acme', 'd-3', NULL, 'hooli.com', 100, 0, 'USD', 'Direct', 'lost', 0)",
    ] {
        execute_sql(&url, sql).await;
    }

    // Opening runs the rest of the migrations.
    let store = Db::open(&url).await.unwrap();
    let p1 = store.partner("acme", "p-1").await.unwrap().unwrap();
    assert_eq!((p1.kind.as_str(), p1.tier.as_str(), p1.status), ("referral", "gold", PartnerStatus::Active));
    let p2 = store.partner("acme", "p-2").await.unwrap().unwrap();
    assert_eq!((p2.kind.as_str(), p2.tier.as_str(), p2.status), ("reseller", "registered", PartnerStatus::Offboarded));
    let sources: Vec<DealSource> = {
        let mut v = Vec::new();
        for id in ["d-1", "d-2", "d-3"] {
            v.push(store.deal("acme", id).await.unwrap().unwrap().source);
        }
        v
    };
    assert_eq!(sources, [DealSource::PartnerSourced, DealSource::PartnerInfluenced, DealSource::Direct]);
    // Nothing is left in the old spelling, and the new CHECKs hold it so.
    assert_eq!(query_i64(&url, "SELECT COUNT(*) FROM deals WHERE source IN ('PartnerSourced', 'Direct')").await, 0);
    assert_eq!(query_i64(&url, "SELECT COUNT(*) FROM partners WHERE status = 'terminated'").await, 0);
    drop(store);
    let refused = try_sql(&url, "UPDATE deals SET source = 'PartnerSourced' WHERE id = 'd-1'").await;
    assert!(refused.is_err(), "the CHECK takes only the new spelling");
    let refused = try_sql(&url, "UPDATE partners SET status = 'terminated' WHERE id = 'p-1'").await;
    assert!(refused.is_err(), "the CHECK takes only the new spelling");
    // The registration still refers to its partner (SQLite rebuilt the
    // partners table under it).
    assert_eq!(
        query_i64(
            &url,
            "SELECT COUNT(*) FROM registrations r JOIN partners p ON p.tenant = r.tenant AND p.id = r.partner_id"
        )
        .await,
        1
    );
    if !url.starts_with("postgres") {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let broken: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check").fetch_all(&mut conn).await.unwrap();
        assert!(broken.is_empty(), "foreign keys broken: {broken:?}");
        let indexes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deals' \
             AND name IN ('deals_by_partner_close', 'deals_by_close')",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(indexes, 2, "the deals table's indexes are rebuilt with it");
    }
}

/// One statement, its error returned.
async fn try_sql(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Executor;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("postgres") {
        Ok(sqlx::PgConnection::connect(url).await?.execute(sql).await?.rows_affected())
    } else {
        Ok(sqlx::SqliteConnection::connect(url).await?.execute(sql).await?.rows_affected())
    }
}
