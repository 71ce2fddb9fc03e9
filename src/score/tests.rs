//! Scores of the hand-computed fixture in `tests/fixtures/scoring/` (its README
//! explains every number); the integration test checks the published scorecards.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Float64Type;

use crate::pipeline::{Plan, Source, default_memory_limit, evaluate};
use crate::progress::Silent;
use crate::timezone::TimeZones;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scoring")
}

/// `sql` over the fixture's scores, made by the stages a run goes through.
async fn query(sql: &str) -> Vec<RecordBatch> {
    let plan = Plan::resolve(
        &[fixture().join("messages.jsonl")],
        None,
        TimeZones::default(),
        default_memory_limit(),
    )
    .unwrap();
    let mut source = Source::open(&plan, std::path::PathBuf::new(), &Silent).unwrap();
    let unit = source.next_unit().await.unwrap().expect("one unit");
    let pack = crate::rules::load(&fixture().join("rules"), &[]).unwrap();
    let context = unit.context(&pack).unwrap();
    evaluate(&context, &pack, &Silent).await.unwrap();
    crate::engine::query(&context.ctx, sql).await.unwrap().1
}

#[tokio::test]
async fn conversation_scores_of_the_fixture() {
    let batches = query(
        "SELECT session_id || '/' || agent_id, CAST(score AS DOUBLE), violations, critical \
         FROM conversation_scores ORDER BY 1",
    )
    .await;
    let mut got = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            got.push(format!(
                "{} {} {} {}",
                b.column(0).as_string::<i32>().value(i),
                b.column(1).as_primitive::<Float64Type>().value(i),
                b.column(2)
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .value(i),
                b.column(3).as_boolean().value(i),
            ));
        }
    }
    assert_eq!(
        got,
        [
            // 100 − 1 (slow) − 2.5 (rude) + 4 (bonus) = 100.5, capped at the ceiling;
            // the pure-bonus rule is not a violation.
            "S1/A 100 2 false",
            "S2/A 90 1 false",
            // The unanswered last round goes to B, the last agent before it.
            "S2/B 95 1 false",
            // A critical violation sets the floor whatever else happened.
            "S3/B 0 2 true",
            "S4/C 100 0 false",
            "S5/C 100 0 false",
        ]
    );
}

#[tokio::test]
async fn unassigned_violations_score_nobody_but_are_counted_in_rule_hits() {
    let batches = query(
        "SELECT (SELECT count(*) FROM rule_hits WHERE agent_id = '(unassigned)') AS hits, \
                (SELECT count(*) FROM scorecards WHERE agent_id = '(unassigned)') AS cards",
    )
    .await;
    let row = &batches[0];
    let count = |c: usize| {
        row.column(c)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0)
    };
    assert_eq!((count(0), count(1)), (1, 0));
}

#[test]
fn scoring_sql_snapshots() {
    use super::{conversation_scores_sql, rule_hits_sql, scorecards_sql};
    let scoring = crate::rules::pack::Scoring {
        base: 100.0,
        floor: 0.0,
        ceiling: 110.0,
    };
    insta::assert_snapshot!("conversation_scores", conversation_scores_sql(&scoring));
    insta::assert_snapshot!("scorecards", scorecards_sql(&["unanswered".to_string()]));
    insta::assert_snapshot!("rule_hits", rule_hits_sql());
}
