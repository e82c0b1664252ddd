//! The `pactum` command: run the service, migrate its database.

use clap::{Parser, Subcommand};
use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::Service;
use pactum::store::Db;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "pactum",
    version,
    about = "B2B channel-partner programs as code: a multi-tenant service running each company's Wasm policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP service. On an empty database it creates the example
    /// companies found under --policies and prints their admin API keys.
    Serve {
        /// Database URL.
        #[arg(
            long,
            env = "PACTUM_DATABASE_URL",
            default_value = "sqlite://pactum.db"
        )]
        database_url: String,
        /// Address to listen on.
        #[arg(long, env = "PACTUM_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Folder of example companies, one sub-folder with a policy.toml each.
        #[arg(long, env = "PACTUM_POLICIES", default_value = "policies")]
        policies: PathBuf,
        /// Where compiled plugins are cached between restarts.
        #[arg(long, env = "PACTUM_CACHE_DIR", default_value = ".pactum-cache")]
        cache_dir: PathBuf,
    },
    /// Creates the database if needed and applies its migrations.
    Migrate {
        /// Database URL.
        #[arg(
            long,
            env = "PACTUM_DATABASE_URL",
            default_value = "sqlite://pactum.db"
        )]
        database_url: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pactum: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Migrate { database_url } => {
            Db::open(&database_url).await?;
            tracing::info!(%database_url, "database migrated");
        }
        Command::Serve {
            database_url,
            listen,
            policies,
            cache_dir,
        } => {
            let db = Db::open(&database_url).await?;
            let empty = db.is_empty().await?;
            let runtime = Arc::new(
                Runtime::new(RuntimeConfig {
                    cache_dir: Some(cache_dir),
                    ..RuntimeConfig::default()
                })
                .map_err(|e| format!("starting the Wasm engine: {e}"))?,
            );
            let service = Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await?);
            if empty {
                let created = service.seed_examples(&policies).await?;
                // The keys are shown once, to the operator: stdout, not the log.
                println!(
                    "Created the example companies from {}. Their admin API keys (shown once):",
                    policies.display()
                );
                for (slug, key) in &created {
                    println!("  {slug:<12} {key}");
                }
                println!("Try: curl -H 'Authorization: Bearer <key>' http://{listen}/v1/program");
            }
            // Background job: approved registrations whose protection period
            // ended become expired, freeing the account for other partners.
            let expirer = service.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    match expirer.expire_registrations(pactum::service::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(expired = n, "deal registrations expired"),
                        Err(e) => tracing::error!(error = %e, "expiring deal registrations"),
                    }
                }
            });
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("listening on {listen}: {e}"))?;
            tracing::info!(%listen, %database_url, "pactum serving");
            axum::serve(listener, pactum::api::router(service))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                    tracing::info!("shutting down");
                })
                .await?;
        }
    }
    Ok(())
}
