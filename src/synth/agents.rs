//! Shops and their agents' persistent personalities.
//!
//! Everything here is derived from `(seed, shop index)` only, so a shop looks
//! the same whatever the number of days or sessions generated.

use super::dialogue::Category;
use super::rng::{Rng, derive_seed};
use std::fmt::Write as _;

/// How a shop's export writes timestamps (chosen by shop index, cycling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsStyle {
    /// `2026-11-11T10:00:03+08:00`
    Rfc3339,
    /// `2026-11-11 10:00:03` (shop local time, no offset)
    NaiveLocal,
    /// `1762826403000` as a JSON number
    EpochMillis,
}

/// A human agent (子账号) with a stable personality.
#[derive(Debug, Clone)]
pub struct Agent {
    /// `店名:昵称`
    pub id: String,
    pub nick: &'static str,
    /// Median reply latency in seconds (log-normal).
    pub latency_median: f64,
    /// Sigma of ln(latency): how erratic the agent is.
    pub latency_sigma: f64,
    /// Chance that a reply takes several extra minutes (away from desk).
    pub slow_tail: f64,
    /// Chance to open with a greeting / end with a closing line.
    pub greet: f64,
    pub close: f64,
    /// Chance to answer with a terse, unfriendly one-liner.
    pub curt: f64,
    /// Multipliers (mean about 1) on the base violation rates.
    pub rude: f64,
    pub shady: f64,
    pub boast: f64,
    /// Chance to chase a silent customer with a 三连发 run, and chance that
    /// such a run repeats one line verbatim.
    pub chase: f64,
    pub chase_identical: f64,
    /// Relative share of the shop's sessions this agent takes.
    pub workload: f64,
}

#[derive(Debug, Clone)]
pub struct Shop {
    /// ascii id, `shop-01`
    pub id: String,
    /// Display name used in greetings and agent ids, e.g. `云裳服饰旗舰店`.
    pub name: String,
    pub channel: &'static str,
    pub ts_style: TsStyle,
    pub category: Category,
    pub bot_name: &'static str,
    pub agents: Vec<Agent>,
    customer_pool: u64,
    customer_seed: u64,
}

const CHANNELS: [&str; 4] = ["tmall", "jd", "pdd", "douyin"];

const BRANDS: &[&str] = &[
    "云裳",
    "橙果",
    "木槿",
    "北极绒",
    "青禾",
    "星河",
    "森屿",
    "拾光",
    "南山",
    "鹿屿",
    "小满",
    "初见",
    "暖阳",
    "知味",
    "简居",
    "优品",
];

const NICKS: &[&str] = &[
    "小美", "阿杰", "小雨", "糖糖", "小鹿", "阿强", "小七", "丽丽", "小白", "果果", "可可", "阿飞", "小凡",
    "晴天", "橙子", "小满", "安安", "大鹏", "琪琪", "阿宝",
];

impl Shop {
    /// Builds shop `index` (0-based). `sessions_per_day` only sizes the pool
    /// of returning customers.
    pub fn new(seed: u64, index: u32, sessions_per_day: u32) -> Shop {
        let mut rng = Rng::derived(seed, &[0x5409, u64::from(index)]);
        let i = index as usize;
        let channel = CHANNELS[i % CHANNELS.len()];
        let ts_style = match i % 3 {
            0 => TsStyle::Rfc3339,
            1 => TsStyle::NaiveLocal,
            _ => TsStyle::EpochMillis,
        };
        let category = Category::ALL[i % Category::ALL.len()];
        let brand = BRANDS[i % BRANDS.len()];
        let lap = i / BRANDS.len();
        let suffix = match channel {
            "tmall" => "旗舰店",
            "jd" => "官方旗舰店",
            "pdd" => "专营店",
            _ => "官方店",
        };
        let mut name = String::from(brand);
        if lap > 0 {
            // keep display names (and so agent ids) unique past the brand list
            let _ = write!(name, "{}", lap + 1);
        }
        name.push_str(category.shop_word());
        name.push_str(suffix);
        let bot_name = match channel {
            "tmall" => "店小蜜",
            "jd" => "京小智",
            "pdd" => "小多",
            _ => "抖音小助手",
        };

        let n_agents = rng.range(3, 8) as usize;
        let mut pool: Vec<&'static str> = NICKS.to_vec();
        let mut agents = Vec::with_capacity(n_agents);
        for k in 0..n_agents {
            // partial Fisher-Yates: distinct nicknames within a shop
            let j = k + rng.index(pool.len() - k);
            pool.swap(k, j);
            agents.push(Agent::random(&name, pool[k], &mut rng));
        }
        // Every shop has its chase-spammer: QA rules for 三连发 need material.
        let spammer = rng.index(agents.len());
        agents[spammer].chase = agents[spammer].chase.max(rng.uniform(0.7, 0.95));

        Shop {
            id: format!("shop-{:02}", index + 1),
            name,
            channel,
            ts_style,
            category,
            bot_name,
            agents,
            customer_pool: u64::from(sessions_per_day).saturating_mul(3).max(200),
            customer_seed: derive_seed(seed, &[0xC057, u64::from(index)]),
        }
    }

    /// Draws the customer of a session: a pool of returning customers, so
    /// the same id shows up in several sessions.
    pub fn draw_customer(&self, rng: &mut Rng, out: &mut String) {
        out.clear();
        let number = rng.below(self.customer_pool);
        let h = derive_seed(self.customer_seed, &[number]);
        let _ = match self.channel {
            "tmall" => write!(out, "tb{:010}", h % 10_000_000_000),
            "jd" => write!(out, "jd_{:010x}", h & 0xFF_FFFF_FFFF),
            "pdd" => write!(out, "pdd_{:08}", h % 100_000_000),
            _ => write!(out, "dy{:011}", h % 100_000_000_000),
        };
    }

    /// Picks the agent for a new session by workload share.
    pub fn pick_agent(&self, rng: &mut Rng) -> usize {
        // 8 agents at most: a stack array avoids an allocation per session
        let mut w = [0.0f64; 8];
        for (slot, a) in w.iter_mut().zip(&self.agents) {
            *slot = a.workload;
        }
        rng.weighted(&w[..self.agents.len().min(8)])
    }

    /// Another agent than `current` (for transfers); shops have >= 3 agents.
    pub fn pick_other_agent(&self, current: usize, rng: &mut Rng) -> usize {
        let k = rng.index(self.agents.len() - 1);
        if k >= current { k + 1 } else { k }
    }
}

impl Agent {
    fn random(shop_name: &str, nick: &'static str, rng: &mut Rng) -> Agent {
        // log-uniform median between 8 s and 90 s
        let latency_median = 8.0 * (90.0f64 / 8.0).powf(rng.f64());
        // most agents are reasonably polite; a few are curt
        let polite = 0.3 + 0.7 * rng.f64().sqrt();
        let shady = if rng.chance(0.3) {
            rng.uniform(2.0, 4.0)
        } else {
            rng.uniform(0.0, 0.3)
        };
        let chase = if rng.chance(0.35) {
            rng.uniform(0.6, 0.95)
        } else {
            rng.uniform(0.0, 0.15)
        };
        Agent {
            id: format!("{shop_name}:{nick}"),
            nick,
            latency_median,
            latency_sigma: rng.uniform(0.6, 1.1),
            slow_tail: rng.uniform(0.01, 0.05),
            greet: (0.45 + 0.55 * polite).min(0.98),
            close: (0.3 + 0.65 * polite).min(0.95),
            curt: (1.0 - polite) * 0.35,
            rude: (1.0 - polite) * 4.5,
            shady,
            boast: rng.uniform(0.3, 1.7),
            chase,
            chase_identical: rng.uniform(0.3, 0.7),
            workload: rng.uniform(0.5, 1.5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shops_are_deterministic_and_well_formed() {
        for idx in 0..40 {
            let a = Shop::new(42, idx, 100);
            let b = Shop::new(42, idx, 100);
            assert_eq!(a.id, b.id);
            assert_eq!(a.name, b.name);
            assert!((3..=8).contains(&a.agents.len()));
            let ids: Vec<&str> = a.agents.iter().map(|x| x.id.as_str()).collect();
            let mut dedup = ids.clone();
            dedup.sort_unstable();
            dedup.dedup();
            assert_eq!(dedup.len(), ids.len(), "duplicate nick in {ids:?}");
            assert!(ids.iter().all(|id| id.starts_with(&format!("{}:", a.name))));
            assert!(a.agents.iter().any(|x| x.chase >= 0.7));
            assert!(a.agents.iter().all(|x| (8.0..=90.0).contains(&x.latency_median)));
            assert!(a.id.is_ascii());
        }
        assert_eq!(Shop::new(1, 0, 10).id, "shop-01");
        assert_eq!(Shop::new(1, 0, 10).ts_style, TsStyle::Rfc3339);
        assert_eq!(Shop::new(1, 1, 10).ts_style, TsStyle::NaiveLocal);
        assert_eq!(Shop::new(1, 2, 10).ts_style, TsStyle::EpochMillis);
        assert_eq!(Shop::new(1, 3, 10).ts_style, TsStyle::Rfc3339);
        assert_ne!(Shop::new(1, 0, 10).name, Shop::new(1, 16, 10).name);
    }

    #[test]
    fn customer_ids_are_ascii_and_recur() {
        let shop = Shop::new(7, 0, 10);
        let mut rng = Rng::new(1);
        let mut seen = std::collections::HashSet::new();
        let mut id = String::new();
        for _ in 0..1000 {
            shop.draw_customer(&mut rng, &mut id);
            assert!(id.is_ascii() && id.starts_with("tb"));
            seen.insert(id.clone());
        }
        assert!(seen.len() < 1000, "returning customers expected");
    }

    #[test]
    fn other_agent_differs() {
        let shop = Shop::new(3, 1, 10);
        let mut rng = Rng::new(9);
        for cur in 0..shop.agents.len() {
            for _ in 0..20 {
                let o = shop.pick_other_agent(cur, &mut rng);
                assert_ne!(o, cur);
                assert!(o < shop.agents.len());
            }
        }
    }
}
