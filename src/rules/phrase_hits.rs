//! One scan for every `phrases` rule of a pack (design §5.2): the table function
//! `zj_phrase_hits('rule:ID')` gives a rule's matching messages. Its first call
//! walks the `messages` view once, partitions in parallel, and runs every phrase
//! rule's automaton on each message of the rule's role, the message's text made
//! ready once for all of them (its `norm_text`, and the anti-evasion form only
//! when a rule ignoring separators looks at it); the other rules' calls read
//! what that walk found.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, ListBuilder, RecordBatch, StringBuilder, UInt32Array,
};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use crate::normalize::normalize_loose_into;
use crate::rules::matcher::{Matcher, Separators};
use crate::rules::spec::MessageRole;
use crate::schema::MESSAGES;

pub const FUNCTION_NAME: &str = "zj_phrase_hits";

/// The columns of `messages` a phrase rule's query uses, and `found`.
const KEPT: [&str; 7] = [
    "shop",
    "session_id",
    "agent_id",
    "prev_agent_id",
    "msg_id",
    "ts",
    "local_time",
];

fn output_schema() -> SchemaRef {
    let mut fields: Vec<Field> = KEPT
        .iter()
        .map(|name| MESSAGES.field_with_name(name).expect("a messages column").clone())
        .collect();
    fields.push(Field::new(
        "found",
        DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        false,
    ));
    Arc::new(Schema::new(fields))
}

/// A phrase rule as the scan needs it.
#[derive(Debug, Clone)]
pub struct PhraseRule {
    pub key: String,
    pub role: MessageRole,
    pub matcher: Arc<Matcher>,
}

/// The function, over the registered `messages` partitions.
#[derive(Debug)]
pub struct PhraseHits {
    pub messages: Arc<Vec<Vec<RecordBatch>>>,
    pub rules: Vec<PhraseRule>,
    found: OnceLock<Result<HashMap<String, Vec<RecordBatch>>, String>>,
}

impl PhraseHits {
    pub fn new(messages: Arc<Vec<Vec<RecordBatch>>>, rules: Vec<PhraseRule>) -> Self {
        Self {
            messages,
            rules,
            found: OnceLock::new(),
        }
    }

    /// Every rule's hits, by key: one walk of all partitions, side by side.
    fn scan(&self) -> Result<HashMap<String, Vec<RecordBatch>>, String> {
        let per_partition: Vec<Result<Vec<Vec<RecordBatch>>, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .messages
                .iter()
                .map(|partition| scope.spawn(move || scan_partition(partition, &self.rules)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("the phrase scan panicked".into()))
                })
                .collect()
        });
        let mut found: HashMap<String, Vec<RecordBatch>> =
            self.rules.iter().map(|r| (r.key.clone(), Vec::new())).collect();
        for partition in per_partition {
            for (rule, batches) in self.rules.iter().zip(partition?) {
                found.get_mut(&rule.key).expect("every rule").extend(batches);
            }
        }
        Ok(found)
    }
}

impl TableFunctionImpl for PhraseHits {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let key = match args.exprs() {
            [Expr::Literal(ScalarValue::Utf8(Some(key)), _)] => key.clone(),
            _ => return plan_err!("{FUNCTION_NAME}('rule:ID'): one rule key in quotes"),
        };
        let found = match self.found.get_or_init(|| self.scan()) {
            Ok(found) => found,
            Err(e) => return plan_err!("{FUNCTION_NAME}: {e}"),
        };
        let Some(batches) = found.get(&key) else {
            return plan_err!("{FUNCTION_NAME}: no phrases rule {key:?} in the pack");
        };
        Ok(Arc::new(MemTable::try_new(
            output_schema(),
            vec![batches.clone()],
        )?))
    }
}

/// Each rule's hits in one partition of `messages`.
fn scan_partition(partition: &[RecordBatch], rules: &[PhraseRule]) -> Result<Vec<Vec<RecordBatch>>, String> {
    let mut out: Vec<Vec<RecordBatch>> = vec![Vec::new(); rules.len()];
    let mut scratch = crate::rules::matcher::Scratch::default();
    let mut loose = String::new();
    for batch in partition {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .expect("messages schema")
                .as_string::<i32>()
        };
        let (role, raw, norm) = (text("role"), text("text"), text("norm_text"));
        let mut hits: Vec<(Vec<u32>, ListBuilder<StringBuilder>)> = rules
            .iter()
            .map(|_| (Vec::new(), ListBuilder::new(StringBuilder::new())))
            .collect();
        for row in 0..batch.num_rows() {
            let mut loose_ready = false;
            for (rule, (rows, lists)) in rules.iter().zip(hits.iter_mut()) {
                if role.value(row) != rule.role.as_str() {
                    continue;
                }
                let found = match rule.matcher.separators() {
                    Separators::Keep => rule.matcher.find_all_in(norm.value(row), true, &mut scratch),
                    Separators::Ignore => {
                        if !loose_ready {
                            loose.clear();
                            normalize_loose_into(raw.value(row), &mut loose);
                            loose_ready = true;
                        }
                        rule.matcher.find_all_in_views(&loose, norm.value(row))
                    }
                };
                if !found.is_empty() {
                    rows.push(row as u32);
                    for phrase in found {
                        lists.values().append_value(phrase);
                    }
                    lists.append(true);
                }
            }
        }
        for ((rows, mut lists), slot) in hits.into_iter().zip(out.iter_mut()) {
            if !rows.is_empty() {
                slot.push(
                    gather(batch, &UInt32Array::from(rows), lists.finish()).map_err(|e| e.to_string())?,
                );
            }
        }
    }
    Ok(out)
}

/// The kept columns of `rows` of `batch`, with their `found` lists.
fn gather(batch: &RecordBatch, rows: &UInt32Array, found: impl Array + 'static) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = KEPT
        .iter()
        .map(|name| take(batch.column_by_name(name).expect("messages schema"), rows, None))
        .collect::<std::result::Result<_, _>>()?;
    columns.push(Arc::new(found));
    Ok(RecordBatch::try_new(output_schema(), columns)?)
}
