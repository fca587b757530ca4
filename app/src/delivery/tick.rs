//! One scheduler tick: status follows the clock, stopped deliveries whose mailing may send
//! again resume (see `stop`), due mailings fan out, and the pending
//! deliveries that nobody holds (see `hold`) are found again. The worker ticks on a timer
//! and queues what it finds as jobs; `mailer send --due` ticks once and sends it in its own
//! process. What differs between them — what a change of status must tell the site, and
//! where the deliveries go — is the [`Handoff`] they pass in.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::hold::{self, Unheld};
use super::{fanout, stop};

/// Whoever takes the work a tick finds.
pub trait Handoff {
    /// Mailings changed status: pages that count them (the home page) are stale now.
    fn statuses_changed(&mut self) -> impl Future<Output = ()> + Send;

    /// The pending deliveries of the occurrences a fan-out just took; their rows are marked
    /// held for the jobs about to take them (see `hold`).
    fn fanned_out(&mut self, ids: Vec<i64>) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The pending deliveries that neither a worker's claim nor a queued job's mark held at
    /// `now`: their worker died, or their job was lost, never pushed, or waits longer than
    /// its mark said.
    fn unheld(
        &mut self,
        unheld: Unheld,
        now: chrono::DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What a tick needs to know besides the database.
#[derive(Debug, Clone, Copy)]
pub struct TickSettings<'a> {
    /// The domain of the sender's address (the right-hand side of each `Message-ID`).
    pub domain: &'a str,
    /// How long a claim, or a queued job's mark, holds a delivery (see `hold`).
    pub lease: chrono::Duration,
    /// Unheld deliveries taken up per tick at most (oldest first); `None` for all of them.
    pub sweep_limit: Option<u64>,
    /// The ranges a fan-out makes its deliveries in (see `fanout`).
    pub ranges: fanout::Ranges,
    /// Whether a fan-out makes its next range only once the last one is half sent (a
    /// worker: what it queues is sent by its jobs meanwhile), or all of them at once
    /// (`mailer send`, which sends them after the tick).
    pub paced: bool,
}

/// Runs one tick, handing what it finds to `to` as it goes: statuses first (so a mailing
/// that ended fans out no more), then the fresh deliveries, then the unheld ones (found
/// after the fresh ones went on, which are marked held and so not among them).
pub async fn tick(
    db: &DatabaseConnection,
    settings: TickSettings<'_>,
    to: &mut impl Handoff,
) -> anyhow::Result<()> {
    let now = Utc::now();
    if fanout::settle_statuses(db, now).await? > 0 {
        to.statuses_changed().await;
    }
    // Mailings enabled (owners unblocked) again: their stopped deliveries become pending
    // and unheld, and are found below.
    stop::resume(db, now).await?;
    let fresh =
        fanout::start_due(db, now, settings.domain, settings.lease, settings.ranges).await?;
    to.fanned_out(fresh).await?;
    continue_fan_outs(db, settings, to).await?;
    let now = Utc::now();
    let unheld = hold::unheld(db, now, settings.sweep_limit).await?;
    to.unheld(unheld, now).await
}

/// Makes the next range of every fan-out under way that may go on (see
/// [`fanout::continue_fan_out`]) and hands each to `to`; unpaced, until none is left.
/// Returns how many ranges it made. A worker calls it between ticks too, a few times a
/// second, so that sending never waits for the next range.
pub async fn continue_fan_outs(
    db: &DatabaseConnection,
    settings: TickSettings<'_>,
    to: &mut impl Handoff,
) -> anyhow::Result<usize> {
    let mut made = 0;
    loop {
        let before = made;
        for open in fanout::open_fan_outs(db, None).await? {
            let now = Utc::now();
            let next = fanout::continue_fan_out(
                db,
                &open,
                now,
                settings.domain,
                settings.lease,
                settings.ranges,
                settings.paced,
            )
            .await?;
            if let Some(range) = next {
                made += 1;
                to.fanned_out(range.ids).await?;
            }
        }
        if settings.paced || made == before {
            return Ok(made);
        }
    }
}
