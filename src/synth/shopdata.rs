//! What the shop's back office knows and the chats do not: paid orders
//! (`orders.csv`) and platform review metrics (`metrics.csv`), consistent with
//! the generated sessions, for the monthly KPI (design §8).
//!
//! Orders: about a third of the sessions an agent answered end in an order paid
//! minutes to hours after the agent's last message; some are paid days later
//! (too late to count) and some customers buy without asking anyone.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::agents::Shop;
use super::clock::Local;
use super::rng::Rng;
use super::session::{Role, Session};

const TAG_ORDER: u64 = 0x0BDE;
const TAG_METRICS: u64 = 0x3E71;

pub const ORDERS_HEADER: &str = "shop,order_id,customer_id,paid_at,amount\n";
pub const METRICS_HEADER: &str = "agent_id,month,good_reviews,reviews,complaints\n";

/// Collects the orders and the months of a generation run.
#[derive(Debug, Default)]
pub struct ShopData {
    pub orders: String,
    pub order_count: u64,
    months: BTreeSet<(i64, u32)>,
}

impl ShopData {
    /// Maybe an order for a session just simulated.
    pub fn session(&mut self, seed: u64, key: [u64; 3], shop: &Shop, session_id: &str, session: &Session) {
        let [shop_idx, day_key, index] = key;
        let mut rng = Rng::derived(seed, &[TAG_ORDER, shop_idx, day_key, index]);
        let messages = session.messages();
        let Some(first) = messages.first() else { return };
        let first_local = Local::at(first.ts);
        self.months.insert((first_local.year, first_local.month));
        let last_agent = messages
            .iter()
            .filter(|m| m.role == Role::Agent)
            .map(|m| m.ts)
            .max();
        let paid_at = match last_agent {
            Some(ts) if rng.chance(0.35) => {
                let delay = 60.0 + rng.exponential(1800.0);
                // Some pay days later: too late to count as converted.
                let late = if rng.chance(0.08) {
                    86_400 * rng.range(2, 4) as i64
                } else {
                    0
                };
                ts + delay as i64 + late
            }
            // Bought without waiting for (or without) an agent.
            _ if rng.chance(0.04) => first.ts + rng.range(5, 120) as i64,
            _ => return,
        };
        let yuan = rng.range(19, 900);
        let cents = *rng.pick(&[0u64, 0, 90, 99, 50]);
        let _ = write!(
            self.orders,
            "{},O{},{},",
            shop.id,
            &session_id[1..],
            session.customer_id
        );
        Local::at(paid_at).push_rfc3339(&mut self.orders);
        let _ = writeln!(self.orders, ",{yuan}.{cents:02}");
        self.order_count += 1;
    }

    /// One metrics row per agent and month; the first shop's last agent has none
    /// (a new hire the platform has not rated yet), to show "no data".
    pub fn metrics(&self, seed: u64, shops: &[Shop]) -> String {
        let mut out = String::from(METRICS_HEADER);
        for &(year, month) in &self.months {
            for (s, shop) in shops.iter().enumerate() {
                for (a, agent) in shop.agents.iter().enumerate() {
                    if s == 0 && a + 1 == shop.agents.len() {
                        continue;
                    }
                    let mut rng = Rng::derived(
                        seed,
                        &[TAG_METRICS, s as u64, a as u64, year as u64, month as u64],
                    );
                    let reviews = (40.0 + 160.0 * agent.workload * rng.uniform(0.8, 1.2)).round() as u64;
                    let bad_share =
                        (0.01 + 0.02 * agent.rude + 0.03 * agent.curt + rng.uniform(0.0, 0.02)).min(0.3);
                    let good = reviews - (reviews as f64 * bad_share).round() as u64;
                    let complaints =
                        (agent.rude * 0.7 + agent.shady * 0.5 + rng.uniform(0.0, 1.2)).floor() as u64;
                    let _ = writeln!(
                        out,
                        "{},{year:04}-{month:02},{good},{reviews},{complaints}",
                        agent.id
                    );
                }
            }
        }
        out
    }
}
