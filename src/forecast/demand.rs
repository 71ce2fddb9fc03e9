//! The shops' staffing formula: the day's customers from the sales target, the
//! hour's customers from the 大促系数, and agents from their hourly capacity.

use crate::error::{Error, Result};

/// 全店销售目标 and the ratios that turn it into customers to receive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// 全店销售目标 (the day's GMV target, yuan).
    pub gmv: f64,
    /// 客服销售占比: share of the sales made through customer service.
    pub cs_share: f64,
    /// 客单价: average order value (yuan).
    pub aov: f64,
    /// 客服转化率: share of inquiring customers who buy.
    pub conversion: f64,
    /// 售前询单占比: share of the customers received who ask before buying.
    pub presale_share: f64,
}

impl Targets {
    /// Checks every figure, naming the flag at fault.
    pub fn check(&self) -> Result<()> {
        let positive = [("--gmv", self.gmv), ("--aov", self.aov)];
        for (flag, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::Usage(format!("{flag} {value}: must be a number above 0")));
            }
        }
        let shares = [
            ("--cs-share", self.cs_share),
            ("--conversion", self.conversion),
            ("--presale-share", self.presale_share),
        ];
        for (flag, value) in shares {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::Usage(format!(
                    "{flag} {value}: a share is above 0 and at most 1 (write 0.35 for 35 %)"
                )));
            }
        }
        Ok(())
    }

    /// 当天接待总人数 = 全店销售目标 × 客服销售占比 / 客单价 / 客服转化率 / 售前询单占比.
    pub fn day_customers(&self) -> f64 {
        self.gmv * self.cs_share / self.aov / self.conversion / self.presale_share
    }
}

/// `ceil`, except that a value within 1e-9 (relative) of a whole number is that
/// number: 125000 × 0.04 / 100 is 50 to a person, 50.000000000000007 to binary
/// floating point, and must not cost a 51st agent.
pub fn whole_ceil(value: f64) -> u64 {
    let nearest = value.round();
    let whole = if (value - nearest).abs() <= 1e-9 * value.abs().max(1.0) {
        nearest
    } else {
        value.ceil()
    };
    whole.max(0.0) as u64
}

/// 每小时所需客服 = ceil(每小时客流量 / 客服每小时接待能力).
pub fn agents_needed(customers: f64, capacity: f64) -> u64 {
    whole_ceil(customers / capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_follows_the_formula() {
        let t = Targets {
            gmv: 1_000_000.0,
            cs_share: 0.6,
            aov: 200.0,
            conversion: 0.3,
            presale_share: 0.8,
        };
        // 1 000 000 × 0.6 / 200 / 0.3 / 0.8 = 12 500
        assert!((t.day_customers() - 12_500.0).abs() < 1e-6);
        assert!(t.check().is_ok());
        let bad = Targets { cs_share: 35.0, ..t };
        assert!(bad.check().unwrap_err().to_string().contains("--cs-share 35"));
    }

    #[test]
    fn ceil_forgives_binary_rounding_only() {
        assert_eq!(whole_ceil(125_000.0 * 0.04 / 100.0), 50);
        assert_eq!(whole_ceil(50.000_000_000_000_07), 50);
        assert_eq!(whole_ceil(50.001), 51);
        assert_eq!(whole_ceil(0.0), 0);
        assert_eq!(agents_needed(7.0, 3.0), 3);
        assert_eq!(agents_needed(6.0, 3.0), 2);
    }
}
