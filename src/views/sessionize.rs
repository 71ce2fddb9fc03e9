//! The one ordered pass over a partition sorted by `(shop, session_id, ts, ord)`.
//! It walks each session once: drops duplicate messages, numbers the rest (`seq`),
//! and finds rounds (首问首答), sessions and agent sessions. It records only row
//! indices and counters; [`super::assemble`] gathers the columns.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{TimestampMicrosecondType, UInt64Type};

use crate::schema::RAW_ORD;
use crate::timezone::{MICROS_PER_DAY, MICROS_PER_SECOND, TimeZones, offset_micros};

/// Per input row: local date (days since epoch) and time of day (µs) in the shop's zone.
#[derive(Debug, Default)]
pub struct LocalClock {
    pub date: Vec<i32>,
    pub time: Vec<i64>,
}

/// Kept messages in session order.
#[derive(Debug, Default)]
pub struct MessageRows {
    pub row: Vec<u32>,
    pub seq: Vec<i64>,
    pub session_date: Vec<i32>,
    /// The row of the last agent message before this one in the session.
    pub prev_agent_row: Vec<Option<u32>>,
}

#[derive(Debug, Default)]
pub struct RoundRows {
    pub open_row: Vec<u32>,
    pub open_seq: Vec<i64>,
    pub round_no: Vec<i64>,
    pub customer_msgs: Vec<i64>,
    /// The closing agent or bot message; `None` for a round nobody closed.
    pub close_row: Vec<Option<u32>>,
    pub close_seq: Vec<Option<i64>>,
    /// Where the round's customer id comes from: the opening message, else the
    /// session's first message that has one.
    pub customer_row: Vec<Option<u32>>,
    pub session_date: Vec<i32>,
}

#[derive(Debug, Default)]
pub struct SessionRows {
    pub first_row: Vec<u32>,
    pub last_row: Vec<u32>,
    pub customer_row: Vec<Option<u32>>,
    pub date: Vec<i32>,
    pub messages: Vec<i64>,
    /// Messages per role: customer, agent, bot, system.
    pub by_role: [Vec<i64>; 4],
    pub rounds: Vec<i64>,
    /// Each agent's first message row, in order of first appearance; session `i`
    /// owns `agent_rows[agent_offsets[i]..agent_offsets[i + 1]]`.
    pub agent_rows: Vec<u32>,
    pub agent_offsets: Vec<i32>,
}

#[derive(Debug, Default)]
pub struct AgentSessionRows {
    pub first_row: Vec<u32>,
    pub last_row: Vec<u32>,
    pub agent_msgs: Vec<i64>,
    pub session_date: Vec<i32>,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub local: LocalClock,
    pub messages: MessageRows,
    pub rounds: RoundRows,
    pub sessions: SessionRows,
    pub agent_sessions: AgentSessionRows,
    pub duplicates: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Customer,
    Agent,
    Bot,
    System,
}

/// Typed views of the raw columns the walk reads.
struct Columns<'a> {
    shop: &'a StringArray,
    session_id: &'a StringArray,
    msg_id: &'a StringArray,
    ts: &'a [i64],
    role: &'a StringArray,
    agent_id: &'a StringArray,
    customer_id: &'a StringArray,
    ord: &'a [u64],
}

impl<'a> Columns<'a> {
    fn new(batch: &'a RecordBatch) -> Self {
        let text = |name: &str| batch.column_by_name(name).expect("RAW schema").as_string::<i32>();
        Self {
            shop: text("shop"),
            session_id: text("session_id"),
            msg_id: text("msg_id"),
            ts: batch
                .column_by_name("ts")
                .expect("RAW schema")
                .as_primitive::<TimestampMicrosecondType>()
                .values(),
            role: text("role"),
            agent_id: text("agent_id"),
            customer_id: text("customer_id"),
            ord: batch.column(RAW_ORD).as_primitive::<UInt64Type>().values(),
        }
    }

    fn role(&self, row: usize) -> Role {
        // Ingest wrote one of the four lower-case names.
        match self.role.value(row).as_bytes().first() {
            Some(b'c') => Role::Customer,
            Some(b'a') => Role::Agent,
            Some(b'b') => Role::Bot,
            _ => Role::System,
        }
    }

    fn same_session(&self, a: usize, b: usize) -> bool {
        self.session_id.value(a) == self.session_id.value(b) && self.shop.value(a) == self.shop.value(b)
    }
}

fn local_clock(cols: &Columns<'_>, zones: &TimeZones) -> LocalClock {
    let rows = cols.ts.len();
    let mut clock = LocalClock {
        date: Vec::with_capacity(rows),
        time: Vec::with_capacity(rows),
    };
    let mut zone = zones.default_zone();
    // Offsets change only at zone transitions, which fall on quarter hours: one
    // lookup per quarter hour of UTC serves the messages around it.
    const QUARTER_HOUR: i64 = 900 * MICROS_PER_SECOND;
    let mut cached: Option<(i64, i64)> = None;
    for row in 0..rows {
        if row == 0 || cols.shop.value(row) != cols.shop.value(row - 1) {
            let next = zones.for_shop(cols.shop.value(row));
            if next != zone {
                cached = None;
            }
            zone = next;
        }
        let ts = cols.ts[row];
        let bucket = ts.div_euclid(QUARTER_HOUR);
        let offset = match cached {
            Some((b, offset)) if b == bucket => offset,
            _ => {
                let offset = offset_micros(zone, ts);
                cached = Some((bucket, offset));
                offset
            }
        };
        let local = ts + offset;
        clock
            .date
            .push(i32::try_from(local.div_euclid(MICROS_PER_DAY)).unwrap_or(i32::MAX));
        clock.time.push(local.rem_euclid(MICROS_PER_DAY));
    }
    clock
}

struct OpenRound {
    row: u32,
    seq: i64,
    customer_msgs: i64,
}

/// Walks a sorted partition (schema [`crate::schema::RAW`]).
pub fn walk(batch: &RecordBatch, zones: &TimeZones) -> Walk {
    let cols = Columns::new(batch);
    let rows = batch.num_rows();
    let mut walk = Walk {
        local: local_clock(&cols, zones),
        ..Walk::default()
    };
    walk.sessions.agent_offsets.push(0);
    let mut scratch = Scratch::default();
    let mut start = 0;
    while start < rows {
        let mut end = start + 1;
        while end < rows && cols.same_session(start, end) {
            end += 1;
        }
        walk_session(&cols, start..end, &mut walk, &mut scratch);
        start = end;
    }
    walk
}

/// Buffers reused from session to session.
#[derive(Default)]
struct Scratch<'a> {
    rows: Vec<u32>,
    first_seen: HashMap<&'a str, usize>,
    /// (agent id, first row, last row, messages) in order of first appearance.
    agents: Vec<(&'a str, u32, u32, i64)>,
}

fn walk_session<'a>(
    cols: &Columns<'a>,
    range: std::ops::Range<usize>,
    walk: &mut Walk,
    scratch: &mut Scratch<'a>,
) {
    // Duplicates of (shop, session_id, msg_id): the first in input order is kept.
    scratch.rows.clear();
    scratch.first_seen.clear();
    let mut reordered = false;
    for row in range {
        match scratch.first_seen.entry(cols.msg_id.value(row)) {
            Entry::Vacant(slot) => {
                slot.insert(scratch.rows.len());
                scratch.rows.push(row as u32);
            }
            Entry::Occupied(slot) => {
                walk.duplicates += 1;
                let kept = &mut scratch.rows[*slot.get()];
                if cols.ord[row] < cols.ord[*kept as usize] {
                    *kept = row as u32;
                    reordered = true;
                }
            }
        }
    }
    if reordered {
        scratch
            .rows
            .sort_by_key(|&r| (cols.ts[r as usize], cols.ord[r as usize]));
    }

    let first = scratch.rows[0];
    let date = walk.local.date[first as usize];
    let rounds_before = walk.rounds.open_row.len();
    let mut open: Option<OpenRound> = None;
    let mut round_no = 0i64;
    let mut by_role = [0i64; 4];
    let mut customer_row: Option<u32> = None;
    let mut last_agent_row: Option<u32> = None;
    scratch.agents.clear();

    for (i, &row) in scratch.rows.iter().enumerate() {
        let r = row as usize;
        let seq = i as i64 + 1;
        walk.messages.row.push(row);
        walk.messages.seq.push(seq);
        walk.messages.session_date.push(date);
        walk.messages.prev_agent_row.push(last_agent_row);
        if customer_row.is_none() && cols.customer_id.is_valid(r) {
            customer_row = Some(row);
        }
        let role = cols.role(r);
        by_role[role as usize] += 1;
        match role {
            Role::Customer => match &mut open {
                Some(round) => round.customer_msgs += 1,
                None => {
                    open = Some(OpenRound {
                        row,
                        seq,
                        customer_msgs: 1,
                    });
                }
            },
            Role::Agent | Role::Bot => {
                if role == Role::Agent {
                    last_agent_row = Some(row);
                    let agent = cols.agent_id.value(r);
                    match scratch.agents.iter_mut().find(|a| a.0 == agent) {
                        Some(entry) => {
                            entry.2 = row;
                            entry.3 += 1;
                        }
                        None => scratch.agents.push((agent, row, row, 1)),
                    }
                }
                if let Some(round) = open.take() {
                    round_no += 1;
                    push_round(walk, cols, &round, round_no, Some((row, seq)), date);
                }
            }
            Role::System => {}
        }
    }
    if let Some(round) = open.take() {
        round_no += 1;
        push_round(walk, cols, &round, round_no, None, date);
    }
    // The session's first customer id is known only now.
    for slot in &mut walk.rounds.customer_row[rounds_before..] {
        if slot.is_none() {
            *slot = customer_row;
        }
    }

    let sessions = &mut walk.sessions;
    sessions.first_row.push(first);
    sessions
        .last_row
        .push(*scratch.rows.last().expect("a session has a message"));
    sessions.customer_row.push(customer_row);
    sessions.date.push(date);
    sessions.messages.push(scratch.rows.len() as i64);
    for (column, n) in sessions.by_role.iter_mut().zip(by_role) {
        column.push(n);
    }
    sessions.rounds.push(round_no);
    sessions.agent_rows.extend(scratch.agents.iter().map(|a| a.1));
    sessions.agent_offsets.push(sessions.agent_rows.len() as i32);
    for &(_, first_row, last_row, msgs) in &scratch.agents {
        walk.agent_sessions.first_row.push(first_row);
        walk.agent_sessions.last_row.push(last_row);
        walk.agent_sessions.agent_msgs.push(msgs);
        walk.agent_sessions.session_date.push(date);
    }
}

fn push_round(
    walk: &mut Walk,
    cols: &Columns<'_>,
    round: &OpenRound,
    round_no: i64,
    close: Option<(u32, i64)>,
    date: i32,
) {
    let rounds = &mut walk.rounds;
    rounds.open_row.push(round.row);
    rounds.open_seq.push(round.seq);
    rounds.round_no.push(round_no);
    rounds.customer_msgs.push(round.customer_msgs);
    rounds.close_row.push(close.map(|c| c.0));
    rounds.close_seq.push(close.map(|c| c.1));
    rounds
        .customer_row
        .push(cols.customer_id.is_valid(round.row as usize).then_some(round.row));
    rounds.session_date.push(date);
}
