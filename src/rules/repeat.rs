//! 三连发 runs (design §5.2, template `repeat`) as a table function,
//! `zj_repeat_runs(min_run, 'identical'|'similar'|'lexicon', similarity, 'lexicon', max_gap_seconds)`,
//! so a repeat rule is still one SQL query. Runs are greedy and compare each message
//! with the run's first one, which no window function expresses; the function walks
//! the `messages` view once, in session order, like the rounds pass.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampMicrosecondType};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use crate::rules::udf::{Matchers, bigram_similarity};
use crate::schema::timestamp_type;

pub const FUNCTION_NAME: &str = "zj_repeat_runs";

/// The function, over the registered `messages` partitions.
#[derive(Debug)]
pub struct RepeatRuns {
    pub messages: Arc<Vec<Vec<RecordBatch>>>,
    pub matchers: Matchers,
}

#[derive(Debug, Clone)]
enum Mode {
    Identical,
    Similar(f64),
    Lexicon(String),
}

#[derive(Debug, Clone)]
struct Params {
    min_run: usize,
    mode: Mode,
    max_gap_micros: Option<i64>,
}

fn output_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("shop", DataType::Utf8, false),
        Field::new("session_id", DataType::Utf8, false),
        Field::new("agent_id", DataType::Utf8, false),
        Field::new("msg_id", DataType::Utf8, false),
        Field::new(
            "msg_ids",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            false,
        ),
        Field::new("ts", timestamp_type(), false),
        Field::new("run_length", DataType::Int64, false),
        Field::new("first_text", DataType::Utf8, false),
    ]))
}

fn literal(expr: &Expr) -> Option<&ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value),
        Expr::Cast(cast) => literal(&cast.expr),
        _ => None,
    }
}

fn number(expr: &Expr) -> Option<f64> {
    match literal(expr)? {
        ScalarValue::Int64(Some(v)) => Some(*v as f64),
        ScalarValue::Int32(Some(v)) => Some(f64::from(*v)),
        ScalarValue::Float64(Some(v)) => Some(*v),
        ScalarValue::Float32(Some(v)) => Some(f64::from(*v)),
        ScalarValue::Null => None,
        other => other.to_string().parse().ok(),
    }
}

fn text(expr: &Expr) -> Option<String> {
    match literal(expr)? {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            Some(s.clone())
        }
        _ => None,
    }
}

fn parse_args(exprs: &[Expr]) -> Result<Params> {
    let usage = "zj_repeat_runs(min_run, 'identical' | 'similar' | 'lexicon', similarity, 'lexicon name', max_gap_seconds or -1)";
    let [min_run, mode, similarity, lexicon, max_gap] = exprs else {
        return plan_err!("{usage}: expected 5 arguments, got {}", exprs.len());
    };
    let (Some(min_run), Some(mode), Some(similarity), Some(lexicon), Some(max_gap)) = (
        number(min_run),
        text(mode),
        number(similarity),
        text(lexicon),
        number(max_gap),
    ) else {
        return plan_err!("{usage}: every argument must be a literal");
    };
    let mode = match mode.as_str() {
        "identical" => Mode::Identical,
        "similar" => Mode::Similar(similarity),
        "lexicon" => Mode::Lexicon(lexicon),
        other => return plan_err!("{usage}: unknown mode {other:?}"),
    };
    Ok(Params {
        min_run: min_run.max(1.0) as usize,
        mode,
        max_gap_micros: (max_gap >= 0.0).then(|| (max_gap * 1e6).round() as i64),
    })
}

impl TableFunctionImpl for RepeatRuns {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let params = parse_args(args.exprs())?;
        let lexicon = match &params.mode {
            Mode::Lexicon(name) => match self.matchers.get(name) {
                Some(m) => Some(m.clone()),
                None => return plan_err!("zj_repeat_runs: no lexicon {name:?}"),
            },
            _ => None,
        };
        let mut out = Output::default();
        for partition in self.messages.iter() {
            let mut walker = Walker {
                params: &params,
                lexicon: lexicon.as_deref(),
                run: None,
                out: &mut out,
            };
            for batch in partition {
                walker.batch(batch);
            }
            walker.flush();
        }
        let table = MemTable::try_new(output_schema(), vec![vec![out.finish()?]])?;
        Ok(Arc::new(table))
    }
}

struct Run {
    shop: String,
    session_id: String,
    agent_id: String,
    first_norm: String,
    first_text: String,
    first_ts: i64,
    last_ts: i64,
    msg_ids: Vec<String>,
}

#[derive(Default)]
struct Output {
    shop: Vec<String>,
    session_id: Vec<String>,
    agent_id: Vec<String>,
    msg_ids: Vec<Vec<String>>,
    ts: Vec<i64>,
    first_text: Vec<String>,
}

impl Output {
    fn finish(self) -> Result<RecordBatch> {
        let mut ids = ListBuilder::new(StringBuilder::new());
        for run in &self.msg_ids {
            for id in run {
                ids.values().append_value(id);
            }
            ids.append(true);
        }
        let first_ids: StringArray = self
            .msg_ids
            .iter()
            .map(|r| r.first().map(String::as_str))
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(self.shop)),
            Arc::new(StringArray::from(self.session_id)),
            Arc::new(StringArray::from(self.agent_id)),
            Arc::new(first_ids),
            Arc::new(ids.finish()),
            Arc::new(TimestampMicrosecondArray::from(self.ts).with_timezone("UTC")),
            Arc::new(Int64Array::from(
                self.msg_ids.iter().map(|r| r.len() as i64).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(self.first_text)),
        ];
        Ok(RecordBatch::try_new(output_schema(), columns)?)
    }
}

struct Walker<'a> {
    params: &'a Params,
    lexicon: Option<&'a crate::rules::matcher::Matcher>,
    run: Option<Run>,
    out: &'a mut Output,
}

impl Walker<'_> {
    fn flush(&mut self) {
        if let Some(run) = self.run.take()
            && run.msg_ids.len() >= self.params.min_run
        {
            self.out.shop.push(run.shop);
            self.out.session_id.push(run.session_id);
            self.out.agent_id.push(run.agent_id);
            self.out.ts.push(run.first_ts);
            self.out.first_text.push(run.first_text);
            self.out.msg_ids.push(run.msg_ids);
        }
    }

    fn matches_first(&self, run: &Run, norm: &str) -> bool {
        match &self.params.mode {
            Mode::Identical => run.first_norm == norm,
            Mode::Similar(threshold) => bigram_similarity(&run.first_norm, norm) >= *threshold,
            Mode::Lexicon(_) => self.lexicon.is_some_and(|l| l.is_match(norm)),
        }
    }

    fn batch(&mut self, batch: &RecordBatch) {
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .expect("messages schema")
                .as_string::<i32>()
        };
        let (shop, session, msg_id, role, agent, norm, text) = (
            col("shop"),
            col("session_id"),
            col("msg_id"),
            col("role"),
            col("agent_id"),
            col("norm_text"),
            col("text"),
        );
        let ts = batch
            .column_by_name("ts")
            .expect("messages schema")
            .as_primitive::<TimestampMicrosecondType>();
        for row in 0..batch.num_rows() {
            let same_session = self
                .run
                .as_ref()
                .is_some_and(|r| r.session_id == session.value(row) && r.shop == shop.value(row));
            if !same_session {
                self.flush();
            }
            match role.value(row) {
                "agent" => {}
                "customer" => {
                    self.flush();
                    continue;
                }
                // Bots and system messages neither join nor end a run.
                _ => continue,
            }
            let (norm_text, agent_id, at) = (norm.value(row), agent.value(row), ts.value(row));
            if norm_text.is_empty() {
                // An image ends a run and starts none.
                self.flush();
                continue;
            }
            let extends = self.run.as_ref().is_some_and(|run| {
                run.agent_id == agent_id
                    && self.matches_first(run, norm_text)
                    && self
                        .params
                        .max_gap_micros
                        .is_none_or(|gap| at - run.last_ts <= gap)
            });
            if extends {
                let run = self.run.as_mut().expect("checked above");
                run.msg_ids.push(msg_id.value(row).to_string());
                run.last_ts = at;
                continue;
            }
            self.flush();
            let starts = match &self.params.mode {
                Mode::Lexicon(_) => self.lexicon.is_some_and(|l| l.is_match(norm_text)),
                _ => true,
            };
            if starts {
                self.run = Some(Run {
                    shop: shop.value(row).to_string(),
                    session_id: session.value(row).to_string(),
                    agent_id: agent_id.to_string(),
                    first_norm: norm_text.to_string(),
                    first_text: text.value(row).to_string(),
                    first_ts: at,
                    last_ts: at,
                    msg_ids: vec![msg_id.value(row).to_string()],
                });
            }
        }
    }
}
