//! Encoding of sessions as canonical JSON Lines or CSV records.

use super::GenFormat;
use super::agents::{Shop, TsStyle};
use super::clock::Local;
use super::session::{Role, Session};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

/// One canonical record; field order is the JSON key order.
#[derive(Serialize)]
struct Record<'a> {
    shop: &'a str,
    channel: &'a str,
    session_id: &'a str,
    msg_id: &'a str,
    ts: Ts<'a>,
    role: &'a str,
    agent_id: Option<&'a str>,
    customer_id: Option<&'a str>,
    text: &'a str,
    msg_type: &'a str,
}

/// A timestamp is a string or, for epoch-millisecond shops, a JSON number.
#[derive(Serialize)]
#[serde(untagged)]
enum Ts<'a> {
    Text(&'a str),
    Millis(i64),
}

pub const CSV_HEADER: &str = "shop,channel,session_id,msg_id,ts,role,agent_id,customer_id,text,msg_type\n";

/// Streams records into a buffered writer, counting what it wrote.
pub struct RecordWriter<W: Write> {
    out: BufWriter<W>,
    format: GenFormat,
    line: Vec<u8>,
    ts: String,
    msg_id: String,
    pub bytes: u64,
    pub messages: u64,
}

impl<W: Write> RecordWriter<W> {
    /// Wraps `out` (buffered here) and writes the CSV header if needed.
    pub fn new(out: W, format: GenFormat) -> io::Result<Self> {
        let mut w = RecordWriter {
            out: BufWriter::with_capacity(256 * 1024, out),
            format,
            line: Vec::with_capacity(1024),
            ts: String::with_capacity(32),
            msg_id: String::with_capacity(16),
            bytes: 0,
            messages: 0,
        };
        if format == GenFormat::Csv {
            w.out.write_all(CSV_HEADER.as_bytes())?;
            w.bytes += CSV_HEADER.len() as u64;
        }
        Ok(w)
    }

    pub fn write_session(&mut self, shop: &Shop, session_id: &str, session: &Session) -> io::Result<()> {
        for m in session.messages() {
            self.line.clear();
            self.ts.clear();
            self.msg_id.clear();
            let _ = write!(self.msg_id, "m{}", m.seq);
            let agent_id = (m.role == Role::Agent).then(|| shop.agents[m.agent].id.as_str());
            let customer_id = (m.role == Role::Customer).then_some(session.customer_id.as_str());
            let local = Local::at(m.ts);
            let ts = match (self.format, shop.ts_style) {
                (GenFormat::Jsonl, TsStyle::EpochMillis) => Ts::Millis(m.ts * 1000),
                (GenFormat::Jsonl, TsStyle::Rfc3339) => {
                    local.push_rfc3339(&mut self.ts);
                    Ts::Text(&self.ts)
                }
                // CSV always carries naive local time
                _ => {
                    local.push_naive(' ', &mut self.ts);
                    Ts::Text(&self.ts)
                }
            };
            let rec = Record {
                shop: &shop.id,
                channel: shop.channel,
                session_id,
                msg_id: &self.msg_id,
                ts,
                role: m.role.as_str(),
                agent_id,
                customer_id,
                text: &m.text,
                msg_type: m.kind.as_str(),
            };
            match self.format {
                GenFormat::Jsonl => {
                    serde_json::to_writer(&mut self.line, &rec).map_err(io::Error::from)?;
                    self.line.push(b'\n');
                }
                GenFormat::Csv => write_csv(&mut self.line, &rec),
            }
            self.out.write_all(&self.line)?;
            self.bytes += self.line.len() as u64;
            self.messages += 1;
        }
        Ok(())
    }

    /// Flushes and hands back the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

fn write_csv(line: &mut Vec<u8>, rec: &Record<'_>) {
    let ts = match rec.ts {
        Ts::Text(s) => s,
        // not produced for CSV; kept total for safety
        Ts::Millis(_) => "",
    };
    let fields = [
        rec.shop,
        rec.channel,
        rec.session_id,
        rec.msg_id,
        ts,
        rec.role,
        rec.agent_id.unwrap_or(""),
        rec.customer_id.unwrap_or(""),
        rec.text,
        rec.msg_type,
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        push_csv_field(line, f);
    }
    line.push(b'\n');
}

/// RFC 4180: quote a field containing a comma, quote, CR or LF; double the
/// quotes inside.
pub fn push_csv_field(line: &mut Vec<u8>, field: &str) {
    if field.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        line.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let mut v = Vec::new();
        push_csv_field(&mut v, "plain 文本");
        v.push(b'|');
        push_csv_field(&mut v, "a,b");
        v.push(b'|');
        push_csv_field(&mut v, "say \"hi\"");
        v.push(b'|');
        push_csv_field(&mut v, "two\nlines");
        assert_eq!(
            String::from_utf8(v).expect("utf8"),
            "plain 文本|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\""
        );
    }
}
