//! `rules/kpi.toml` (design §8): weighted components, each a metric scored by a
//! piecewise-linear curve, and payout tiers from score to commission multiplier.
//! Validated as strictly as the rule pack: every problem names the file and key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The metrics a component may score, as named in `kpi.toml` and the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    ResponseAvgS,
    FirstResponseAvgS,
    ResponseP90S,
    Within30sRate,
    Within180sRate,
    QaScore,
    Unanswered,
    Violations,
    CriticalSessions,
    InquiryConversion,
    AgentSales,
    GoodReviewRate,
    Complaints,
}

impl Metric {
    pub const ALL: [Metric; 13] = [
        Metric::ResponseAvgS,
        Metric::FirstResponseAvgS,
        Metric::ResponseP90S,
        Metric::Within30sRate,
        Metric::Within180sRate,
        Metric::QaScore,
        Metric::Unanswered,
        Metric::Violations,
        Metric::CriticalSessions,
        Metric::InquiryConversion,
        Metric::AgentSales,
        Metric::GoodReviewRate,
        Metric::Complaints,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::ResponseAvgS => "response_avg_s",
            Metric::FirstResponseAvgS => "first_response_avg_s",
            Metric::ResponseP90S => "response_p90_s",
            Metric::Within30sRate => "within_30s_rate",
            Metric::Within180sRate => "within_180s_rate",
            Metric::QaScore => "qa_score",
            Metric::Unanswered => "unanswered",
            Metric::Violations => "violations",
            Metric::CriticalSessions => "critical_sessions",
            Metric::InquiryConversion => "inquiry_conversion",
            Metric::AgentSales => "agent_sales",
            Metric::GoodReviewRate => "good_review_rate",
            Metric::Complaints => "complaints",
        }
    }

    /// The input file a metric needs besides the daily folders.
    pub fn source(self) -> Source {
        match self {
            Metric::InquiryConversion | Metric::AgentSales => Source::Orders,
            Metric::GoodReviewRate | Metric::Complaints => Source::Metrics,
            _ => Source::Chats,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Chats,
    Orders,
    Metrics,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub metric: Metric,
    pub name: String,
    pub weight: f64,
    /// `(value, points)` breakpoints, strictly increasing in value.
    pub curve: Vec<(f64, f64)>,
}

impl Component {
    /// Points for `value`: linear between breakpoints, clamped beyond the ends.
    pub fn points(&self, value: f64) -> f64 {
        let (first, last) = (self.curve[0], self.curve[self.curve.len() - 1]);
        if value <= first.0 {
            return first.1;
        }
        if value >= last.0 {
            return last.1;
        }
        let upper = self
            .curve
            .iter()
            .position(|(v, _)| *v >= value)
            .unwrap_or(self.curve.len() - 1);
        let (v0, p0) = self.curve[upper - 1];
        let (v1, p1) = self.curve[upper];
        p0 + (value - v0) / (v1 - v0) * (p1 - p0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Multiplier {
    Fixed(f64),
    /// The score itself, as a share: 112 points pay 1.12.
    ScoreShare,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tier {
    pub min_score: f64,
    pub multiplier: Multiplier,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KpiConfig {
    pub path: PathBuf,
    pub components: Vec<Component>,
    /// Highest `min_score` first.
    pub payout: Vec<Tier>,
}

impl KpiConfig {
    pub fn multiplier(&self, score: f64) -> f64 {
        let tier = self
            .payout
            .iter()
            .find(|t| score >= t.min_score)
            .or(self.payout.last())
            .expect("validated: at least one tier");
        match tier.multiplier {
            Multiplier::Fixed(m) => m,
            Multiplier::ScoreShare => score / 100.0,
        }
    }

    pub fn needs(&self, source: Source) -> bool {
        self.components.iter().any(|c| c.metric.source() == source)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, rename = "component")]
    components: Vec<RawComponent>,
    #[serde(default)]
    payout: Vec<RawTier>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    metric: String,
    name: Option<String>,
    weight: f64,
    curve: Vec<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    min_score: f64,
    multiplier: RawMultiplier,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawMultiplier {
    Number(f64),
    Text(String),
}

/// Reads and validates a KPI file; every problem is listed, each naming the key.
pub fn load(path: &Path) -> Result<KpiConfig, Vec<String>> {
    let at = |what: String| format!("{}: {what}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| vec![at(format!("cannot read: {e}"))])?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| vec![at(e.to_string().trim_end().to_string())])?;
    let mut problems = Vec::new();
    let mut components = Vec::new();
    if raw.components.is_empty() {
        problems.push(at("no [[component]]: add at least one".into()));
    }
    for (i, c) in raw.components.iter().enumerate() {
        let key = |k: &str| format!("[[component]] #{} ({}) key `{k}`", i + 1, c.metric);
        let Some(metric) = Metric::ALL.iter().copied().find(|m| m.name() == c.metric) else {
            let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            problems.push(at(format!(
                "{}: unknown metric; use one of {}",
                key("metric"),
                known.join(", ")
            )));
            continue;
        };
        if components.iter().any(|other: &Component| other.metric == metric) {
            problems.push(at(format!("{}: {} is scored twice", key("metric"), c.metric)));
        }
        if !c.weight.is_finite() || c.weight < 0.0 {
            problems.push(at(format!(
                "{}: {} must be a number ≥ 0",
                key("weight"),
                c.weight
            )));
        }
        if c.curve.len() < 2 {
            problems.push(at(format!(
                "{}: give at least two [value, points] breakpoints",
                key("curve")
            )));
        }
        if c.curve.iter().flatten().any(|x| !x.is_finite()) {
            problems.push(at(format!("{}: every breakpoint must be finite", key("curve"))));
        }
        for pair in c.curve.windows(2) {
            if pair[1][0] <= pair[0][0] {
                problems.push(at(format!(
                    "{}: not sorted: value {} comes after {}; list breakpoints by increasing value \
                     (whether higher is better follows from the points)",
                    key("curve"),
                    pair[1][0],
                    pair[0][0]
                )));
                break;
            }
        }
        components.push(Component {
            metric,
            name: c.name.clone().unwrap_or_else(|| metric.name().to_string()),
            weight: c.weight,
            curve: c.curve.iter().map(|[v, p]| (*v, *p)).collect(),
        });
    }
    let total: f64 = raw.components.iter().map(|c| c.weight).sum();
    if !raw.components.is_empty() && total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        problems.push(at(
            "the component weights sum to zero: give at least one a weight > 0".into(),
        ));
    }
    let mut payout = Vec::new();
    for (i, t) in raw.payout.iter().enumerate() {
        let key = |k: &str| format!("[[payout]] #{} key `{k}`", i + 1);
        let multiplier = match &t.multiplier {
            RawMultiplier::Number(m) if m.is_finite() && *m >= 0.0 => Multiplier::Fixed(*m),
            RawMultiplier::Text(s) if s == "score/100" => Multiplier::ScoreShare,
            other => {
                problems.push(at(format!(
                    "{}: {other:?}: give a number ≥ 0 or \"score/100\"",
                    key("multiplier")
                )));
                continue;
            }
        };
        if !t.min_score.is_finite() {
            problems.push(at(format!("{}: must be finite", key("min_score"))));
        }
        payout.push(Tier {
            min_score: t.min_score,
            multiplier,
        });
    }
    payout.sort_by(|a, b| b.min_score.total_cmp(&a.min_score));
    if payout.windows(2).any(|p| p[0].min_score == p[1].min_score) {
        problems.push(at("[[payout]]: two tiers have the same min_score".into()));
    }
    match payout.last() {
        None => problems.push(at("no [[payout]] tiers: add at least one (min_score = 0)".into())),
        Some(lowest) if lowest.min_score > 0.0 => problems.push(at(format!(
            "[[payout]]: a score below {} gets no multiplier: add a tier with min_score = 0",
            lowest.min_score
        ))),
        _ => {}
    }
    if problems.is_empty() {
        Ok(KpiConfig {
            path: path.to_path_buf(),
            components,
            payout,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<KpiConfig, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kpi.toml");
        std::fs::write(&path, text).unwrap();
        load(&path)
    }

    const PAYOUT: &str = "[[payout]]\nmin_score = 100\nmultiplier = \"score/100\"\n\
                          [[payout]]\nmin_score = 90\nmultiplier = 0.9\n\
                          [[payout]]\nmin_score = 0\nmultiplier = 0.8\n";

    fn component(metric: &str, weight: f64, curve: &str) -> String {
        format!("[[component]]\nmetric = \"{metric}\"\nweight = {weight}\ncurve = {curve}\n")
    }

    #[test]
    fn curves_interpolate_and_clamp_either_way() {
        let text = component("response_avg_s", 1.0, "[[15, 100], [30, 90], [60, 60], [120, 0]]") + PAYOUT;
        let config = parse(&text).unwrap();
        let c = &config.components[0];
        assert_eq!(c.points(10.0), 100.0);
        assert_eq!(c.points(15.0), 100.0);
        assert_eq!(c.points(22.5), 95.0);
        assert_eq!(c.points(45.0), 75.0);
        assert_eq!(c.points(500.0), 0.0);
        let rising = parse(&(component("qa_score", 1.0, "[[60, 0], [100, 100]]") + PAYOUT)).unwrap();
        assert_eq!(rising.components[0].points(90.0), 75.0);
    }

    #[test]
    fn payout_tiers() {
        let config = parse(&(component("qa_score", 1.0, "[[0, 0], [100, 100]]") + PAYOUT)).unwrap();
        assert_eq!(config.multiplier(112.0), 1.12);
        assert_eq!(config.multiplier(100.0), 1.0);
        assert_eq!(config.multiplier(95.0), 0.9);
        assert_eq!(config.multiplier(90.0), 0.9);
        assert_eq!(config.multiplier(12.0), 0.8);
    }

    #[test]
    fn the_shipped_formula_is_valid_and_weighted_as_documented() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/kpi.toml");
        let config = load(&path).unwrap();
        let weights: Vec<(&str, f64)> = config
            .components
            .iter()
            .map(|c| (c.metric.name(), c.weight))
            .collect();
        assert_eq!(
            weights,
            [
                ("response_avg_s", 20.0),
                ("inquiry_conversion", 30.0),
                ("good_review_rate", 15.0),
                ("qa_score", 25.0),
                ("complaints", 10.0)
            ]
        );
        assert_eq!(config.multiplier(112.0), 1.12);
        assert_eq!(config.multiplier(93.0), 0.9);
        assert_eq!(config.multiplier(70.0), 0.8);
    }

    #[test]
    fn bad_files_name_the_key() {
        let cases = [
            (
                component("qa_score", 1.0, "[[100, 100], [60, 0]]") + PAYOUT,
                "not sorted: value 60 comes after 100",
            ),
            (
                component("qa_score", 0.0, "[[60, 0], [100, 100]]") + PAYOUT,
                "weights sum to zero",
            ),
            (
                component("speed", 1.0, "[[60, 0], [100, 100]]") + PAYOUT,
                "unknown metric",
            ),
            (component("qa_score", 1.0, "[[60, 0]]") + PAYOUT, "at least two"),
            (
                component("qa_score", -1.0, "[[60, 0], [100, 100]]") + PAYOUT,
                "must be a number ≥ 0",
            ),
            (
                component("qa_score", 1.0, "[[60, 0], [100, 100]]"),
                "no [[payout]]",
            ),
            (
                component("qa_score", 1.0, "[[60, 0], [100, 100]]")
                    + "[[payout]]\nmin_score = 50\nmultiplier = 1\n",
                "a score below 50 gets no multiplier",
            ),
            (
                component("qa_score", 1.0, "[[60, 0], [100, 100]]")
                    + "[[payout]]\nmin_score = 0\nmultiplier = \"double\"\n",
                "give a number ≥ 0 or \"score/100\"",
            ),
            (PAYOUT.to_string() + "colour = 1\n", "unknown field"),
        ];
        for (text, says) in cases {
            let problems = parse(&text).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains(says) && p.contains("kpi.toml")),
                "{says}: {problems:?}"
            );
        }
    }
}
