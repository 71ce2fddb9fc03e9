//! The custom SQL functions of design §5.2, each working on whole Arrow arrays:
//! `zj_normalize(text)`, `zj_contains_any(text, 'lexicon')`,
//! `zj_matches(text, 'lexicon')` and `zj_similarity(a, b)`. The lexicon functions
//! look matchers up by name (a lexicon, or `rule:ID` for a rule's own phrase set);
//! each matcher's automaton is built once per pack.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Array, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::normalize::normalize_into;
use crate::rules::matcher::{Matcher, Scratch, Separators, registry_key};

pub type Matchers = Arc<HashMap<String, Arc<Matcher>>>;

/// Registers the four functions with `matchers` as the lexicon registry.
pub fn register(ctx: &SessionContext, matchers: Matchers) {
    let fingerprint = fingerprint(&matchers);
    ctx.register_udf(ScalarUDF::from(TextMap::new("zj_normalize", normalize_into)));
    for kind in [LexiconFn::ContainsAny, LexiconFn::Matches] {
        for input_normalized in [false, true] {
            ctx.register_udf(ScalarUDF::from(LexiconUdf {
                kind,
                input_normalized,
                matchers: matchers.clone(),
                fingerprint,
                // (text, lexicon) or (text, lexicon, 'keep' | 'ignore'): the match mode
                // for separators between a phrase's characters.
                signature: Signature::one_of(
                    vec![TypeSignature::String(2), TypeSignature::String(3)],
                    Volatility::Immutable,
                ),
            }));
        }
    }
    ctx.register_udf(ScalarUDF::from(Similarity::new()));
    // Personal data masked as in outputs (design §7).
    ctx.register_udf(ScalarUDF::from(TextMap::new("zj_mask", mask_into)));
}

fn fingerprint(matchers: &HashMap<String, Arc<Matcher>>) -> u64 {
    let mut names: Vec<(&String, &Arc<Matcher>)> = matchers.iter().collect();
    names.sort_by_key(|(name, _)| *name);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (name, matcher) in names {
        name.hash(&mut hasher);
        matcher.phrases().hash(&mut hasher);
    }
    hasher.finish()
}

/// Any string array (Utf8, LargeUtf8, Utf8View) as Utf8.
fn utf8(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.clone(),
        _ => cast(array, &DataType::Utf8)?,
    })
}

fn arrays(args: &ScalarFunctionArgs) -> Result<Vec<ArrayRef>> {
    ColumnarValue::values_to_arrays(&args.args)?
        .iter()
        .map(utf8)
        .collect()
}

/// A one-argument text function (`zj_normalize`, `zj_mask`): `map` appends the
/// result for one value to the output buffer.
#[derive(Debug)]
struct TextMap {
    name: &'static str,
    map: fn(&str, &mut String),
    signature: Signature,
}

impl TextMap {
    fn new(name: &'static str, map: fn(&str, &mut String)) -> Self {
        Self {
            name,
            map,
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

// The name identifies the function; `fn` pointers compare unreliably.
impl PartialEq for TextMap {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TextMap {}

impl Hash for TextMap {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for TextMap {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args)?;
        let text = input[0].as_string::<i32>();
        let mut out = StringBuilder::with_capacity(text.len(), text.values().len());
        let mut buf = String::new();
        for value in text.iter() {
            match value {
                Some(v) => {
                    buf.clear();
                    (self.map)(v, &mut buf);
                    out.append_value(&buf);
                }
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

fn mask_into(text: &str, out: &mut String) {
    out.push_str(&crate::mask::mask_pii(text));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LexiconFn {
    ContainsAny,
    Matches,
}

#[derive(Debug)]
struct LexiconUdf {
    kind: LexiconFn,
    /// The `_norm` variants take text that is already normalised (`norm_text`), as
    /// the templates do, and skip normalising it again.
    input_normalized: bool,
    matchers: Matchers,
    /// Stands for the registry in equality and hashing: automata are not `Hash`.
    fingerprint: u64,
    signature: Signature,
}

impl PartialEq for LexiconUdf {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.input_normalized == other.input_normalized
            && self.fingerprint == other.fingerprint
    }
}

impl Eq for LexiconUdf {}

impl Hash for LexiconUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.input_normalized.hash(state);
        self.fingerprint.hash(state);
    }
}

/// A literal text argument of a function call.
fn literal(args: &ScalarFunctionArgs, index: usize) -> Option<&str> {
    match args.args.get(index) {
        Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(n))))
        | Some(ColumnarValue::Scalar(ScalarValue::Utf8View(Some(n))))
        | Some(ColumnarValue::Scalar(ScalarValue::LargeUtf8(Some(n)))) => Some(n),
        _ => None,
    }
}

impl LexiconUdf {
    fn matcher(&self, args: &ScalarFunctionArgs) -> Result<Arc<Matcher>> {
        let Some(name) = literal(args, 1) else {
            return exec_err!(
                "{}: the second argument must be a lexicon name in quotes, e.g. 'greeting'",
                self.name()
            );
        };
        let key = match args.args.len() {
            2 => name.to_string(),
            _ => match literal(args, 2).and_then(Separators::parse) {
                Some(mode) => registry_key(name, mode),
                None => {
                    return exec_err!(
                        "{}: the third argument must be 'keep' or 'ignore' (separators between a phrase's characters)",
                        self.name()
                    );
                }
            },
        };
        match self.matchers.get(&key) {
            Some(m) => Ok(m.clone()),
            None => {
                let mut known: Vec<&str> = self
                    .matchers
                    .keys()
                    .filter(|k| !k.starts_with("rule:"))
                    .map(String::as_str)
                    .collect();
                known.retain(|k| !k.contains('#'));
                known.sort();
                exec_err!(
                    "{}: no lexicon {name:?} (known: {})",
                    self.name(),
                    known.join(", ")
                )
            }
        }
    }
}

impl ScalarUDFImpl for LexiconUdf {
    fn name(&self) -> &str {
        match (self.kind, self.input_normalized) {
            (LexiconFn::ContainsAny, false) => "zj_contains_any",
            (LexiconFn::ContainsAny, true) => "zj_contains_any_norm",
            (LexiconFn::Matches, false) => "zj_matches",
            (LexiconFn::Matches, true) => "zj_matches_norm",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            LexiconFn::ContainsAny => DataType::Boolean,
            LexiconFn::Matches => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let matcher = self.matcher(&args)?;
        let input = utf8(&args.args[0].to_array(args.number_rows)?)?;
        let text: &StringArray = input.as_string::<i32>();
        // The plain functions normalise their input, so raw `text` works as well as
        // `norm_text`; the buffers serve every row.
        let mut scratch = Scratch::default();
        let mut out_bool = BooleanBuilder::with_capacity(text.len());
        let mut out_list = ListBuilder::new(StringBuilder::new());
        for value in text.iter() {
            match (self.kind, value) {
                (LexiconFn::ContainsAny, None) => out_bool.append_null(),
                (LexiconFn::ContainsAny, Some(v)) => {
                    out_bool.append_value(matcher.is_match_in(v, self.input_normalized, &mut scratch))
                }
                (LexiconFn::Matches, Some(v)) => {
                    for phrase in matcher.find_all_in(v, self.input_normalized, &mut scratch) {
                        out_list.values().append_value(phrase);
                    }
                    out_list.append(true);
                }
                (LexiconFn::Matches, None) => out_list.append(false),
            }
        }
        let out: ArrayRef = match self.kind {
            LexiconFn::ContainsAny => Arc::new(out_bool.finish()),
            LexiconFn::Matches => Arc::new(out_list.finish()),
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Jaccard similarity of the sets of character bigrams (design §5.2); two strings
/// without bigrams are 1 when equal, else 0.
pub fn bigram_similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> Vec<(char, char)> {
        let chars: Vec<char> = s.chars().collect();
        let mut g: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() && gb.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let common = ga.iter().filter(|g| gb.binary_search(g).is_ok()).count();
    common as f64 / (ga.len() + gb.len() - common) as f64
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Similarity {
    signature: Signature,
}

impl Similarity {
    fn new() -> Self {
        Self {
            signature: Signature::string(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Similarity {
    fn name(&self) -> &str {
        "zj_similarity"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args)?;
        let (a, b) = (input[0].as_string::<i32>(), input[1].as_string::<i32>());
        let out: Float64Array = a
            .iter()
            .zip(b.iter())
            .map(|(a, b)| Some(bigram_similarity(a?, b?)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_of_bigram_sets() {
        assert_eq!(bigram_similarity("亲还在吗", "亲还在吗"), 1.0);
        assert_eq!(bigram_similarity("a", "a"), 1.0);
        assert_eq!(bigram_similarity("a", "b"), 0.0);
        assert_eq!(bigram_similarity("", ""), 1.0);
        // {ab, bc} vs {ab, bd}: 1 shared of 3
        assert!((bigram_similarity("abc", "abd") - 1.0 / 3.0).abs() < 1e-12);
        // sets, not multisets: "aaa" has one bigram
        assert_eq!(bigram_similarity("aaa", "aa"), 1.0);
    }
}

#[cfg(test)]
mod sql_tests {
    use super::*;
    use crate::rules::matcher::normalize_phrases;
    use datafusion::arrow::util::pretty::pretty_format_batches;

    async fn run(sql: &str) -> String {
        let ctx = SessionContext::new();
        let lexicon = Matcher::new(normalize_phrases(["加微信", "vx"]), Vec::new(), &[]);
        register(
            &ctx,
            Arc::new(HashMap::from([("offsite".to_string(), Arc::new(lexicon))])),
        );
        let batches = ctx.sql(sql).await.expect("plans").collect().await.expect("runs");
        pretty_format_batches(&batches).expect("prints").to_string()
    }

    #[tokio::test]
    async fn lexicon_functions_take_every_string_type() {
        for string_type in ["Utf8", "LargeUtf8", "Utf8View"] {
            let out = run(&format!(
                "SELECT zj_matches(arrow_cast(t, '{string_type}'), 'offsite') AS found, \
                 zj_contains_any(arrow_cast(t, '{string_type}'), 'offsite') AS hit \
                 FROM (VALUES ('加 微 信 ＶＸ'), ('你好'), (NULL)) AS v(t)"
            ))
            .await;
            assert!(out.contains("| [vx, 加微信] | true  |"), "{string_type}:\n{out}");
            assert!(out.contains("| []           | false |"), "{string_type}:\n{out}");
        }
    }

    #[tokio::test]
    async fn norm_variants_trust_their_input_to_be_normalised() {
        let out = run(
            "SELECT zj_matches_norm(t, 'offsite') AS found, zj_contains_any_norm(t, 'offsite') AS hit \
             FROM (VALUES ('加微信vx'), ('加 微 信')) AS v(t)",
        )
        .await;
        assert!(out.contains("| [vx, 加微信] | true  |"), "{out}");
        assert!(out.contains("| []           | false |"), "{out}");
    }

    #[tokio::test]
    async fn a_third_argument_ignores_separators() {
        let ctx = SessionContext::new();
        let phrases = normalize_phrases(["加微信"]);
        let ignore = Matcher::with_separators(phrases.clone(), Vec::new(), &[], Separators::Ignore);
        register(
            &ctx,
            Arc::new(HashMap::from([
                (
                    "offsite".to_string(),
                    Arc::new(Matcher::new(phrases, Vec::new(), &[])),
                ),
                (registry_key("offsite", Separators::Ignore), Arc::new(ignore)),
            ])),
        );
        let batches = ctx
            .sql(
                "SELECT zj_contains_any(t, 'offsite') AS plain, zj_contains_any(t, 'offsite', 'ignore') AS loose, \
                 zj_matches_norm(t, 'offsite', 'ignore') AS found, zj_contains_any(t, 'offsite', 'keep') AS kept \
                 FROM (VALUES ('加.微.信')) AS v(t)",
            )
            .await
            .expect("plans")
            .collect()
            .await
            .expect("runs");
        let out = pretty_format_batches(&batches).expect("prints").to_string();
        assert!(out.contains("| false | true  | [加微信] | false |"), "{out}");
        let err = ctx
            .sql("SELECT zj_contains_any('x', 'offsite', 'loose')")
            .await
            .expect("plans")
            .collect()
            .await
            .expect_err("no such mode");
        assert!(err.to_string().contains("'keep' or 'ignore'"), "{err}");
    }

    #[tokio::test]
    async fn unknown_lexicons_are_named() {
        let ctx = SessionContext::new();
        register(&ctx, Arc::new(HashMap::new()));
        let err = ctx
            .sql("SELECT zj_contains_any('x', 'nope')")
            .await
            .expect("plans")
            .collect()
            .await
            .expect_err("no such lexicon");
        assert!(err.to_string().contains("no lexicon \"nope\""), "{err}");
    }

    #[tokio::test]
    async fn normalize_and_similarity_in_sql() {
        let out = run("SELECT zj_normalize('Ａ Ｂ') AS n, zj_similarity('亲还在吗', '亲还在吗?') AS s").await;
        assert!(out.contains("| ab | 0.75 |"), "{out}");
    }
}
