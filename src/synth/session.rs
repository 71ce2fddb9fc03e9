//! Simulation of one chat session: who says what, when.
//!
//! A session is a short script (opening, a few topics with follow-ups, an
//! ending) whose choices and delays come from the session's own PRNG and the
//! personality of the serving agent. Violations and quirks QA rules should
//! find are sprinkled at the rates below.

use super::agents::Shop;
use super::dialogue::{self as d, Topic, Vars, render};
use super::rng::Rng;

// Rates of sprinkled phenomena. The per-answer violation rates are scaled by
// the agent's personality multipliers (mean ~1); only content answers can
// carry a violation (not greetings or closings), and they are about 60% of
// agent messages, so these give roughly 0.3% / 0.5% / 0.5% of all agent
// messages.
pub const OFF_PLATFORM_RATE: f64 = 0.0035;
pub const RUDE_RATE: f64 = 0.008;
pub const ABSOLUTE_CLAIM_RATE: f64 = 0.008;
/// Share of daytime sessions that end on a customer message nobody answered.
pub const UNANSWERED_RATE: f64 = 0.03;
pub const TRANSFER_RATE: f64 = 0.055;
/// Sessions where two adjacent export lines are swapped.
pub const SWAP_RATE: f64 = 0.01;
/// Sessions where the customer types a phone number or e-mail address.
pub const PII_RATE: f64 = 0.015;
/// Chance that the bot answers an FAQ topic (发货时间, 包邮) during the day.
pub const BOT_FAQ_RATE: f64 = 0.5;
/// Chance of a stray customer image (screenshot) with a question.
pub const CUSTOMER_IMAGE_RATE: f64 = 0.06;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
    Bot,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Bot => "bot",
            Role::System => "system",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    Text,
    Image,
    Card,
    Order,
}

impl MsgType {
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Text => "text",
            MsgType::Image => "image",
            MsgType::Card => "card",
            MsgType::Order => "order",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Msg {
    /// Unix seconds (UTC); whole seconds so every export style agrees.
    pub ts: i64,
    pub role: Role,
    /// Index into `Shop::agents`; meaningful only for `Role::Agent`.
    pub agent: usize,
    pub kind: MsgType,
    pub text: String,
    /// 1-based creation order, the basis of `msg_id`.
    pub seq: u32,
}

/// One session's messages. Reused across sessions so the text buffers are
/// allocated once, not per message.
#[derive(Debug, Default)]
pub struct Session {
    msgs: Vec<Msg>,
    len: usize,
    pub customer_id: String,
}

impl Session {
    pub fn messages(&self) -> &[Msg] {
        &self.msgs[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, ts: i64, role: Role, agent: usize, kind: MsgType) -> &mut String {
        let seq = self.len as u32 + 1;
        if self.len == self.msgs.len() {
            self.msgs.push(Msg {
                ts,
                role,
                agent,
                kind,
                text: String::new(),
                seq,
            });
        }
        let m = &mut self.msgs[self.len];
        self.len += 1;
        m.ts = ts;
        m.role = role;
        m.agent = agent;
        m.kind = kind;
        m.seq = seq;
        m.text.clear();
        &mut m.text
    }

    fn last_text(&mut self) -> Option<&mut String> {
        self.msgs[..self.len].last_mut().map(|m| &mut m.text)
    }
}

/// Where and how a session starts.
#[derive(Debug, Clone, Copy)]
pub struct SessionSpec {
    /// Unix seconds of the first message.
    pub start: i64,
    /// Seconds since local midnight at `start`.
    pub local_secs: u32,
    /// Make it a long daytime session that runs past local midnight
    /// (used for the forced 23:5x session of each day).
    pub cross_midnight: bool,
}

/// Fills `out` with one session (clearing what it held).
pub fn simulate(shop: &Shop, spec: &SessionSpec, rng: Rng, out: &mut Session) {
    out.clear();
    let mut sim = Sim {
        shop,
        rng,
        out,
        t: spec.start,
        agent: 0,
        item: "",
    };
    sim.item = *sim.rng.pick(shop.category.items());
    shop.draw_customer(&mut sim.rng, &mut sim.out.customer_id);
    sim.agent = shop.pick_agent(&mut sim.rng);

    if spec.local_secs < d::NIGHT_END_SECS && !spec.cross_midnight {
        sim.night_session();
    } else {
        sim.day_session(spec.cross_midnight);
    }

    if spec.cross_midnight {
        // Guarantee the crossing: the platform closes the idle chat later.
        let midnight = spec.start - i64::from(spec.local_secs) + 86_400;
        if sim.t < midnight {
            sim.t = midnight + sim.rng.range(30, 600) as i64;
            sim.say_raw(Role::System, MsgType::Text, d::SYSTEM_LEFT);
        }
    }

    // Exports are sometimes slightly out of order; consumers sort by ts.
    let n = sim.out.len;
    if n >= 2 && sim.rng.chance(SWAP_RATE) {
        let i = sim.rng.index(n - 1);
        sim.out.msgs.swap(i, i + 1);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Last message is a customer question nobody answered.
    Unanswered,
    /// The customer says thanks; the agent may close.
    CustomerThanks,
    /// The agent closes; the customer may say 好的.
    AgentCloses,
    /// The customer goes quiet; the agent may chase.
    Silent,
    /// The platform reports the customer left.
    Left,
}

/// Template variables for the current speaker. A free function (not a
/// method) so the borrow is of the shop, not of the whole simulator.
fn vars<'a>(shop: &'a Shop, agent: usize, item: &'a str) -> Vars<'a> {
    Vars {
        shop: &shop.name,
        nick: shop.agents[agent].nick,
        bot: shop.bot_name,
        item,
    }
}

struct Sim<'a> {
    shop: &'a Shop,
    rng: Rng,
    out: &'a mut Session,
    /// Current time, Unix seconds.
    t: i64,
    /// Serving agent (index into `shop.agents`).
    agent: usize,
    item: &'static str,
}

impl Sim<'_> {
    // ---- low-level emission -------------------------------------------

    /// Emits a message rendered from a template at the current time.
    fn say(&mut self, role: Role, kind: MsgType, tpl: &str) {
        let vars = vars(self.shop, self.agent, self.item);
        let text = self.out.push(self.t, role, self.agent, kind);
        render(tpl, &vars, &mut self.rng, text);
    }

    /// Emits a message whose text is used verbatim.
    fn say_raw(&mut self, role: Role, kind: MsgType, text: &str) {
        self.out.push(self.t, role, self.agent, kind).push_str(text);
    }

    fn say_pick(&mut self, role: Role, bank: &[&str]) {
        let tpl = *self.rng.pick(bank);
        self.say(role, MsgType::Text, tpl);
    }

    fn image(&mut self, role: Role) {
        self.out.push(self.t, role, self.agent, MsgType::Image);
    }

    // ---- time -----------------------------------------------------------

    /// Advances the clock, at least one second so timestamps strictly grow.
    fn wait(&mut self, secs: f64) {
        self.t += (secs.round() as i64).max(1);
    }

    /// Customer reading and typing the next turn.
    fn wait_customer(&mut self) {
        let s = self.rng.log_normal(22.0, 0.9).clamp(3.0, 1200.0);
        self.wait(s);
    }

    /// Gap between consecutive customer messages.
    fn wait_burst(&mut self) {
        let s = self.rng.log_normal(6.0, 0.6).clamp(1.0, 60.0);
        self.wait(s);
    }

    /// Gap between consecutive messages of the same agent.
    fn wait_typing(&mut self) {
        let s = self.rng.log_normal(7.0, 0.5).clamp(2.0, 60.0);
        self.wait(s);
    }

    fn wait_bot(&mut self) {
        let s = self.rng.uniform(1.0, 3.5);
        self.wait(s);
    }

    /// The serving agent's reply latency (heavy-tailed, personality-based).
    /// Long waits sometimes provoke a customer nudge (人呢) meanwhile.
    fn wait_agent(&mut self) {
        let a = &self.shop.agents[self.agent];
        let mut secs = self.rng.log_normal(a.latency_median, a.latency_sigma);
        if self.rng.chance(a.slow_tail) {
            secs += self.rng.uniform(180.0, 720.0);
        }
        let secs = secs.clamp(2.0, 1800.0);
        if secs > 150.0 && self.rng.chance(0.5) {
            let first = self.rng.uniform(60.0, secs * 0.7);
            self.wait(first);
            self.say_pick(Role::Customer, d::CUSTOMER_NUDGES);
            self.wait(secs - first);
        } else {
            self.wait(secs);
        }
    }

    // ---- building blocks ------------------------------------------------

    /// Picks up to `n` distinct topics of `bank` that fit the shop.
    fn pick_topics(&mut self, bank: &'static [Topic], n: usize) -> ([usize; 16], usize) {
        let mut idx = [0usize; 16];
        let mut len = 0;
        for (i, t) in bank.iter().enumerate().take(16) {
            if t.fits(self.shop.category) {
                idx[len] = i;
                len += 1;
            }
        }
        let n = n.min(len);
        for k in 0..n {
            let j = k + self.rng.index(len - k);
            idx.swap(k, j);
        }
        (idx, n)
    }

    /// The customer's question turn: the question plus, sometimes, more
    /// consecutive messages (details, photos, a phone number).
    fn ask(&mut self, topic: &Topic, pii: bool) {
        let quality = topic.name == "质量问题";
        let photo_first = quality && self.rng.chance(0.4);
        if photo_first {
            self.image(Role::Customer);
            self.wait_burst();
        }
        self.say_pick(Role::Customer, topic.asks);
        if quality && !photo_first && self.rng.chance(0.6) {
            self.wait_burst();
            self.image(Role::Customer);
            if self.rng.chance(0.4) {
                self.wait_burst();
                self.image(Role::Customer);
            }
        } else if self.rng.chance(CUSTOMER_IMAGE_RATE) {
            self.wait_burst();
            self.image(Role::Customer);
        }
        if self.rng.chance(0.3) {
            self.wait_burst();
            self.say_pick(Role::Customer, d::CUSTOMER_EXTRAS);
        }
        if pii {
            self.wait_burst();
            self.say_pick(Role::Customer, d::CUSTOMER_PII);
        }
    }

    /// The bot answers simple FAQ topics at once, if it takes this one.
    fn bot_faq(&mut self, topic: &Topic) -> bool {
        if topic.bot_answers.is_empty() || !self.rng.chance(BOT_FAQ_RATE) {
            return false;
        }
        self.wait_bot();
        self.say_pick(Role::Bot, topic.bot_answers);
        true
    }

    /// An agent content line, where violations may slip in.
    fn agent_says(&mut self, bank: &[&str]) {
        let a = &self.shop.agents[self.agent];
        let (shady, rude, boast, curt) = (a.shady, a.rude, a.boast, a.curt);
        if self.rng.chance(OFF_PLATFORM_RATE * shady) {
            if self.rng.chance(0.5) {
                // sometimes after a normal answer, sometimes instead of it
                self.say_pick(Role::Agent, bank);
                self.wait_typing();
            }
            self.say_pick(Role::Agent, d::OFF_PLATFORM);
        } else if self.rng.chance(RUDE_RATE * rude) {
            self.say_pick(Role::Agent, d::RUDE);
        } else {
            self.say_pick(Role::Agent, bank);
            if self.rng.chance(curt)
                && let Some(text) = self.out.last_text()
            {
                make_curt(text);
            }
            if self.rng.chance(ABSOLUTE_CLAIM_RATE * boast) {
                let tpl = *self.rng.pick(d::ABSOLUTE_CLAIMS);
                if self.rng.chance(0.6) {
                    let vars = vars(self.shop, self.agent, self.item);
                    if let Some(text) = self.out.last_text() {
                        text.push('，');
                        render(tpl, &vars, &mut self.rng, text);
                    }
                } else {
                    self.wait_typing();
                    self.say(Role::Agent, MsgType::Text, tpl);
                }
            }
        }
    }

    /// The agent's answer to a topic question (after its latency).
    fn answer(&mut self, topic: &Topic) {
        if self.rng.chance(0.12) {
            self.say_pick(Role::Agent, d::AGENT_HOLDS);
            let s = self.rng.uniform(15.0, 150.0);
            self.wait(s);
        }
        self.agent_says(topic.answers);
        if self.rng.chance(0.1) {
            self.wait_typing();
            let tpl = *self.rng.pick(d::AGENT_CARDS);
            self.say(Role::Agent, MsgType::Card, tpl);
        } else if self.rng.chance(0.03) {
            self.wait_typing();
            self.image(Role::Agent);
        }
    }

    /// Zero to two follow-up exchanges on the same topic.
    fn follow_ups(&mut self, topic: &Topic) {
        let pairs = topic.follow;
        let mut p = 0.6;
        let mut last = usize::MAX;
        for _ in 0..2.min(pairs.len()) {
            if !self.rng.chance(p) {
                break;
            }
            // never the same follow-up twice in a row
            let mut k = self.rng.index(pairs.len());
            if k == last {
                k = (k + 1) % pairs.len();
            }
            last = k;
            let (ask, answer) = pairs[k];
            self.wait_customer();
            self.say(Role::Customer, MsgType::Text, ask);
            self.wait_agent();
            self.agent_says(std::slice::from_ref(&answer));
            p = 0.35;
        }
    }

    /// System transfer to another agent, who greets and takes over.
    fn transfer(&mut self) {
        if self.rng.chance(0.7) {
            self.wait_agent();
            self.say_pick(Role::Agent, d::AGENT_TRANSFER_NOTICES);
        }
        let s = self.rng.uniform(3.0, 30.0);
        self.wait(s);
        let next = self.shop.pick_other_agent(self.agent, &mut self.rng);
        let text = self.out.push(self.t, Role::System, next, MsgType::Text);
        text.push_str(d::SYSTEM_TRANSFER_PREFIX);
        text.push_str(&self.shop.agents[next].id);
        self.agent = next;
        self.wait_agent();
        if self.rng.chance(self.shop.agents[next].greet) {
            self.say_pick(Role::Agent, d::AGENT_TRANSFER_GREETINGS);
            self.wait_typing();
        }
    }

    /// 三连发: 3-4 chase lines, verbatim or varied, after the customer went
    /// quiet.
    fn chase_run(&mut self) {
        let n = self.rng.range(3, 4) as usize;
        let identical = self.rng.chance(self.shop.agents[self.agent].chase_identical);
        let same = *self.rng.pick(d::CHASE_IDENTICAL);
        let mut order: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
        for k in 0..n {
            let j = k + self.rng.index(d::CHASE_VARIED.len().min(8) - k);
            order.swap(k, j);
        }
        let first = self.rng.uniform(60.0, 300.0);
        self.wait(first);
        for (k, &v) in order.iter().enumerate().take(n) {
            if k > 0 {
                let gap = self.rng.log_normal(20.0, 0.6).clamp(3.0, 180.0);
                self.wait(gap);
            }
            if identical {
                self.say_raw(Role::Agent, MsgType::Text, same);
            } else {
                self.say_raw(Role::Agent, MsgType::Text, d::CHASE_VARIED[v]);
            }
        }
    }

    fn customer_left(&mut self) {
        let s = self.rng.uniform(300.0, 900.0);
        self.wait(s);
        self.say_raw(Role::System, MsgType::Text, d::SYSTEM_LEFT);
    }

    // ---- session scripts -----------------------------------------------

    fn day_session(&mut self, long: bool) {
        let after_sale = self.rng.chance(0.38);
        let bank = if after_sale { d::AFTER_SALE } else { d::PRE_SALE };
        let wanted = if long {
            self.rng.range(3, 5)
        } else if after_sale {
            1 + self.rng.weighted(&[0.15, 0.35, 0.3, 0.2]) as u64
        } else {
            1 + self.rng.weighted(&[0.05, 0.2, 0.3, 0.25, 0.12, 0.08]) as u64
        };
        let transfer = self.rng.chance(TRANSFER_RATE);
        let wanted = if transfer { wanted.max(2) } else { wanted };
        let (topics, n) = self.pick_topics(bank, wanted as usize);
        let transfer_at = if transfer && n >= 2 {
            Some(1 + self.rng.index(n - 1))
        } else {
            None
        };
        let pii_at = if self.rng.chance(PII_RATE) {
            Some(self.rng.index(n))
        } else {
            None
        };
        let ending = if long {
            [Ending::CustomerThanks, Ending::AgentCloses, Ending::Silent][self.rng.index(3)]
        } else if self.rng.chance(UNANSWERED_RATE) {
            Ending::Unanswered
        } else {
            [
                Ending::CustomerThanks,
                Ending::AgentCloses,
                Ending::Silent,
                Ending::Left,
            ][self.rng.weighted(&[0.42, 0.26, 0.27, 0.05])]
        };
        let first = &bank[topics[0]];

        // Opening: product or order card, greeting, first question.
        if after_sale && self.rng.chance(0.55) {
            self.say(Role::Customer, MsgType::Order, d::CUSTOMER_ORDER_CARD);
            self.wait_burst();
        } else if !after_sale && self.rng.chance(0.35) {
            self.say(Role::Customer, MsgType::Card, d::CUSTOMER_PRODUCT_CARD);
            self.wait_burst();
        }
        let greets = self.rng.chance(0.55);
        if ending == Ending::Unanswered && self.rng.chance(0.25) {
            // Nobody ever picks this one up.
            if greets {
                self.say_pick(Role::Customer, d::CUSTOMER_GREETINGS);
                self.wait_burst();
            }
            self.ask(first, pii_at == Some(0));
            return;
        }
        let mut asked = false;
        if greets {
            self.say_pick(Role::Customer, d::CUSTOMER_GREETINGS);
            if self.rng.chance(0.4) {
                self.wait_burst();
                self.ask(first, pii_at == Some(0));
                asked = true;
            }
        } else {
            self.ask(first, pii_at == Some(0));
            asked = true;
        }
        let bot_took_it = asked && self.bot_faq(first);

        // The agent arrives: greeting (or a bare 在), then the first answer.
        self.wait_agent();
        let greet = self.shop.agents[self.agent].greet;
        let greeted = self.rng.chance(greet);
        if greeted {
            self.say_pick(Role::Agent, d::AGENT_GREETINGS);
        } else if !asked {
            self.say_pick(Role::Agent, d::AGENT_BARE_PRESENT);
        }
        if !asked {
            self.wait_customer();
            self.ask(first, pii_at == Some(0));
            let bot = self.bot_faq(first);
            if !(bot && self.rng.chance(0.5)) {
                self.wait_agent();
                self.answer(first);
            }
        } else if !(bot_took_it && self.rng.chance(0.5)) {
            if greeted {
                self.wait_typing();
            }
            self.answer(first);
        }
        self.follow_ups(first);

        for (i, &ti) in topics.iter().enumerate().take(n).skip(1) {
            let topic = &bank[ti];
            self.wait_customer();
            if self.rng.chance(0.35) {
                // 哦哦 / 好的, then the next question
                self.say_pick(Role::Customer, d::CUSTOMER_ACKS);
                self.wait_burst();
            }
            self.ask(topic, pii_at == Some(i));
            if transfer_at == Some(i) {
                self.transfer();
                self.answer(topic);
            } else if !(self.bot_faq(topic) && self.rng.chance(0.5)) {
                self.wait_agent();
                self.answer(topic);
            }
            self.follow_ups(topic);
        }

        self.ending(ending, bank);
    }

    fn ending(&mut self, ending: Ending, bank: &'static [Topic]) {
        let close = self.shop.agents[self.agent].close;
        match ending {
            Ending::Unanswered => {
                self.wait_customer();
                if self.rng.chance(0.6) {
                    let (topics, n) = self.pick_topics(bank, 1);
                    if n > 0 {
                        self.say_pick(Role::Customer, bank[topics[0]].asks);
                        return;
                    }
                }
                self.say_pick(Role::Customer, d::CUSTOMER_NUDGES);
            }
            Ending::CustomerThanks => {
                self.wait_customer();
                self.say_pick(Role::Customer, d::CUSTOMER_CLOSERS);
                if self.rng.chance(close) {
                    self.wait_agent();
                    self.say_pick(Role::Agent, d::AGENT_CLOSINGS);
                    if self.rng.chance(0.25) {
                        self.wait_customer();
                        self.say_pick(Role::Customer, d::CUSTOMER_CLOSERS);
                    }
                }
            }
            Ending::AgentCloses => {
                if self.rng.chance(close) {
                    self.wait_typing();
                    self.say_pick(Role::Agent, d::AGENT_CLOSINGS);
                }
                if self.rng.chance(0.55) {
                    self.wait_customer();
                    self.say_pick(Role::Customer, d::CUSTOMER_CLOSERS);
                }
            }
            Ending::Silent => {
                let chase = self.shop.agents[self.agent].chase;
                if self.rng.chance(chase) {
                    self.chase_run();
                } else if self.rng.chance(0.4) {
                    let s = self.rng.uniform(60.0, 300.0);
                    self.wait(s);
                    self.say_pick(Role::Agent, d::AGENT_SINGLE_CHASE);
                }
                if self.rng.chance(0.35) {
                    self.customer_left();
                }
            }
            Ending::Left => self.customer_left(),
        }
    }

    /// 00:00-08:30: only the bot answers.
    fn night_session(&mut self) {
        let after_sale = self.rng.chance(0.35);
        let bank = if after_sale { d::AFTER_SALE } else { d::PRE_SALE };
        let rounds = 1 + self.rng.weighted(&[0.4, 0.35, 0.25]);
        let (topics, n) = self.pick_topics(bank, rounds);
        if self.rng.chance(0.5) {
            self.say_pick(Role::Customer, d::CUSTOMER_GREETINGS);
            self.wait_burst();
        }
        for (i, &ti) in topics.iter().enumerate().take(n) {
            let topic = &bank[ti];
            if i > 0 {
                self.wait_customer();
            }
            self.ask(topic, false);
            self.wait_bot();
            if i == 0 {
                self.say_pick(Role::Bot, d::BOT_NIGHT_GREETINGS);
                self.wait_bot();
            }
            if topic.bot_answers.is_empty() {
                self.say_pick(Role::Bot, d::BOT_FALLBACKS);
            } else {
                self.say_pick(Role::Bot, topic.bot_answers);
            }
        }
        match self.rng.weighted(&[0.35, 0.3, 0.35]) {
            0 => {
                self.wait_customer();
                self.say_pick(Role::Customer, d::CUSTOMER_CLOSERS);
            }
            1 => {
                self.wait_customer();
                self.say_pick(Role::Customer, d::CUSTOMER_NIGHT_LEAVE_MSG);
                // the bot confirms, so the session does not end unanswered
                self.wait_bot();
                self.say_pick(Role::Bot, d::BOT_NIGHT_ACKS);
            }
            _ => self.customer_left(),
        }
    }
}

/// Curt agents drop the 亲 and the softening particles: 亲，有现货的哦~ ->
/// 有现货的.
fn make_curt(text: &mut String) {
    for prefix in ["亲亲，", "好的亲，", "亲，", "亲,"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            *text = rest.to_string();
            break;
        }
    }
    while let Some(suffix) = ["哦~", "~", "哦", "呢", "啦"]
        .iter()
        .find(|s| text.ends_with(*s) && text.len() > s.len())
    {
        text.truncate(text.len() - suffix.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, n: u64, local_secs: u32) -> Vec<Session> {
        let shop = Shop::new(seed, 0, 100);
        (0..n)
            .map(|i| {
                let mut s = Session::default();
                let spec = SessionSpec {
                    start: 1_794_326_400 + i64::from(local_secs),
                    local_secs,
                    cross_midnight: false,
                };
                simulate(&shop, &spec, Rng::derived(seed, &[i]), &mut s);
                s
            })
            .collect()
    }

    #[test]
    fn sessions_are_nonempty_and_mostly_time_ordered() {
        let sessions = run(1, 500, 11 * 3600);
        let mut total = 0;
        let mut unordered = 0;
        for s in &sessions {
            let m = s.messages();
            assert!(!m.is_empty());
            total += m.len();
            if m.windows(2).any(|w| w[0].ts >= w[1].ts) {
                unordered += 1;
            }
            for msg in m {
                assert_eq!(msg.kind == MsgType::Image, msg.text.is_empty(), "{msg:?}");
            }
        }
        let avg = total as f64 / sessions.len() as f64;
        assert!((12.0..=28.0).contains(&avg), "average length {avg}");
        assert!(unordered <= 20, "{unordered} unordered sessions");
    }

    #[test]
    fn night_sessions_use_the_bot_only() {
        for s in run(2, 100, 3 * 3600) {
            assert!(s.messages().iter().all(|m| m.role != Role::Agent));
            assert!(s.messages().iter().any(|m| m.role == Role::Bot));
        }
    }

    #[test]
    fn forced_session_crosses_midnight() {
        let shop = Shop::new(5, 0, 100);
        for i in 0..50 {
            let local = 23 * 3600 + 56 * 60;
            let start = 1_794_326_400 + i64::from(local);
            let spec = SessionSpec {
                start,
                local_secs: local,
                cross_midnight: true,
            };
            let mut s = Session::default();
            simulate(&shop, &spec, Rng::derived(5, &[i]), &mut s);
            let last = s.messages().iter().map(|m| m.ts).max().unwrap_or(0);
            assert!(last >= 1_794_326_400 + 86_400);
        }
    }

    #[test]
    fn curt_strips_politeness() {
        let mut t = String::from("亲，有现货的哦~");
        make_curt(&mut t);
        assert_eq!(t, "有现货的");
        let mut t = String::from("哦");
        make_curt(&mut t);
        assert_eq!(t, "哦");
    }

    #[test]
    fn session_buffer_is_reused() {
        let shop = Shop::new(3, 1, 100);
        let mut s = Session::default();
        let spec = SessionSpec {
            start: 1_794_326_400 + 40_000,
            local_secs: 40_000,
            cross_midnight: false,
        };
        simulate(&shop, &spec, Rng::new(1), &mut s);
        let first: Vec<String> = s.messages().iter().map(|m| m.text.clone()).collect();
        simulate(&shop, &spec, Rng::new(2), &mut s);
        simulate(&shop, &spec, Rng::new(1), &mut s);
        let again: Vec<String> = s.messages().iter().map(|m| m.text.clone()).collect();
        assert_eq!(first, again);
    }
}
