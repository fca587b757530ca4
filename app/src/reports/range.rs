//! The date range of a report, from the query string: a preset (`today`, `7d`, `30d`) or
//! `custom` with `from` and `to` (YYYY-MM-DD, both days included), in the viewer's zone.
//!
//! A range is whole local days: from the local midnight that starts `from` to the one that
//! ends `to`, turned into instants with the zone's rules of the time. A day is 23 or 25 hours
//! long when the clocks change on it; a midnight that does not exist (a zone that moves its
//! clocks at midnight) is the first instant after the gap, one that exists twice the
//! earlier (see [`crate::timezone::to_utc`]), so consecutive days never overlap or leave a
//! gap.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::entities::report_slot;

use crate::validation::FieldErrors;
use crate::validation::date_in_range;

/// A custom range may span at most this many days (a year, leap day included).
pub const MAX_DAYS: u64 = 366;

/// The query string of `/reports` and `/reports/export.csv`, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub range: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// `mailings` (default) or `messages`: which table is shown (and exported).
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
}

impl ReportQuery {
    /// The table shown: per message or per mailing.
    pub fn by_message(&self) -> bool {
        self.view == "messages"
    }

    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }
}

/// Whole days of the zone `tz` from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub preset: &'static str,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(skip)]
    pub tz: Tz,
}

impl DateRange {
    /// The first instant of the day `day` in the range's zone.
    fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        crate::timezone::to_utc(day.and_time(NaiveTime::MIN), self.tz)
    }

    /// The first instant of the range.
    pub fn start(&self) -> DateTime<Utc> {
        self.midnight(self.from)
    }

    /// The first instant after the range.
    pub fn end(&self) -> DateTime<Utc> {
        self.midnight(self.to.checked_add_days(Days::new(1)).unwrap_or(self.to))
    }

    /// The roll-up's slots of the range: from the first, up to (not including) the second.
    pub fn slots(&self) -> (i64, i64) {
        (
            report_slot::first_slot_from(self.start()),
            report_slot::first_slot_from(self.end()),
        )
    }

    /// The local day (in the range's zone) of the instant `t`.
    pub fn day_of(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }

    /// The last `n` days up to `today`, today included.
    fn last(preset: &'static str, today: NaiveDate, n: u64, tz: Tz) -> Self {
        Self {
            preset,
            from: today.checked_sub_days(Days::new(n - 1)).unwrap_or(today),
            to: today,
            tz,
        }
    }
}

fn parse_day(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

/// The range asked for, in days of `tz` (`now` decides which day is today), or the errors
/// to show beside the fields. No preset means 30 days.
pub fn parse(query: &ReportQuery, now: DateTime<Utc>, tz: Tz) -> Result<DateRange, FieldErrors> {
    let today = now.with_timezone(&tz).date_naive();
    match query.range.as_str() {
        "today" => Ok(DateRange::last("today", today, 1, tz)),
        "7d" => Ok(DateRange::last("7d", today, 7, tz)),
        "" | "30d" => Ok(DateRange::last("30d", today, 30, tz)),
        "custom" => {
            let mut errors = FieldErrors::default();
            let from = date_in_range(parse_day(&query.from), "Enter the first day as YYYY-MM-DD.")
                .map_err(|m| errors.add("from", m))
                .ok();
            let to = date_in_range(parse_day(&query.to), "Enter the last day as YYYY-MM-DD.")
                .map_err(|m| errors.add("to", m))
                .ok();
            if let (Some(from), Some(to)) = (from, to) {
                if from > to {
                    errors.add("to", "The last day cannot be before the first day.");
                } else if (to - from).num_days() as u64 >= MAX_DAYS {
                    errors.add("to", format!("A range can span at most {MAX_DAYS} days."));
                }
            }
            errors.into_result()?;
            match (from, to) {
                (Some(from), Some(to)) => Ok(DateRange {
                    preset: "custom",
                    from,
                    to,
                    tz,
                }),
                _ => Err(FieldErrors::single("", "The range is incomplete.")),
            }
        }
        _ => Err(FieldErrors::single(
            "range",
            "Choose today, 7 days, 30 days or a custom range.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(range: &str, from: &str, to: &str) -> ReportQuery {
        ReportQuery {
            range: range.into(),
            from: from.into(),
            to: to.into(),
            ..ReportQuery::default()
        }
    }

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap_or_default()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_default()
    }

    fn noon(s: &str) -> DateTime<Utc> {
        day(s).and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
    }

    #[test]
    fn presets_end_today() {
        let now = noon("2026-03-01");
        let today = day("2026-03-01");
        let r = parse(&q("7d", "", ""), now, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((r.from, r.to), (day("2026-02-23"), today));
        assert_eq!(r.days().count(), 7);
        let r = parse(&q("", "", ""), now, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((r.preset, r.days().count()), ("30d", 30));
        let r = parse(&q("today", "", ""), now, Tz::UTC).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.end() - r.start(), chrono::Duration::days(1));
    }

    #[test]
    fn today_is_the_viewers_day() {
        let today = |now: &str, tz: Tz| {
            parse(&q("today", "", ""), utc(now), tz).map(|r| (r.from, r.start(), r.end()))
        };
        // 22:30Z is already tomorrow in Moscow (+03:00), still yesterday in Los Angeles.
        assert_eq!(
            today("2026-12-07T22:30:00Z", Tz::Europe__Moscow).ok(),
            Some((
                day("2026-12-08"),
                utc("2026-12-07T21:00:00Z"),
                utc("2026-12-08T21:00:00Z")
            ))
        );
        assert_eq!(
            today("2026-12-08T05:00:00Z", Tz::America__Los_Angeles).ok(),
            Some((
                day("2026-12-07"),
                utc("2026-12-07T08:00:00Z"),
                utc("2026-12-08T08:00:00Z")
            ))
        );
        // Quarter- and half-hour offsets: days start at 18:15Z and 18:30Z.
        assert_eq!(
            today("2026-12-07T18:15:00Z", Tz::Asia__Kathmandu).ok(),
            Some((
                day("2026-12-08"),
                utc("2026-12-07T18:15:00Z"),
                utc("2026-12-08T18:15:00Z")
            ))
        );
        assert_eq!(
            today("2026-12-07T18:29:59Z", Tz::Asia__Kolkata)
                .map(|r| r.0)
                .ok(),
            Some(day("2026-12-07"))
        );
    }

    /// The instants of one custom day in `tz`.
    fn one_day(d: &str, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let r =
            parse(&q("custom", d, d), noon("2026-12-08"), tz).unwrap_or_else(|e| panic!("{e:?}"));
        (r.start(), r.end())
    }

    #[test]
    fn days_of_23_and_25_hours() {
        let la = Tz::America__Los_Angeles;
        // 8 Mar 2026: 02:00 PST → 03:00 PDT; 1 Nov 2026: 02:00 PDT → 01:00 PST.
        assert_eq!(
            one_day("2026-03-08", la),
            (utc("2026-03-08T08:00:00Z"), utc("2026-03-09T07:00:00Z"))
        );
        assert_eq!(
            one_day("2026-11-01", la),
            (utc("2026-11-01T07:00:00Z"), utc("2026-11-02T08:00:00Z"))
        );
        // Havana moves its clocks at midnight: on 8 Mar 2026 00:00 does not exist (the day
        // starts at 01:00 CDT), on 1 Nov 2026 it exists twice (the earlier one starts it).
        let havana = Tz::America__Havana;
        assert_eq!(
            one_day("2026-03-07", havana),
            (utc("2026-03-07T05:00:00Z"), utc("2026-03-08T05:00:00Z"))
        );
        assert_eq!(
            one_day("2026-03-08", havana),
            (utc("2026-03-08T05:00:00Z"), utc("2026-03-09T04:00:00Z"))
        );
        assert_eq!(
            one_day("2026-11-01", havana),
            (utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z"))
        );
        // A range's slots are its quarter-hours: 23 hours are 92 of them.
        let r = parse(
            &q("custom", "2026-03-08", "2026-03-08"),
            noon("2026-12-08"),
            la,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let (first, end) = r.slots();
        assert_eq!(end - first, 92);
        assert_eq!(report_slot::slot_start(first), r.start());
        assert_eq!(r.day_of(utc("2026-03-09T06:59:59Z")), day("2026-03-08"));
        assert_eq!(r.day_of(utc("2026-03-09T07:00:00Z")), day("2026-03-09"));
    }

    #[test]
    fn custom_ranges_are_checked() {
        let today = noon("2026-03-01");
        let tz = Tz::UTC;
        let ok = parse(&q("custom", "2026-01-31", "2026-02-02"), today, tz);
        assert_eq!(ok.map(|r| r.days().count()).ok(), Some(3));
        let bad = parse(&q("custom", "2026-02-30", "yesterday"), today, tz).unwrap_err();
        assert!(bad.0.contains_key("from") && bad.0.contains_key("to"));
        let reversed = parse(&q("custom", "2026-02-02", "2026-01-31"), today, tz).unwrap_err();
        assert!(reversed.0.contains_key("to"));
        let long = parse(&q("custom", "2020-01-01", "2026-01-01"), today, tz).unwrap_err();
        assert!(long.0.contains_key("to"));
        assert!(parse(&q("forever", "", ""), today, tz).is_err());
    }
}
