//! The one chart of the site: successes and failures per day as a stacked bar chart in SVG,
//! built on the server (no script). It reads without colour: failures are hatched, the
//! legend says so in words, every bar has a `<title>` with its numbers, and pages show the
//! same numbers in a table beside it.

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Day {
    pub day: NaiveDate,
    pub successes: u64,
    pub failures: u64,
    /// What recipients and their servers said back that day.
    pub said: Said,
}

/// Unsubscribes, bounces (hard and soft) and complaints: the feedback log, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Said {
    pub unsubscribes: u64,
    pub bounces: u64,
    pub complaints: u64,
}

impl Said {
    pub fn total(&self) -> u64 {
        self.unsubscribes + self.bounces + self.complaints
    }

    pub fn add(&mut self, other: &Said) {
        self.unsubscribes += other.unsubscribes;
        self.bounces += other.bounces;
        self.complaints += other.complaints;
    }

    /// In words, for a bar's title: "2 unsubscribes, 1 bounce".
    pub fn words(&self, say: &Say<'_>) -> String {
        let part = |n: u64, id: &str| (n > 0).then(|| say(id, &[("count", n as i64)]));
        [
            part(self.unsubscribes, "chart-unsubscribes"),
            part(self.bounces, "chart-bounces"),
            part(self.complaints, "chart-complaints"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

const H: usize = 200;
const PAD: usize = 24;
/// Room above the bars for the legend.
const TOP: usize = 28;
/// Narrowest slot per day; past that the chart grows wider and scrolls.
const MIN_SLOT: f64 = 8.0;

/// The chart's words in the page's language: a text's id and its values (numbers) → the
/// text (`chart-successes`, `chart-highest` with `max`, …; see templates/locales).
pub type Say<'a> = dyn Fn(&str, &[(&str, i64)]) -> String + 'a;

/// A text of `say` for SVG (escaped).
fn svg_text(say: &Say<'_>, id: &str, values: &[(&str, i64)]) -> String {
    minijinja::HtmlEscape(&say(id, values)).to_string()
}

/// About how wide a legend text is drawn, in the chart's units (11 px type).
fn text_width(text: &str) -> usize {
    text.chars().count() * 6 + 8
}

/// `days` in order, one bar each (pass every day of a range, zeros included, to show gaps).
/// Empty input gives an empty string: pages show their empty state instead.
pub fn chart_svg(days: &[Day], say: &Say<'_>) -> String {
    if days.is_empty() {
        return String::new();
    }
    let n = days.len();
    let width = ((2 * PAD) as f64 + n as f64 * MIN_SLOT).max(640.0).ceil() as usize;
    let slot = (width - 2 * PAD) as f64 / n as f64;
    let bar = (slot * 0.7).clamp(3.0, 40.0);
    let max = days
        .iter()
        .map(|d| d.successes + d.failures)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let scale = (H - TOP - PAD) as f64 / max;
    let base = (H - PAD) as f64;
    // A date under every bar when they fit, otherwise under every k-th one.
    let label_every = n.div_ceil(((width - 2 * PAD) / 44).max(1));
    let numbers_fit = slot >= 26.0;
    let successes = svg_text(say, "chart-successes", &[]);
    let failures = svg_text(say, "chart-failures", &[]);
    let said = svg_text(say, "chart-said", &[]);
    let lx1 = PAD + 20;
    let lx2 = lx1 + text_width(&successes);
    let lx3 = lx2 + 20;
    let lx4 = lx3 + text_width(&failures) + 5;
    let lx5 = lx4 + 10;
    let mut svg = format!(
        r##"<svg class="chart{wide}" viewBox="0 0 {width} {H}"{size} role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{title}</title><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="fail-bg"/><line x1="0" y1="0" x2="0" y2="6" class="fail-line"/></pattern></defs><g class="legend"><rect class="ok" x="{PAD}" y="6" width="14" height="14"/><text x="{lx1}" y="17">{successes}</text><rect fill="url(#hatch)" class="fail" x="{lx2}" y="6" width="14" height="14"/><text x="{lx3}" y="17">{failures}</text><circle class="said" cx="{lx4}" cy="13" r="5"/><text x="{lx5}" y="17">{said}</text><text x="{right}" y="17" text-anchor="end" class="label">{highest}</text></g><line class="axis" x1="{PAD}" y1="{base}" x2="{right}" y2="{base}"/>"##,
        // Past 640 units the chart keeps its size and its box scrolls (see app.css).
        wide = if width > 640 { " wide" } else { "" },
        size = if width > 640 {
            format!(r#" width="{width}" height="{H}""#)
        } else {
            String::new()
        },
        title = minijinja::HtmlEscape(&format!(
            "{}: {} — {}",
            say("chart-title", &[]),
            days[0].day,
            days[n - 1].day
        )),
        right = width - PAD,
        highest = svg_text(say, "chart-highest", &[("max", max as i64)]),
    );
    for (i, d) in days.iter().enumerate() {
        let x = PAD as f64 + i as f64 * slot + (slot - bar) / 2.0;
        let hs = d.successes as f64 * scale;
        let hf = d.failures as f64 * scale;
        let tx = x + bar / 2.0;
        svg.push_str(&format!(
            r#"<g><title>{day}: {words}</title><rect class="ok" x="{x:.1}" y="{ys:.1}" width="{bar:.1}" height="{hs:.1}"/><rect fill="url(#hatch)" class="fail" x="{x:.1}" y="{yf:.1}" width="{bar:.1}" height="{hf:.1}"/>"#,
            day = d.day,
            words = svg_text(
                say,
                "chart-bar",
                &[
                    ("successes", d.successes as i64),
                    ("failures", d.failures as i64)
                ]
            ),
            ys = base - hs,
            yf = base - hs - hf,
        ));
        if numbers_fit && d.successes + d.failures > 0 {
            svg.push_str(&format!(
                r#"<text x="{tx:.1}" y="{ty:.1}" text-anchor="middle" class="count">{s}/{f}</text>"#,
                s = d.successes,
                f = d.failures,
                ty = (base - hs - hf - 4.0).max((TOP + 8) as f64),
            ));
        }
        if d.said.total() > 0 {
            // A dot over the bar, its size by the day's count; its title says what.
            let r = (3.0 + (d.said.total() as f64).ln()).clamp(3.0, 8.0);
            svg.push_str(&format!(
                r#"<circle class="said" cx="{tx:.1}" cy="{cy:.1}" r="{r:.1}"><title>{day}: {words}</title></circle>"#,
                day = d.day,
                words = minijinja::HtmlEscape(&d.said.words(say)),
                cy = (base - hs - hf - r - 2.0).max((TOP + 4) as f64),
            ));
        }
        if i % label_every == 0 {
            svg.push_str(&format!(
                r#"<text x="{tx:.1}" y="{ly}" text-anchor="middle" class="label">{label}</text>"#,
                ly = H - 8,
                label = d.day.format("%d.%m"),
            ));
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Catalog, Lang};

    fn catalog() -> Catalog {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/locales");
        Catalog::load(&dir).unwrap()
    }

    fn chart_svg(days: &[Day]) -> String {
        chart_in(Lang::En, days)
    }

    fn chart_in(lang: Lang, days: &[Day]) -> String {
        let catalog = catalog();
        super::chart_svg(days, &|id, values| catalog.say(lang, id, values))
    }

    fn day(d: u32, successes: u64, failures: u64) -> Day {
        Day {
            day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default(),
            successes,
            failures,
            said: Said::default(),
        }
    }

    #[test]
    fn one_titled_bar_group_per_day_and_a_legend_in_words() {
        let svg = chart_svg(&[day(1, 3, 1), day(2, 0, 0), day(3, 0, 2)]);
        assert_eq!(svg.matches("<g><title>").count(), 3);
        assert!(svg.contains("<title>2026-11-01: 3 successful, 1 failed</title>"));
        assert!(svg.contains("Failures (hatched)"));
        assert!(!svg.contains("style="), "no inline styles under the CSP");
    }

    #[test]
    fn a_long_range_grows_wider_instead_of_squashing_bars() {
        let days: Vec<Day> = (0..365)
            .map(|i| Day {
                day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
                    + chrono::Duration::days(i),
                successes: 1,
                failures: 0,
                said: Said::default(),
            })
            .collect();
        let svg = chart_svg(&days);
        assert!(svg.contains(r#"width="2968""#), "{}", &svg[..200]);
    }

    #[test]
    fn a_day_with_feedback_gets_a_titled_dot() {
        let mut with = day(2, 5, 0);
        with.said = Said {
            unsubscribes: 2,
            bounces: 1,
            complaints: 0,
        };
        let svg = chart_svg(&[day(1, 3, 0), with]);
        assert_eq!(
            svg.matches(r#"<circle class="said" cx"#).count(),
            2,
            "legend and one day"
        );
        assert!(svg.contains("<title>2026-11-02: 2 unsubscribes, 1 bounce</title>"));
        let svg = chart_in(Lang::Ru, &[day(1, 3, 0), with_feedback()]);
        assert!(
            svg.contains("<title>2026-11-02: 2 отписки, 1 недоставка</title>"),
            "{svg}"
        );
        assert!(
            svg.contains("<title>2026-11-01: 3 успешных, 0 неудачных</title>"),
            "{svg}"
        );
    }

    fn with_feedback() -> Day {
        let mut with = day(2, 5, 0);
        with.said = Said {
            unsubscribes: 2,
            bounces: 1,
            complaints: 0,
        };
        with
    }

    #[test]
    fn nothing_to_draw_is_an_empty_string() {
        assert_eq!(chart_svg(&[]), "");
    }
}
