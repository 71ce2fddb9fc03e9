//! Arrow schemas of the canonical message record (design §3) and of the views (design §4).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Instants are stored in UTC with microsecond precision.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// The canonical record's fields, in schema order.
pub const CANONICAL_NAMES: [&str; 10] = [
    "shop",
    "channel",
    "session_id",
    "msg_id",
    "ts",
    "role",
    "agent_id",
    "customer_id",
    "text",
    "msg_type",
];

fn canonical_fields() -> Vec<Field> {
    vec![
        utf8("shop", false),
        utf8("channel", false),
        utf8("session_id", false),
        utf8("msg_id", false),
        Field::new("ts", timestamp_type(), false),
        utf8("role", false),
        utf8("agent_id", true),
        utf8("customer_id", true),
        utf8("text", false),
        utf8("msg_type", false),
    ]
}

/// The canonical message record, as written by `zhijian ingest`.
pub static CANONICAL: LazyLock<SchemaRef> = LazyLock::new(|| Arc::new(Schema::new(canonical_fields())));

/// Column index of `ord` in [`RAW`].
pub const RAW_ORD: usize = 10;

/// What ingest produces: the canonical record plus `ord`, the input order
/// (file index in sorted path order, then line), which breaks ties of equal `ts`
/// and decides which duplicate is kept.
pub static RAW: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = canonical_fields();
    fields.push(Field::new("ord", DataType::UInt64, false));
    Arc::new(Schema::new(fields))
});

/// The `messages` view: canonical columns plus position and local time.
pub static MESSAGES: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = canonical_fields();
    fields.extend([
        Field::new("seq", DataType::Int64, false),
        Field::new("local_date", DataType::Date32, false),
        Field::new("local_time", DataType::Time64(TimeUnit::Microsecond), false),
        utf8("norm_text", false),
        Field::new("session_date", DataType::Date32, false),
        // The last agent who sent a message before this one in the session: whom a
        // customer's or bot's message is attributed to.
        utf8("prev_agent_id", true),
    ]);
    Arc::new(Schema::new(fields))
});

pub static ROUNDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("shop", false),
        utf8("session_id", false),
        Field::new("round_no", DataType::Int64, false),
        Field::new("opened_at", timestamp_type(), false),
        utf8("open_msg_id", false),
        Field::new("open_seq", DataType::Int64, false),
        Field::new("customer_msgs", DataType::Int64, false),
        Field::new("closed_at", timestamp_type(), true),
        utf8("close_msg_id", true),
        Field::new("close_seq", DataType::Int64, true),
        utf8("responder_role", true),
        utf8("agent_id", true),
        Field::new("latency_s", DataType::Float64, true),
        Field::new("local_date", DataType::Date32, false),
        Field::new("local_time", DataType::Time64(TimeUnit::Microsecond), false),
        utf8("customer_id", true),
        Field::new("session_date", DataType::Date32, false),
    ]))
});

pub static SESSIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("shop", false),
        utf8("session_id", false),
        utf8("channel", false),
        utf8("customer_id", true),
        Field::new("started_at", timestamp_type(), false),
        Field::new("ended_at", timestamp_type(), false),
        Field::new("local_date", DataType::Date32, false),
        Field::new("messages", DataType::Int64, false),
        Field::new("customer_msgs", DataType::Int64, false),
        Field::new("agent_msgs", DataType::Int64, false),
        Field::new("bot_msgs", DataType::Int64, false),
        Field::new("system_msgs", DataType::Int64, false),
        Field::new("rounds", DataType::Int64, false),
        Field::new(
            "agents",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, false))),
            false,
        ),
    ]))
});

pub static AGENT_SESSIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("shop", false),
        utf8("session_id", false),
        utf8("agent_id", false),
        Field::new("first_msg_at", timestamp_type(), false),
        Field::new("last_msg_at", timestamp_type(), false),
        Field::new("agent_msgs", DataType::Int64, false),
        Field::new("session_date", DataType::Date32, false),
    ]))
});

/// Violations (design §7), the columns every rule's result is cast to.
pub static VIOLATIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        utf8("shop", false),
        utf8("session_id", false),
        utf8("agent_id", false),
        utf8("rule_id", false),
        utf8("rule_name", false),
        utf8("severity", false),
        Field::new("deduct", DataType::Float64, false),
        Field::new("bonus", DataType::Float64, false),
        utf8("msg_id", true),
        Field::new(
            "msg_ids",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            true,
        ),
        Field::new("ts", timestamp_type(), true),
        utf8("detail", true),
        utf8("evidence", true),
    ]))
});

/// `scorecards` (design §7): one row per (date, shop, agent), columns in this order.
pub static SCORECARDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    let float = |name: &str| Field::new(name, DataType::Float64, true);
    let count = |name: &str| Field::new(name, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        utf8("shop", false),
        utf8("agent_id", false),
        count("sessions"),
        count("agent_msgs"),
        count("rounds"),
        float("first_response_avg_s"),
        float("response_avg_s"),
        float("response_p90_s"),
        float("within_30s_rate"),
        float("within_180s_rate"),
        count("unanswered"),
        count("violations"),
        Field::new("deducted", DataType::Float64, false),
        Field::new("qa_score", DataType::Float64, false),
        count("critical_sessions"),
    ]))
});

/// `rule_hits` (design §7): one row per (date, shop, agent, rule) with hits.
pub static RULE_HITS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        utf8("shop", false),
        utf8("agent_id", false),
        utf8("rule_id", false),
        Field::new("hits", DataType::Int64, false),
        Field::new("points", DataType::Float64, false),
    ]))
});

/// `rounds.parquet`: the rounds view's design §4 columns, after the session date.
pub static ROUNDS_OUTPUT: LazyLock<SchemaRef> = LazyLock::new(|| {
    let internal = ["open_seq", "close_seq", "session_date"];
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    fields.extend(
        ROUNDS
            .fields()
            .iter()
            .filter(|f| !internal.contains(&f.name().as_str()))
            .map(|f| f.as_ref().clone()),
    );
    Arc::new(Schema::new(fields))
});

/// `inquiries.parquet` (design §8): one row per (date, shop, customer, agent) where
/// the agent closed at least one round of that customer in sessions of that date.
pub static INQUIRIES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        utf8("shop", false),
        utf8("customer_id", false),
        utf8("agent_id", false),
        Field::new("first_opened_at", timestamp_type(), false),
        Field::new("rounds", DataType::Int64, false),
        Field::new(
            "closed_at",
            DataType::List(Arc::new(Field::new_list_field(timestamp_type(), false))),
            false,
        ),
    ]))
});
