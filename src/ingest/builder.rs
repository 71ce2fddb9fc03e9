//! Arrow builders for the raw message batch ([`crate::schema::RAW`]).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, RecordBatch, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};

use crate::ingest::record::Message;
use crate::schema::RAW;

pub struct RawBatchBuilder {
    shop: StringBuilder,
    channel: StringBuilder,
    session_id: StringBuilder,
    msg_id: StringBuilder,
    ts: TimestampMicrosecondBuilder,
    role: StringBuilder,
    agent_id: StringBuilder,
    customer_id: StringBuilder,
    text: StringBuilder,
    msg_type: StringBuilder,
    ord: UInt64Builder,
}

impl RawBatchBuilder {
    /// `rows` and `text_bytes` are capacity hints.
    pub fn with_capacity(rows: usize, text_bytes: usize) -> Self {
        let ids = || StringBuilder::with_capacity(rows, rows * 12);
        Self {
            shop: ids(),
            channel: ids(),
            session_id: ids(),
            msg_id: ids(),
            ts: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            role: StringBuilder::with_capacity(rows, rows * 8),
            agent_id: ids(),
            customer_id: ids(),
            text: StringBuilder::with_capacity(rows, text_bytes),
            msg_type: StringBuilder::with_capacity(rows, rows * 4),
            ord: UInt64Builder::with_capacity(rows),
        }
    }

    pub fn len(&self) -> usize {
        self.ord.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, msg: &Message<'_>, ord: u64) {
        self.shop.append_value(&msg.shop);
        self.channel.append_value(&msg.channel);
        self.session_id.append_value(&msg.session_id);
        self.msg_id.append_value(&msg.msg_id);
        self.ts.append_value(msg.ts_micros);
        self.role.append_value(msg.role.as_str());
        self.agent_id.append_option(msg.agent_id.as_deref());
        self.customer_id.append_option(msg.customer_id.as_deref());
        self.text.append_value(&msg.text);
        self.msg_type.append_value(&msg.msg_type);
        self.ord.append_value(ord);
    }

    pub fn finish(mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.shop.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.session_id.finish()),
            Arc::new(self.msg_id.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.role.finish()),
            Arc::new(self.agent_id.finish()),
            Arc::new(self.customer_id.finish()),
            Arc::new(self.text.finish()),
            Arc::new(self.msg_type.finish()),
            Arc::new(self.ord.finish()),
        ];
        RecordBatch::try_new(RAW.clone(), columns).expect("builders follow the RAW schema")
    }
}
