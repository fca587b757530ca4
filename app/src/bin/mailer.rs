//! `mailer`: the command line of the service.

use std::cell::Cell;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailer::delivery::cli::{NoSuchMailing, Progress, Target};
use mailer::entities::user::Role;
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
    /// MAILER_SUPERUSER_PASSWORD, or is asked for twice on the terminal. `--role` makes a
    /// manager or content manager instead.
    Createsuperuser {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value_t = StaffRole::Superuser)]
        role: StaffRole,
    },
    /// Manage personal API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Send now, in this process, the way the worker does (no worker needed): transient
    /// failures are retried with the configured backoff, permanent ones are not. Ends with
    /// `sent N, failed M, retried R`.
    ///
    /// Exit code: 0 when nothing failed, 1 when a delivery failed for good (or on an
    /// error), 2 when the mailing does not exist. A disabled mailing, or one outside
    /// [start, end), sends nothing and exits 0 ("nothing to send: mailing #ID is disabled").
    #[command(group(ArgGroup::new("target").required(true).args(["mailing", "due"])))]
    Send {
        /// This mailing: its due occurrence if not sent yet, then every pending delivery
        /// of it.
        #[arg(long, value_name = "ID")]
        mailing: Option<i32>,
        /// What one scheduler tick does: every due mailing, then every pending delivery
        /// that is due.
        #[arg(long)]
        due: bool,
    },
    /// Read the bounce mailbox (MAILER_BOUNCES__IMAP_*) once, as the worker does every
    /// MAILER_BOUNCES__POLL_SECS: record its bounces, complaints and unsubscribes, move them
    /// to the processed folder and what cannot be used to the unparsed one. Ends with
    /// `processed N, unparsed M, failed F`; exit code 1 when the mailbox cannot be read or a
    /// message failed on a database error.
    Bounces {
        /// One round, then exit (the only mode; the worker runs the loop).
        #[arg(long, required = true)]
        once: bool,
    },
    /// DKIM keys: `mailer dkim generate` makes one and prints the DNS record to publish.
    Dkim {
        #[command(subcommand)]
        action: DkimAction,
    },
    /// Add a large attempt log to one user's account, to measure the reports
    /// (PostgreSQL only). The seeded mailings are disabled: nothing is mailed.
    SeedAttempts {
        /// The account that gets the data (it must exist).
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Spread over this many days, ending today.
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 20)]
        mailings: u32,
    },
}

#[derive(Subcommand)]
enum DkimAction {
    /// Write a new private key (PKCS#8 PEM, readable by its owner only) and print the DNS
    /// TXT record that publishes it. Then set MAILER_DKIM__SELECTOR, MAILER_DKIM__DOMAIN and
    /// MAILER_DKIM__KEY_FILE, and every e-mail is signed.
    Generate {
        /// The selector: the record is `<selector>._domainkey.<domain>`.
        #[arg(long)]
        selector: String,
        /// The signing domain: the domain of MAILER_MAIL_FROM (or a parent of it).
        #[arg(long)]
        domain: String,
        /// ed25519 (small and fast; RFC 8463) or rsa (2048 bits; checked by every receiver).
        #[arg(long, value_enum)]
        algorithm: mailer::dkim::Algorithm,
        /// Where to write the private key.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Make an API token for an account and print it: the only time it is shown (only its
    /// hash is stored). Revoke it on the account page.
    Create {
        #[arg(long)]
        email: String,
        /// The token's name on the account page.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

/// The roles `createsuperuser` can give (an ordinary user registers on the site).
#[derive(Clone, Copy, ValueEnum)]
enum StaffRole {
    Manager,
    ContentManager,
    Superuser,
}

impl From<StaffRole> for Role {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::Manager => Role::Manager,
            StaffRole::ContentManager => Role::ContentManager,
            StaffRole::Superuser => Role::Superuser,
        }
    }
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
    // Needs no configuration (it is how part of one is made).
    if let Command::Dkim { action } = cli.command {
        return match dkim(action) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
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
        Ok(code) => code,
        Err(e) if e.is::<NoSuchMailing>() => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "stopped");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `mailer dkim generate`: the key to FILE, the DNS record to stdout, what next to stderr.
fn dkim(action: DkimAction) -> anyhow::Result<()> {
    let DkimAction::Generate {
        selector,
        domain,
        algorithm,
        out,
        force,
    } = action;
    for (what, name) in [("--selector", &selector), ("--domain", &domain)] {
        anyhow::ensure!(
            mailer::dkim::is_dns_name(name),
            "{what}: {name:?} is not a DNS name (letters, digits, '-', '.')"
        );
    }
    let key = mailer::dkim::Key::generate(algorithm)?;
    key.write(&out, force)?;
    let (name, strings) = key.dns_record(&selector, &domain);
    let quoted: Vec<String> = strings.iter().map(|s| format!("\"{s}\"")).collect();
    eprintln!(
        "Wrote the {} private key to {} (keep it secret). Publish this DNS TXT record:",
        algorithm.key_type(),
        out.display()
    );
    println!("{name} TXT {}", quoted.join(" "));
    eprintln!(
        "Then set MAILER_DKIM__SELECTOR={selector} MAILER_DKIM__DOMAIN={domain} \
         MAILER_DKIM__KEY_FILE={}",
        out.display()
    );
    Ok(())
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Dkim { action } => {
            dkim(action)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Send { mailing, due } => {
            let target = match mailing {
                Some(id) if !due => Target::Mailing(id),
                _ => Target::Due,
            };
            let state = AppState::build(config).await?;
            let meter = Meter::new();
            let summary = mailer::delivery::cli::send(&state, target, |p| meter.show(p)).await;
            meter.finish();
            let summary = summary?;
            if let Some(reason) = &summary.nothing_to_send {
                println!("nothing to send: {reason}");
            }
            println!("{summary}");
            Ok(if summary.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Bounces { once: _ } => {
            let state = AppState::build(config).await?;
            let summary = mailer::bounces::imap::process_once(&state).await?;
            println!(
                "processed {}, unparsed {}, failed {}",
                summary.processed, summary.unparsed, summary.failed
            );
            Ok(if summary.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Serve { .. } => {
            let bind = config.bind;
            let state = AppState::build(config).await?;
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {bind} (MAILER_BIND): {e}"))?;
            mailer::server::serve(state, listener, mailer::shutdown::signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Createsuperuser { email, role } => {
            let password = match std::env::var("MAILER_SUPERUSER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let first = rpassword::prompt_password("Password: ")?;
                    let second = rpassword::prompt_password("Password (again): ")?;
                    anyhow::ensure!(first == second, "the two passwords differ");
                    first
                }
            };
            let db = mailer::db::connect_migrated(&config).await?;
            let user = mailer::accounts::service::create_staff(&db, &email, &password, role.into())
                .await?;
            println!(
                "{} {} is ready (id {}).",
                user.role.label(),
                user.email,
                user.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            action: TokenAction::Create { email, name },
        } => {
            let db = mailer::db::connect_migrated(&config).await?;
            let email = mailer::accounts::forms::normalize_email(&email);
            let user = mailer::accounts::service::find_by_email(&db, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account has the e-mail {email}"))?;
            match mailer::accounts::api_tokens::create(&db, user.id, &name).await {
                Ok((_, token)) => println!("{token}"),
                Err(mailer::validation::SaveError::Invalid(errors)) => {
                    let why: Vec<String> = errors.0.into_values().flatten().collect();
                    anyhow::bail!("{}", why.join(" "));
                }
                Err(mailer::validation::SaveError::App(e)) => return Err(e.into()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedAttempts {
            email,
            count,
            days,
            mailings,
        } => {
            let db = mailer::db::connect_migrated(&config).await?;
            let owner = mailer::reports::seed::owner_id(&db, &email).await?;
            let plan = mailer::reports::seed::SeedPlan {
                count,
                days,
                mailings,
            };
            println!(
                "{}",
                mailer::reports::seed::seed_attempts(&db, owner, plan).await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { action } => {
            let db = mailer::db::connect(&config).await?;
            match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down { all: true, .. } => Migrator::reset(&db).await?,
                MigrateAction::Down { steps, .. } => Migrator::down(&db, Some(steps)).await?,
                MigrateAction::Status => Migrator::status(&db).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How `mailer send` shows its progress: a bar on a terminal, otherwise a line at every
/// tenth of the way.
enum Meter {
    Bar(ProgressBar),
    Lines { tenths: Cell<usize> },
}

impl Meter {
    fn new() -> Self {
        if !std::io::stdout().is_terminal() {
            return Meter::Lines {
                tenths: Cell::new(0),
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {pos}/{len} {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Meter::Bar(bar)
    }

    fn show(&self, p: Progress) {
        let counts = p.summary().to_string();
        match self {
            Meter::Bar(bar) => {
                bar.set_length(p.total as u64);
                bar.set_position(p.done as u64);
                bar.set_message(counts);
            }
            Meter::Lines { tenths } => {
                let now = (p.done * 10).checked_div(p.total).unwrap_or(0);
                if now > tenths.get() {
                    tenths.set(now);
                    println!("{}/{} ({counts})", p.done, p.total);
                }
            }
        }
    }

    fn finish(&self) {
        if let Meter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
