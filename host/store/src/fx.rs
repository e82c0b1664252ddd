//! Conversion rates per month, as a company supplies them, and the revenue
//! of deals in a program's other currencies that they convert.

use super::{Db, Get, StoreError};
use std::collections::BTreeMap;

/// Won revenue of a partner's deals in one of the program's other
/// currencies ([`Db::foreign_revenue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRevenue {
    /// The partner (none for a direct deal).
    pub partner_id: Option<String>,
    /// The currency.
    pub currency: String,
    /// Won in `[month_from, to)`, minor units.
    pub month: i64,
    /// Won in `[trailing_from, to)`, minor units.
    pub trailing: i64,
    /// Of the month's, partner-sourced.
    pub sourced: i64,
    /// Of the month's, partner-influenced.
    pub influenced: i64,
}

impl Db {
    /// Sets the month's rates (millionths of the program currency per unit
    /// of each currency), replacing those given, with `program.rates-set`.
    pub async fn put_rates(
        &self,
        tenant: &str,
        period: &str,
        rates: &BTreeMap<String, i64>,
        actor: &str,
    ) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            for (currency, micros) in rates {
                self.before_write()?;
                sqlx::query(
                    "INSERT INTO fx_rates (tenant, period, currency, micros) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant, period, currency) DO UPDATE SET micros = excluded.micros",
                )
                .bind(tenant)
                .bind(period)
                .bind(currency)
                .bind(*micros)
                .execute(&mut *tx)
                .await?;
            }
            let payload = serde_json::json!({ "period": period, "rates_micros": rates, "by": actor });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, "program.rates-set", &payload);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A month's rates, by currency (millionths).
    pub async fn rates(&self, tenant: &str, period: &str) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT currency, micros FROM fx_rates WHERE tenant = $1 AND period = $2")
                .bind(tenant)
                .bind(period)
                .fetch_all(e)
                .await?;
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        }))
    }

    /// Won revenue of deals not in `currency` closed in
    /// `[trailing_from, to)`, per partner and currency (the month's part
    /// from `month_from`).
    pub async fn foreign_revenue(
        &self,
        tenant: &str,
        trailing_from: i64,
        month_from: i64,
        to: i64,
        currency: &str,
    ) -> Result<Vec<ForeignRevenue>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT partner_id, currency, \
                   CAST(SUM(CASE WHEN closed_at >= $1 THEN first_year_acv ELSE 0 END) AS BIGINT), \
                   CAST(SUM(first_year_acv) AS BIGINT), \
                   CAST(SUM(CASE WHEN closed_at >= $1 AND source = 'partner-sourced' THEN first_year_acv ELSE 0 END) AS BIGINT), \
                   CAST(SUM(CASE WHEN closed_at >= $1 AND source = 'partner-influenced' THEN first_year_acv ELSE 0 END) AS BIGINT) \
                 FROM deals WHERE tenant = $2 AND stage = 'won' AND closed_at >= $3 AND closed_at < $4 AND currency <> $5 \
                 GROUP BY partner_id, currency",
            )
            .bind(month_from)
            .bind(tenant)
            .bind(trailing_from.min(month_from))
            .bind(to)
            .bind(currency)
            .fetch_all(e)
            .await?;
            rows.iter()
                .map(|r| ForeignRevenue {
                    partner_id: r.get(0),
                    currency: r.get(1),
                    month: r.get(2),
                    trailing: r.get(3),
                    sourced: r.get(4),
                    influenced: r.get(5),
                })
                .collect()
        }))
    }
}
