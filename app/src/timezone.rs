//! Time zones and how times are written. Every instant is stored in UTC; each user has an
//! IANA zone (`users.timezone`) in which pages show times and forms take them, and in which
//! recurring mailings keep their local wall-clock time (`delivery::schedule`).
//!
//! **Local times that do not exist or exist twice.** On the day clocks go forward a local
//! time inside the gap (02:30 in Berlin on the last Sunday of March) does not exist: it
//! becomes the first instant after the gap (03:00 CEST, the moment the clocks jump). On the
//! day clocks go back a local time inside the fold (02:30 in Berlin on the last Sunday of
//! October) exists twice: it is the earlier of the two (02:30 CEST, not 02:30 CET). The
//! same rule applies to a start time typed in a form and to each occurrence of a recurring
//! mailing (its other days keep the start's wall-clock time).
//!
//! One date format and one date-time format per language (`lang`, "en" unless "ru"):
//! "7 Dec 2026" / "7 Dec 2026, 09:00 CET" and "7 дек. 2026" / "7 дек. 2026, 09:00 MSK". The
//! zone is named by its abbreviation, or by its IANA name where the tz database has only a
//! numeric one ("+04").

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::i18n::Lang;

/// The zone of accounts made before zones existed, and of anonymous visitors.
pub const DEFAULT: &str = "UTC";

/// The message beside a time zone field that holds no zone we know.
pub const INVALID: &str = "Choose a time zone from the list, e.g. Europe/Berlin.";

/// The zone of an exact IANA name (`Europe/Berlin`), if the tz database has it.
pub fn parse(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

/// A stored zone name as a zone: UTC for a name the tz database no longer has.
pub fn zone_or_utc(name: &str) -> Tz {
    parse(name).unwrap_or(Tz::UTC)
}

/// Checks a zone typed in a form or sent to the API: its canonical name, or [`INVALID`].
pub fn check(name: &str) -> Result<String, &'static str> {
    parse(name).map(|tz| tz.name().to_owned()).ok_or(INVALID)
}

/// Every zone name, for the form's list (`<datalist>`).
pub fn names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// The instant of the wall-clock time `local` in `tz`, by the rule of this module: a time
/// in a gap is the first instant after the gap, a time in a fold the earlier instant.
pub fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Transitions fall on whole minutes: the first minute that exists after `local`
            // is the moment the clocks jumped. Gaps are at most a day (Samoa, 2011).
            let mut probe = local
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(local);
            for _ in 0..=(26 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}

/// `t`'s wall-clock time in `tz`.
pub fn to_local(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// How a `datetime-local` input holds a time (no zone: the viewer's).
pub const INPUT_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// `t` as a `datetime-local` input's value in `tz`.
pub fn local_input(t: DateTime<Utc>, tz: Tz) -> String {
    to_local(t, tz).format(INPUT_FORMAT).to_string()
}

/// A time as a `datetime-local` input sends it (`YYYY-MM-DDTHH:MM[:SS]`), in no zone.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, INPUT_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// The short name of month `month0` (0 = January) in `lang`.
fn month(lang: Lang, month0: u32) -> &'static str {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const RU: [&str; 12] = [
        "янв.",
        "февр.",
        "мар.",
        "апр.",
        "мая",
        "июн.",
        "июл.",
        "авг.",
        "сент.",
        "окт.",
        "нояб.",
        "дек.",
    ];
    let i = month0 as usize % 12;
    match lang {
        Lang::En => EN[i],
        Lang::Ru => RU[i],
    }
}

/// How the zone in force at `t` is named: its abbreviation ("CET", "MSK", "JST"), or the
/// IANA name when the tz database has only a numeric one ("+04").
pub fn zone_label(t: &DateTime<Tz>) -> String {
    let abbreviation = t.format("%Z").to_string();
    if abbreviation.is_empty() || abbreviation.starts_with(['+', '-']) {
        t.timezone().name().to_owned()
    } else {
        abbreviation
    }
}

/// "7 Dec 2026" / "7 дек. 2026".
pub fn format_date(d: NaiveDate, lang: Lang) -> String {
    format!("{} {} {}", d.day(), month(lang, d.month0()), d.year())
}

/// "7 Dec 2026, 09:00 CET" / "7 дек. 2026, 09:00 MSK": `t` in `tz`, the zone named.
pub fn format_datetime(t: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let local = t.with_timezone(&tz);
    format!(
        "{}, {:02}:{:02} {}",
        format_date(local.date_naive(), lang),
        local.hour(),
        local.minute(),
        zone_label(&local)
    )
}

/// A time as templates and JSON carry it: RFC 3339 ("2026-12-07T08:00:00Z"), or a naive
/// date-time taken as UTC.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        local(y, m, d, h, min).and_utc()
    }

    #[test]
    fn zones_are_exact_iana_names() {
        assert_eq!(check("Europe/Berlin"), Ok("Europe/Berlin".to_owned()));
        assert_eq!(check(" Asia/Tokyo "), Ok("Asia/Tokyo".to_owned()));
        assert_eq!(check("UTC"), Ok("UTC".to_owned()));
        for bad in [
            "",
            "Mars/Olympus",
            "europe/berlin",
            "CET+1",
            "../etc/passwd",
        ] {
            assert_eq!(check(bad), Err(INVALID), "{bad}");
        }
        assert_eq!(zone_or_utc("Nowhere"), Tz::UTC);
        assert!(names().any(|n| n == "Europe/Moscow"));
    }

    #[test]
    fn gap_is_the_first_instant_after_it_and_fold_the_earlier() {
        let berlin = Tz::Europe__Berlin;
        // 28 Mar 2027: 02:00 CET → 03:00 CEST (01:00Z).
        assert_eq!(
            to_utc(local(2027, 3, 28, 2, 30), berlin),
            utc(2027, 3, 28, 1, 0)
        );
        assert_eq!(
            to_utc(local(2027, 3, 28, 2, 0), berlin),
            utc(2027, 3, 28, 1, 0)
        );
        assert_eq!(
            to_utc(local(2027, 3, 28, 3, 0), berlin),
            utc(2027, 3, 28, 1, 0)
        );
        // 31 Oct 2027: 03:00 CEST → 02:00 CET; 02:30 happens at 00:30Z and at 01:30Z.
        assert_eq!(
            to_utc(local(2027, 10, 31, 2, 30), berlin),
            utc(2027, 10, 31, 0, 30)
        );
        // Ordinary days.
        assert_eq!(
            to_utc(local(2027, 1, 5, 9, 0), berlin),
            utc(2027, 1, 5, 8, 0)
        );
        assert_eq!(
            to_utc(local(2027, 7, 5, 9, 0), berlin),
            utc(2027, 7, 5, 7, 0)
        );
        assert_eq!(
            to_utc(local(2027, 7, 5, 9, 0), Tz::Europe__Moscow),
            utc(2027, 7, 5, 6, 0)
        );
        assert_eq!(
            to_local(utc(2027, 7, 5, 7, 0), berlin),
            local(2027, 7, 5, 9, 0)
        );
    }

    #[test]
    fn one_format_per_language_with_the_zone_named() {
        let t = utc(2026, 12, 7, 8, 0);
        assert_eq!(
            format_datetime(t, Tz::Europe__Berlin, Lang::En),
            "7 Dec 2026, 09:00 CET"
        );
        assert_eq!(
            format_datetime(t, Tz::Europe__Moscow, Lang::Ru),
            "7 дек. 2026, 11:00 MSK"
        );
        assert_eq!(
            format_datetime(utc(2027, 7, 1, 0, 0), Tz::Europe__Berlin, Lang::En),
            "1 Jul 2027, 02:00 CEST"
        );
        assert_eq!(
            format_datetime(t, Tz::Asia__Tokyo, Lang::En),
            "7 Dec 2026, 17:00 JST"
        );
        assert_eq!(
            format_datetime(t, Tz::UTC, Lang::En),
            "7 Dec 2026, 08:00 UTC"
        );
        // Dubai's abbreviation is "+04": the IANA name instead.
        assert_eq!(
            format_datetime(t, Tz::Asia__Dubai, Lang::En),
            "7 Dec 2026, 12:00 Asia/Dubai"
        );
        assert_eq!(format_date(t.date_naive(), Lang::Ru), "7 дек. 2026");
    }

    #[test]
    fn instants_from_templates() {
        assert_eq!(
            parse_instant("2026-12-07T08:00:00Z"),
            Some(utc(2026, 12, 7, 8, 0))
        );
        assert_eq!(
            parse_instant("2026-12-07T09:00:00.123+01:00"),
            Some(utc(2026, 12, 7, 8, 0) + Duration::milliseconds(123))
        );
        assert_eq!(
            parse_instant("2026-12-07 08:00:00"),
            Some(utc(2026, 12, 7, 8, 0))
        );
        assert_eq!(parse_instant("yesterday"), None);
    }
}
