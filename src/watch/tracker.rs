//! The live state: each session's open round (design §4 rounds, one message at a
//! time), the clock, and the alerts they imply. A round opens at a customer
//! message when none is open and closes at the first agent or bot message; it
//! raises `waiting` when the clock passes `opened_at + alert_after` (strictly)
//! before that, and `answered` when a waited round is closed. Sessions idle longer
//! than the session gap are dropped, so memory follows the live sessions only.
//!
//! Messages of a session that arrive out of time order are placed as the batch
//! views would where it matters: a reply older than the open question does not
//! close it, and a question older than the session's last reply does not open a
//! round (that reply answered it).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};

use chrono::Timelike;
use serde::{Deserialize, Serialize};

use super::alert::{Alert, seconds, time_text};
use super::critical::CriticalRules;
use super::source::Incoming;
use crate::ingest::record::Role;
use crate::timezone::{MICROS_PER_SECOND, TimeZones};

/// Status counts replies and agents over this window.
pub const RECENT_MICROS: i64 = 600 * MICROS_PER_SECOND;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// The newest message time seen.
    Event,
    /// The machine clock, set by the caller.
    Wall,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpenRound {
    pub round_no: u64,
    pub opened_at: i64,
    pub open_msg_id: String,
    pub alerted: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SessionState {
    pub rounds: u64,
    pub last_ts: i64,
    pub last_reply_ts: Option<i64>,
    pub last_agent: Option<String>,
    /// Message ids seen, so a repeated record counts once.
    pub seen: HashSet<String>,
    pub open: Option<OpenRound>,
}

#[derive(Debug, Default)]
struct ShopState {
    sessions: HashMap<String, SessionState>,
    /// Times of agent and bot messages in the recent window.
    replies: VecDeque<i64>,
    /// Agents by their last message time.
    agents: HashMap<String, i64>,
}

/// One shop's line of the periodic status.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopStatus {
    pub shop: String,
    pub waiting: usize,
    pub longest_wait_s: f64,
    pub replies_recent: usize,
    pub agents_active: usize,
}

/// What survives a restart: the clock and every live session.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TrackerState {
    pub clock: i64,
    /// shop → session id → state.
    pub sessions: BTreeMap<String, BTreeMap<String, SessionState>>,
}

pub struct Tracker {
    mode: ClockMode,
    alert_after: i64,
    session_gap: i64,
    zones: TimeZones,
    critical: CriticalRules,
    clock: i64,
    shops: BTreeMap<String, ShopState>,
    /// (deadline, shop, session, round), earliest first; stale entries are skipped.
    deadlines: BinaryHeap<Reverse<(i64, String, String, u64)>>,
}

impl Tracker {
    pub fn new(
        mode: ClockMode,
        alert_after: i64,
        session_gap: i64,
        zones: TimeZones,
        critical: CriticalRules,
    ) -> Self {
        Self {
            mode,
            alert_after,
            session_gap,
            zones,
            critical,
            clock: i64::MIN,
            shops: BTreeMap::new(),
            deadlines: BinaryHeap::new(),
        }
    }

    pub fn clock(&self) -> i64 {
        self.clock
    }

    /// The next instant a waiting alert may be due, if any round is open.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.peek().map(|Reverse((at, ..))| *at)
    }

    /// Moves the clock forward to `now` and raises what became due.
    pub fn advance_to(&mut self, now: i64, out: &mut Vec<Alert>) {
        self.clock = self.clock.max(now);
        while let Some(Reverse((due, ..))) = self.deadlines.peek() {
            if *due >= self.clock {
                break;
            }
            let Reverse((_, shop, session_id, round_no)) = self.deadlines.pop().expect("peeked");
            let zone = self.zones.for_shop(&shop);
            let Some(state) = self
                .shops
                .get_mut(&shop)
                .and_then(|s| s.sessions.get_mut(&session_id))
            else {
                continue;
            };
            let Some(open) = state
                .open
                .as_mut()
                .filter(|o| o.round_no == round_no && !o.alerted)
            else {
                continue;
            };
            open.alerted = true;
            out.push(Alert::Waiting {
                opened_at: time_text(open.opened_at, zone),
                waited_s: seconds(self.clock - open.opened_at),
                at: time_text(self.clock, zone),
                open_msg_id: open.open_msg_id.clone(),
                shop,
                session_id,
            });
        }
    }

    /// Takes one message: first the clock (event time), then the round, then the
    /// critical rules.
    pub fn apply(&mut self, msg: &Incoming, out: &mut Vec<Alert>) {
        if self.mode == ClockMode::Event {
            self.advance_to(msg.ts, out);
        }
        if !self.shops.contains_key(&msg.shop) {
            self.shops.insert(msg.shop.clone(), ShopState::default());
        }
        let shop = self.shops.get_mut(&msg.shop).expect("inserted");
        if !shop.sessions.contains_key(&msg.session_id) {
            shop.sessions
                .insert(msg.session_id.clone(), SessionState::default());
        }
        let session = shop.sessions.get_mut(&msg.session_id).expect("inserted");
        if !session.seen.insert(msg.msg_id.clone()) {
            return; // a repeated record counts once
        }
        session.last_ts = session.last_ts.max(msg.ts);
        let zone = self.zones.for_shop(&msg.shop);
        let by = match msg.role {
            Role::Agent => msg.agent_id.clone(),
            _ => session.last_agent.clone(),
        };
        match msg.role {
            Role::Customer => {
                let answered_later = session.last_reply_ts.is_some_and(|r| msg.ts < r);
                if session.open.is_none() && !answered_later {
                    session.rounds += 1;
                    session.open = Some(OpenRound {
                        round_no: session.rounds,
                        opened_at: msg.ts,
                        open_msg_id: msg.msg_id.clone(),
                        alerted: false,
                    });
                    let due = msg.ts.saturating_add(self.alert_after);
                    self.deadlines.push(Reverse((
                        due,
                        msg.shop.clone(),
                        msg.session_id.clone(),
                        session.rounds,
                    )));
                }
            }
            Role::Agent | Role::Bot => {
                if let Some(agent) = msg.agent_id.as_ref().filter(|_| msg.role == Role::Agent) {
                    session.last_agent = Some(agent.clone());
                    shop.agents.insert(agent.clone(), msg.ts);
                }
                shop.replies.push_back(msg.ts);
                session.last_reply_ts = Some(session.last_reply_ts.map_or(msg.ts, |r| r.max(msg.ts)));
                if let Some(open) = session.open.take_if(|o| msg.ts >= o.opened_at)
                    && open.alerted
                {
                    out.push(Alert::Answered {
                        shop: msg.shop.clone(),
                        session_id: msg.session_id.clone(),
                        open_msg_id: open.open_msg_id,
                        opened_at: time_text(open.opened_at, zone),
                        waited_s: seconds(msg.ts - open.opened_at),
                        at: time_text(self.clock.max(msg.ts), zone),
                        agent_id: msg.agent_id.clone().filter(|_| msg.role == Role::Agent),
                    });
                }
            }
            Role::System => {}
        }
        let local = chrono::DateTime::from_timestamp_micros(msg.ts).map(|t| t.with_timezone(&zone));
        let seconds_of_day = local.map_or(0, |t| t.num_seconds_from_midnight());
        for rule_id in self.critical.hits(msg.role, &msg.text, seconds_of_day) {
            out.push(Alert::Critical {
                shop: msg.shop.clone(),
                session_id: msg.session_id.clone(),
                msg_id: msg.msg_id.clone(),
                agent_id: by.clone().unwrap_or_else(|| "(unassigned)".to_string()),
                rule_id: rule_id.to_string(),
                at: time_text(self.clock.max(msg.ts), zone),
            });
        }
    }

    /// Drops sessions idle longer than the session gap; returns how many.
    pub fn expire(&mut self) -> usize {
        let (clock, gap) = (self.clock, self.session_gap);
        let mut dropped = 0;
        for shop in self.shops.values_mut() {
            let before = shop.sessions.len();
            shop.sessions
                .retain(|_, s| clock.saturating_sub(s.last_ts) <= gap);
            dropped += before - shop.sessions.len();
        }
        dropped
    }

    pub fn live_sessions(&self) -> usize {
        self.shops.values().map(|s| s.sessions.len()).sum()
    }

    /// One status per shop seen, by shop.
    pub fn status(&mut self) -> Vec<ShopStatus> {
        let since = self.clock.saturating_sub(RECENT_MICROS);
        let clock = self.clock;
        self.shops
            .iter_mut()
            .map(|(name, shop)| {
                while shop.replies.front().is_some_and(|t| *t <= since) {
                    shop.replies.pop_front();
                }
                shop.agents.retain(|_, last| *last > since);
                let open: Vec<i64> = shop
                    .sessions
                    .values()
                    .filter_map(|s| s.open.as_ref())
                    .map(|o| o.opened_at)
                    .collect();
                ShopStatus {
                    shop: name.clone(),
                    waiting: open.len(),
                    longest_wait_s: open.iter().map(|t| seconds(clock - t)).fold(0.0, f64::max),
                    replies_recent: shop.replies.len(),
                    agents_active: shop.agents.len(),
                }
            })
            .collect()
    }

    pub fn save(&self) -> TrackerState {
        TrackerState {
            clock: self.clock,
            sessions: self
                .shops
                .iter()
                .map(|(shop, s)| {
                    (
                        shop.clone(),
                        s.sessions.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    )
                })
                .collect(),
        }
    }

    pub fn restore(&mut self, state: TrackerState) {
        self.clock = state.clock;
        for (shop, sessions) in state.sessions {
            for (id, session) in &sessions {
                if let Some(open) = session.open.as_ref().filter(|o| !o.alerted) {
                    let due = open.opened_at.saturating_add(self.alert_after);
                    self.deadlines
                        .push(Reverse((due, shop.clone(), id.clone(), open.round_no)));
                }
            }
            let entry = self.shops.entry(shop).or_default();
            entry.sessions = sessions.into_iter().collect();
        }
    }
}
