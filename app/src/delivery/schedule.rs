//! When a mailing sends: its occurrences are `start + n × period` on the owner's local
//! calendar and clock (`users.timezone`), by calendar for months (31 Jan → 28/29 Feb →
//! 31 Mar: each occurrence counts from the start, clamped to the month's last day, so a
//! short month does not drag the rest earlier). A daily 09:00 Europe/Berlin mailing sends
//! at 09:00 in winter (08:00Z) and in summer (07:00Z).
//!
//! Each occurrence is the start's local date-time moved by whole days or months, then
//! turned into an instant by `timezone::to_utc`: a local time that does not exist that day
//! (spring gap) is the first instant after the gap, one that exists twice (autumn fold)
//! the earlier one. The next day is again at the start's wall-clock time.

use chrono::{DateTime, Datelike, Days, Months, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::entities::mailing::{self, MailingStatus, Periodicity};
use crate::timezone::{to_local, to_utc};

/// The `n`-th occurrence (`n = 0` is the start) of a mailing whose owner lives in `tz`.
pub fn occurrence(
    start: DateTime<Utc>,
    periodicity: Periodicity,
    n: u32,
    tz: Tz,
) -> Option<DateTime<Utc>> {
    if n == 0 {
        return Some(start);
    }
    let local = to_local(start, tz);
    let moved = match periodicity {
        Periodicity::Once => None,
        Periodicity::Daily => local.checked_add_days(Days::new(u64::from(n))),
        Periodicity::Weekly => local.checked_add_days(Days::new(7 * u64::from(n))),
        // chrono clamps to the last day of a shorter month.
        Periodicity::Monthly => local.checked_add_months(Months::new(n)),
    }?;
    Some(to_utc(moved, tz))
}

/// How many whole periods lie between `start` and `at` on the local calendar (a first
/// guess for searching).
fn periods_between(start: NaiveDateTime, periodicity: Periodicity, at: NaiveDateTime) -> u32 {
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
    tz: Tz,
) -> Option<(u32, DateTime<Utc>)> {
    if now < start {
        return None;
    }
    // Local wall-clock times differ from elapsed time by at most a DST shift: one past the
    // guess is always at or after the answer.
    let guess = periods_between(to_local(start, tz), periodicity, to_local(now, tz));
    let mut n = guess.saturating_add(1);
    loop {
        match occurrence(start, periodicity, n, tz) {
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
    tz: Tz,
) -> Option<DateTime<Utc>> {
    let first = match latest_due(start, periodicity, after, tz) {
        Some((n, _)) => n.checked_add(1)?,
        None => 0,
    };
    occurrence(start, periodicity, first, tz).filter(|t| *t > after && *t < end)
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
    use chrono_tz::Tz::{Asia__Tokyo, Europe__Berlin, Europe__Moscow, UTC};

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
            .map(|n| occurrence(start, Periodicity::Monthly, n, UTC).unwrap())
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
        let leap = occurrence(t(2028, 1, 31, 9), Periodicity::Monthly, 1, UTC).unwrap();
        assert_eq!(leap, t(2028, 2, 29, 9));
    }

    #[test]
    fn daily_and_weekly_step_by_calendar_days() {
        assert_eq!(
            occurrence(t(2027, 3, 1, 8), Periodicity::Daily, 2, UTC),
            Some(t(2027, 3, 3, 8))
        );
        assert_eq!(
            occurrence(t(2027, 3, 1, 8), Periodicity::Weekly, 2, UTC),
            Some(t(2027, 3, 15, 8))
        );
        assert_eq!(
            occurrence(t(2027, 3, 1, 8), Periodicity::Once, 1, UTC),
            None
        );
    }

    #[test]
    fn latest_due_and_next() {
        let start = t(2027, 1, 31, 9);
        assert_eq!(
            latest_due(start, Periodicity::Monthly, t(2027, 1, 31, 8), UTC),
            None
        );
        assert_eq!(
            latest_due(start, Periodicity::Monthly, t(2027, 1, 31, 9), UTC),
            Some((0, start))
        );
        assert_eq!(
            latest_due(start, Periodicity::Monthly, t(2027, 3, 30, 0), UTC),
            Some((1, t(2027, 2, 28, 9)))
        );
        assert_eq!(
            latest_due(start, Periodicity::Daily, t(2027, 2, 2, 10), UTC),
            Some((2, t(2027, 2, 2, 9)))
        );
        assert_eq!(
            latest_due(start, Periodicity::Once, t(2030, 1, 1, 0), UTC),
            Some((0, start))
        );
        let end = t(2027, 5, 1, 0);
        assert_eq!(
            next_after(start, Periodicity::Monthly, start, end, UTC),
            Some(t(2027, 2, 28, 9))
        );
        assert_eq!(
            next_after(start, Periodicity::Monthly, t(2027, 4, 30, 9), end, UTC),
            None,
            "end is exclusive"
        );
        assert_eq!(next_after(start, Periodicity::Once, start, end, UTC), None);
        assert_eq!(
            next_after(start, Periodicity::Weekly, t(2027, 1, 1, 0), end, UTC),
            Some(start)
        );
    }

    fn tm(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap_or_default()
    }

    fn days(
        start: DateTime<Utc>,
        p: Periodicity,
        tz: Tz,
        from: u32,
        to: u32,
    ) -> Vec<DateTime<Utc>> {
        (from..to)
            .map(|n| occurrence(start, p, n, tz).unwrap())
            .collect()
    }

    #[test]
    fn daily_keeps_the_local_time_across_both_dst_changes() {
        // 09:00 CET on 25 Mar 2027; clocks go forward on the 28th.
        let start = t(2027, 3, 25, 8);
        assert_eq!(
            days(start, Periodicity::Daily, Europe__Berlin, 0, 5),
            vec![
                t(2027, 3, 25, 8),
                t(2027, 3, 26, 8),
                t(2027, 3, 27, 8),
                t(2027, 3, 28, 7),
                t(2027, 3, 29, 7)
            ]
        );
        // Back on 31 Oct 2027: 09:00 CEST (07:00Z) then 09:00 CET (08:00Z).
        let start = t(2027, 10, 29, 7);
        assert_eq!(
            days(start, Periodicity::Daily, Europe__Berlin, 0, 4),
            vec![
                t(2027, 10, 29, 7),
                t(2027, 10, 30, 7),
                t(2027, 10, 31, 8),
                t(2027, 11, 1, 8)
            ]
        );
        // Over half a year the same: 09:00 local every time.
        let start = t(2027, 1, 4, 8);
        for n in 0..400 {
            let at = occurrence(start, Periodicity::Daily, n, Europe__Berlin).unwrap();
            assert_eq!(
                at.with_timezone(&Europe__Berlin)
                    .format("%H:%M")
                    .to_string(),
                "09:00",
                "day {n}"
            );
        }
    }

    #[test]
    fn zones_without_dst_keep_the_same_utc_time() {
        // 09:00 MSK is 06:00Z all year; 09:00 JST is 00:00Z.
        assert_eq!(
            days(t(2027, 3, 26, 6), Periodicity::Daily, Europe__Moscow, 2, 4),
            vec![t(2027, 3, 28, 6), t(2027, 3, 29, 6)]
        );
        assert_eq!(
            days(
                t(2027, 10, 24, 6),
                Periodicity::Weekly,
                Europe__Moscow,
                1,
                2
            ),
            vec![t(2027, 10, 31, 6)]
        );
        assert_eq!(
            days(t(2027, 3, 21, 0), Periodicity::Weekly, Asia__Tokyo, 0, 3),
            vec![t(2027, 3, 21, 0), t(2027, 3, 28, 0), t(2027, 4, 4, 0)]
        );
    }

    #[test]
    fn a_time_in_the_gap_is_the_end_of_the_gap_and_in_the_fold_the_earlier() {
        // Daily 02:30 Berlin: on 28 Mar 2027 02:30 does not exist → 03:00 CEST (01:00Z);
        // the next day is 02:30 CEST again (00:30Z).
        let start = tm(2027, 3, 26, 1, 30);
        assert_eq!(
            days(start, Periodicity::Daily, Europe__Berlin, 1, 4),
            vec![
                tm(2027, 3, 27, 1, 30),
                tm(2027, 3, 28, 1, 0),
                tm(2027, 3, 29, 0, 30)
            ]
        );
        // On 31 Oct 2027 02:30 happens twice: the first (CEST, 00:30Z).
        let start = tm(2027, 10, 30, 0, 30);
        assert_eq!(
            days(start, Periodicity::Daily, Europe__Berlin, 1, 3),
            vec![tm(2027, 10, 31, 0, 30), tm(2027, 11, 1, 1, 30)]
        );
    }

    #[test]
    fn monthly_keeps_the_calendar_rule_in_local_time() {
        // 31 Jan 2027 09:00 CET: Feb clamps to the 28th, March is summer time.
        let start = t(2027, 1, 31, 8);
        assert_eq!(
            days(start, Periodicity::Monthly, Europe__Berlin, 0, 4),
            vec![
                t(2027, 1, 31, 8),
                t(2027, 2, 28, 8),
                t(2027, 3, 31, 7),
                t(2027, 4, 30, 7)
            ]
        );
        // 1 Jan 00:30 Berlin is 31 Dec 23:30Z: the local calendar counts, not UTC's.
        let start = tm(2026, 12, 31, 23, 30);
        assert_eq!(
            occurrence(start, Periodicity::Monthly, 1, Europe__Berlin),
            Some(tm(2027, 1, 31, 23, 30))
        );
        assert_eq!(
            occurrence(start, Periodicity::Monthly, 6, Europe__Berlin),
            Some(tm(2027, 6, 30, 22, 30))
        );
    }

    #[test]
    fn the_clock_moved_across_the_transitions() {
        let end = t(2028, 1, 1, 0);
        // Spring: daily 09:00 Berlin from 20 Mar 2027 (08:00Z).
        let start = t(2027, 3, 20, 8);
        let p = Periodicity::Daily;
        assert_eq!(
            latest_due(start, p, tm(2027, 3, 29, 6, 59), Europe__Berlin),
            Some((8, t(2027, 3, 28, 7)))
        );
        assert_eq!(
            latest_due(start, p, tm(2027, 3, 29, 7, 0), Europe__Berlin),
            Some((9, t(2027, 3, 29, 7)))
        );
        assert_eq!(
            next_after(start, p, t(2027, 3, 27, 8), end, Europe__Berlin),
            Some(t(2027, 3, 28, 7))
        );
        // Autumn: daily 09:00 Berlin from 25 Oct 2027 (CEST, 07:00Z). At 07:30Z on the
        // 31st it is 08:30 CET: that day's send is still to come.
        let start = t(2027, 10, 25, 7);
        assert_eq!(
            latest_due(start, p, tm(2027, 10, 31, 7, 30), Europe__Berlin),
            Some((5, t(2027, 10, 30, 7)))
        );
        assert_eq!(
            next_after(start, p, t(2027, 10, 30, 7), end, Europe__Berlin),
            Some(t(2027, 10, 31, 8))
        );
        // Moscow has no DST: the same UTC hour on both sides.
        let start = t(2027, 3, 20, 6);
        assert_eq!(
            next_after(start, p, t(2027, 3, 27, 6), end, Europe__Moscow),
            Some(t(2027, 3, 28, 6))
        );
        assert_eq!(
            latest_due(start, p, tm(2027, 11, 1, 5, 59), Europe__Moscow).map(|(_, t)| t),
            Some(t(2027, 10, 31, 6))
        );
    }
}
