//! One field value as it arrived, before validation: a JSON scalar, a CSV cell or a
//! Parquet value. Keeping the source type lets validation say exactly what was wrong.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scalar<'a> {
    /// The field is absent.
    #[default]
    Missing,
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX`.
    BigInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    /// An array or object.
    Compound,
}

impl Scalar<'_> {
    /// How the value is described in a reject reason.
    pub fn describe(&self) -> String {
        match self {
            Scalar::Missing => "missing".into(),
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => format!("the boolean {b}"),
            Scalar::Int(i) => format!("the integer {i}"),
            Scalar::BigInt(i) => format!("the integer {i}"),
            Scalar::Float(f) => format!("the number {f}"),
            Scalar::Str(s) => format!("{s:?}"),
            Scalar::Compound => "an array or object".into(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor(std::marker::PhantomData))
    }
}

struct ScalarVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Scalar::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::BigInt(v), Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
}

/// The ten fields of a message record as they arrived. Unknown fields are ignored.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RawRecord<'a> {
    #[serde(borrow, default)]
    pub shop: Scalar<'a>,
    #[serde(borrow, default)]
    pub channel: Scalar<'a>,
    #[serde(borrow, default)]
    pub session_id: Scalar<'a>,
    #[serde(borrow, default)]
    pub msg_id: Scalar<'a>,
    #[serde(borrow, default)]
    pub ts: Scalar<'a>,
    #[serde(borrow, default)]
    pub role: Scalar<'a>,
    #[serde(borrow, default)]
    pub agent_id: Scalar<'a>,
    #[serde(borrow, default)]
    pub customer_id: Scalar<'a>,
    #[serde(borrow, default)]
    pub text: Scalar<'a>,
    #[serde(borrow, default)]
    pub msg_type: Scalar<'a>,
}

/// Parses one JSON line, with a reason a person understands on failure.
pub fn parse_json_line(line: &str) -> Result<RawRecord<'_>, String> {
    // serde would also take an array as a struct written positionally.
    if !line.trim_start().starts_with('{') {
        return Err("the line is not a JSON object".to_string());
    }
    serde_json::from_str(line).map_err(|err| {
        use serde_json::error::Category;
        let column = err.column();
        match err.classify() {
            Category::Eof => format!("invalid JSON: the line ends early (column {column})"),
            Category::Syntax => format!("invalid JSON at column {column}: {}", strip_position(&err)),
            Category::Data => format!("invalid record: {}", strip_position(&err)),
            Category::Io => format!("invalid JSON: {err}"),
        }
    })
}

fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_source_type() {
        let rec = parse_json_line(
            r#"{"shop": 12, "session_id": "s\"1", "msg_id": null, "ts": 1.5, "text": [1], "extra": {"a": 1}}"#,
        )
        .expect("valid JSON");
        assert_eq!(rec.shop, Scalar::Int(12));
        assert_eq!(rec.session_id, Scalar::Str(Cow::Borrowed("s\"1")));
        assert_eq!(rec.msg_id, Scalar::Null);
        assert_eq!(rec.ts, Scalar::Float(1.5));
        assert_eq!(rec.text, Scalar::Compound);
        assert_eq!(rec.role, Scalar::Missing);
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(
            parse_json_line(r#"{"shop": "a""#)
                .unwrap_err()
                .contains("ends early")
        );
        assert!(
            parse_json_line(r#"{"shop": NaN}"#)
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert_eq!(
            parse_json_line("[1, 2]").unwrap_err(),
            "the line is not a JSON object"
        );
        assert!(
            parse_json_line(r#"{"shop": "a", "shop": "b"}"#)
                .unwrap_err()
                .contains("duplicate field")
        );
    }
}
