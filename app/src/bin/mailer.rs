//! `mailer`: the command line of the service.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mailer::{AppState, Config};
use migration::{Migrator, MigratorTrait};

#[derive(Parser)]
#[command(name = "mailer", version, about = "Self-hosted e-mail mailing service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web site (applies pending migrations first).
    Serve {
        /// Address to listen on [env: MAILER_BIND] [default: 127.0.0.1:8000]
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Create a superuser (or promote an existing account). The password comes from
    /// MAILER_SUPERUSER_PASSWORD, or is asked for twice on the terminal.
    Createsuperuser {
        #[arg(long)]
        email: String,
    },
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Roll back the last migration, or `--steps N`, or `--all`.
    Down {
        #[arg(long, default_value_t = 1, conflicts_with = "all")]
        steps: u32,
        #[arg(long)]
        all: bool,
    },
    /// List migrations and whether each is applied.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::Serve { bind: Some(bind) } = &cli.command {
        config.bind = *bind;
    }
    mailer::telemetry::init(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "stopped");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => {
            let bind = config.bind;
            let state = AppState::build(config).await?;
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {bind} (MAILER_BIND): {e}"))?;
            mailer::web::serve(state, listener, mailer::shutdown::signal()).await
        }
        Command::Createsuperuser { email } => {
            let password = match std::env::var("MAILER_SUPERUSER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let first = rpassword::prompt_password("Password: ")?;
                    let second = rpassword::prompt_password("Password (again): ")?;
                    anyhow::ensure!(first == second, "the two passwords differ");
                    first
                }
            };
            let db = mailer::db::connect(&config).await?;
            mailer::db::migrate(&db).await?;
            let user = mailer::accounts::service::create_superuser(&db, &email, &password).await?;
            println!("Superuser {} is ready (id {}).", user.email, user.id);
            Ok(())
        }
        Command::Migrate { action } => {
            let db = mailer::db::connect(&config).await?;
            match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down { all: true, .. } => Migrator::reset(&db).await?,
                MigrateAction::Down { steps, .. } => Migrator::down(&db, Some(steps)).await?,
                MigrateAction::Status => Migrator::status(&db).await?,
            }
            Ok(())
        }
    }
}
