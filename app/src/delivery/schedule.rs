//! When a mailing sends: its occurrences are `start + n × period`, by calendar for months
//! (31 Jan → 28/29 Feb → 31 Mar: each occurrence counts from the start, clamped to the
//! month's last day, so a short month does not drag the rest earlier).

use chrono::{DateTime, Datelike, Days, Months, Utc};

use crate::entities::mailing::{self, MailingStatus, Periodicity};

/// The `n`-th occurrence (`n = 0` is the start).
pub fn occurrence(start: DateTime<Utc>, periodicity: Periodicity, n: u32) -> Option<DateTime<Utc>> {
    match periodicity {
        Periodicity::Once => (n == 0).then_some(start),
        Periodicity::Daily => start.checked_add_days(Days::new(u64::from(n))),
        Periodicity::Weekly => start.checked_add_days(Days::new(7 * u64::from(n))),
        // chrono clamps to the last day of a shorter month.
        Periodicity::Monthly => start.checked_add_months(Months::new(n)),
    }
}

/// How many whole periods lie between `start` and `at` (a first guess for searching).
fn periods_between(start: DateTime<Utc>, periodicity: Periodicity, at: DateTime<Utc>) -> u32 {
    if at <= start {
        return 0;
    }
    let days = (at - start).num_days().max(0);
    let n = match periodicity {
        Periodicity::Once => 0,
        Periodicity::Daily => days,
        Periodicity::Weekly => days / 7,
        Periodicity::Monthly => {
            i64::from(at.year() - start.year()) * 12 + i64::from(at.month())
                - i64::from(start.month())
        }
    };
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The latest occurrence at or before `now`, if any (what a due mailing sends: missed
/// occurrences while nothing ran are not sent late one by one).
pub fn latest_due(
    start: DateTime<Utc>,
    periodicity: Periodicity,
    now: DateTime<Utc>,
) -> Option<(u32, DateTime<Utc>)> {
    if now < start {
        return None;
    }
    let mut n = periods_between(start, periodicity, now).saturating_add(1);
    loop {
        match occurrence(start, periodicity, n) {
            Some(t) if t <= now => return Some((n, t)),
            _ if n == 0 => return None,
            _ => n -= 1,
        }
    }
}

/// The first occurrence strictly after `after` and before `end`, if any.
pub fn next_after(
    start: DateTime<Utc>,
    periodicity: Periodicity,
    after: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let first = match latest_due(start, periodicity, after) {
        Some((n, _)) => n.checked_add(1)?,
        None => 0,
    };
    occurrence(start, periodicity, first).filter(|t| *t > after && *t < end)
}

/// created before the start, running inside [start, end), finished from the end on.
pub fn status_at(mailing: &mailing::Model, now: DateTime<Utc>) -> MailingStatus {
    if now >= mailing.end_at {
        MailingStatus::Finished
    } else if now < mailing.start_at {
        MailingStatus::Created
    } else {
        MailingStatus::Running
    }
}

/// The status a mailing shows: by the clock, except that one the scheduler found done (no
/// occurrence to come, no delivery left to try: see `fanout::settle_statuses`) is finished
/// before its end date. Whether it is disabled is shown instead of this (see
/// `mailings::service::with_status`).
pub fn shown_status(mailing: &mailing::Model, now: DateTime<Utc>) -> MailingStatus {
    match status_at(mailing, now) {
        MailingStatus::Running if mailing.status == MailingStatus::Finished => {
            MailingStatus::Finished
        }
        status => status,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn monthly_keeps_the_day_of_the_start() {
        let start = t(2027, 1, 31, 9);
        let months: Vec<_> = (0..4)
            .map(|n| occurrence(start, Periodicity::Monthly, n).unwrap())
            .collect();
        assert_eq!(
            months,
            vec![
                t(2027, 1, 31, 9),
                t(2027, 2, 28, 9),
                t(2027, 3, 31, 9),
                t(2027, 4, 30, 9)
            ]
        );
        let leap = occurrence(t(2028, 1, 31, 9), Periodicity::Monthly, 1).unwrap();
        assert_eq!(leap, t(2028, 2, 29, 9));
    }

    #[test]
    fn daily_and_weekly_step_by_calendar_days() {
        assert_eq!(
            occurrence(t(2027, 3, 1, 8), Periodicity::Daily, 2),
            Some(t(2027, 3, 3, 8))
        );
        assert_eq!(
            occurrence(t(2027, 3, 1, 8), Periodicity::Weekly, 2),
            Some(t(2027, 3, 15, 8))
        );
        assert_eq!(occurrence(t(2027, 3, 1, 8), Periodicity::Once, 1), None);
    }

    #[test]
    fn latest_due_and_next() {
        let start = t(2027, 1, 31, 9);
        assert_eq!(
            latest_due(start, Periodicity::Monthly, t(2027, 1, 31, 8)),
            None
        );
        assert_eq!(
            latest_due(start, Periodicity::Monthly, t(2027, 1, 31, 9)),
            Some((0, start))
        );
        assert_eq!(
            latest_due(start, Periodicity::Monthly, t(2027, 3, 30, 0)),
            Some((1, t(2027, 2, 28, 9)))
        );
        assert_eq!(
            latest_due(start, Periodicity::Daily, t(2027, 2, 2, 10)),
            Some((2, t(2027, 2, 2, 9)))
        );
        assert_eq!(
            latest_due(start, Periodicity::Once, t(2030, 1, 1, 0)),
            Some((0, start))
        );
        let end = t(2027, 5, 1, 0);
        assert_eq!(
            next_after(start, Periodicity::Monthly, start, end),
            Some(t(2027, 2, 28, 9))
        );
        assert_eq!(
            next_after(start, Periodicity::Monthly, t(2027, 4, 30, 9), end),
            None,
            "end is exclusive"
        );
        assert_eq!(next_after(start, Periodicity::Once, start, end), None);
        assert_eq!(
            next_after(start, Periodicity::Weekly, t(2027, 1, 1, 0), end),
            Some(start)
        );
    }
}
