//! `zhijian rules test`: each rule's `[[test]]` transcripts run through the real
//! pipeline (views, functions, the rule's query), compared with `expect` and `hits`.

use crate::engine;
use crate::error::Result;
use crate::pipeline::{Plan, Source};
use crate::progress::Silent;
use crate::rules::pack::RulePack;
use crate::rules::spec::{InlineTest, Rule};
use crate::rules::{run, transcript};
use crate::timezone::TimeZones;

#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub rule_id: String,
    pub test_name: String,
    pub transcript: String,
    pub expected: usize,
    pub expected_hits: Option<Vec<usize>>,
    /// Anchor lines of the violations found, sorted.
    pub actual_hits: Vec<usize>,
    pub found: usize,
    /// A problem that kept the test from running (a bad transcript, a failing query).
    pub error: Option<String>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.found == self.expected
            && self.expected_hits.as_ref().is_none_or(|hits| {
                let mut want = hits.clone();
                want.sort_unstable();
                want == self.actual_hits
            })
    }
}

/// Runs one inline test of `rule`.
pub async fn run_test(pack: &RulePack, rule: &Rule, test: &InlineTest) -> TestOutcome {
    let mut outcome = TestOutcome {
        rule_id: rule.id.clone(),
        test_name: test.name.clone(),
        transcript: test.transcript.clone(),
        expected: test.expect,
        expected_hits: test.hits.clone(),
        actual_hits: Vec::new(),
        found: 0,
        error: None,
    };
    match anchors(pack, rule, test).await {
        Ok(lines) => {
            outcome.found = lines.len();
            outcome.actual_hits = lines;
            outcome.actual_hits.sort_unstable();
        }
        Err(e) => outcome.error = Some(e),
    }
    outcome
}

async fn anchors(pack: &RulePack, rule: &Rule, test: &InlineTest) -> Result<Vec<usize>, String> {
    let zones = TimeZones::default();
    let lines = transcript::parse(&test.transcript)?;
    let batch = transcript::to_batch(&lines, &zones)?;
    // The same stages as a run: a source, its one unit, the rule over its views.
    let run = async {
        let plan = Plan::batches(vec![batch], zones);
        let mut source = Source::open(&plan, std::path::PathBuf::new(), &Silent)?;
        let unit = source
            .next_unit()
            .await?
            .ok_or_else(|| crate::Error::Internal("a transcript gives one unit".into()))?;
        run::violations(&unit.context(pack)?.ctx, rule).await
    };
    let batches: Vec<_> = run.await.map_err(|e: crate::Error| e.to_string())?;
    let mut hits = Vec::new();
    for batch in &batches {
        let ids = engine::columns(batch).text("msg_id").map_err(|e| e.to_string())?;
        for row in 0..batch.num_rows() {
            // Anchors are line numbers; a rule without an anchor counts as line 0.
            hits.push(ids.get(row).and_then(|id| id.parse().ok()).unwrap_or(0));
        }
    }
    Ok(hits)
}

/// Runs every test of the selected rules (all when `ids` is empty), in pack order.
pub async fn run_all(pack: &RulePack, ids: &[String]) -> Result<Vec<TestOutcome>> {
    let mut outcomes = Vec::new();
    for rule in &pack.rules {
        if !ids.is_empty() && !ids.contains(&rule.id) {
            continue;
        }
        for test in &rule.tests {
            outcomes.push(run_test(pack, rule, test).await);
        }
    }
    Ok(outcomes)
}
