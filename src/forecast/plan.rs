//! The shift plan (排班): the fewest agents in at most `shifts` fixed shifts of
//! `hours` consecutive hours, each starting on the hour, such that every hour's
//! need is covered. Solved exactly, by exhaustive search with pruning:
//!
//! - every set of shift start hours is tried (C(24, shifts) sets, in order);
//! - for one set, the agents per shift form a covering problem whose rows are
//!   cyclic windows of shifts. With prefix sums `y_j = x_1 + ... + x_j` and a fixed
//!   total `T = y_k`, each row becomes a difference constraint (`y_b - y_a >= n`, or
//!   `y_a - y_b <= T - n` for a window that wraps), so "can `T` agents cover the
//!   day?" is a negative-cycle check (Bellman-Ford), and its shortest paths are an
//!   integral plan. Feasibility grows with `T`, so the least `T` is found by
//!   bisection;
//! - a set is skipped at once when `best - 1` agents cannot do it.
//!
//! A shift that runs past midnight covers the early hours of the same day: the
//! roster repeats daily. Every plan returned is checked hour by hour.

use std::fmt;

pub const HOURS: usize = 24;
/// More shifts than this is not a roster a shop runs (and C(24, k) grows fast).
pub const MAX_SHIFTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// Local hour the shift starts, 0..24.
    pub start: u32,
    pub agents: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftPlan {
    pub shift_hours: u32,
    /// The shifts with agents, by start hour.
    pub shifts: Vec<Shift>,
    /// Agents at work in each hour.
    pub cover: [u64; HOURS],
}

impl ShiftPlan {
    pub fn total_agents(&self) -> u64 {
        self.shifts.iter().map(|s| s.agents).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    BadShape(String),
    /// Hours with a need that no placement of the shifts reaches.
    Uncoverable,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::BadShape(text) => f.write_str(text),
            PlanError::Uncoverable => f.write_str(
                "no placement of the shifts covers every hour with a need: use more shifts (--shifts) or longer ones (--shift-hours)",
            ),
        }
    }
}

/// Whether a shift starting at `start` works in hour `hour`.
fn covers(start: u32, hours: u32, hour: usize) -> bool {
    (hour as u32 + HOURS as u32 - start) % (HOURS as u32) < hours
}

/// The plan with the fewest agents; ties go to the earliest start hours.
pub fn solve(need: &[u64; HOURS], shifts: usize, hours: u32) -> Result<ShiftPlan, PlanError> {
    if !(1..=MAX_SHIFTS).contains(&shifts) {
        return Err(PlanError::BadShape(format!(
            "--shifts {shifts}: use 1 to {MAX_SHIFTS} shifts"
        )));
    }
    if !(1..=HOURS as u32).contains(&hours) {
        return Err(PlanError::BadShape(format!(
            "--shift-hours {hours}: a shift lasts 1 to 24 hours"
        )));
    }
    let peak = need.iter().copied().max().unwrap_or(0);
    let mut best: Option<(u64, Vec<u32>)> = None;
    let mut starts: Vec<u32> = (0..shifts as u32).collect();
    loop {
        if let Some(total) = least_total(need, &starts, hours, peak, best.as_ref().map(|b| b.0)) {
            best = Some((total, starts.clone()));
        }
        if !next_combination(&mut starts, HOURS as u32) {
            break;
        }
    }
    let (total, starts) = best.ok_or(PlanError::Uncoverable)?;
    let agents = agents_for(need, &starts, hours, total).expect("the total was found feasible");
    let plan = build(&starts, &agents, hours);
    for (hour, (cover, n)) in plan.cover.iter().zip(need).enumerate() {
        assert!(cover >= n, "plan does not cover hour {hour}");
    }
    Ok(plan)
}

/// The least total below `below` (when given) with which `starts` cover `need`.
fn least_total(
    need: &[u64; HOURS],
    starts: &[u32],
    hours: u32,
    peak: u64,
    below: Option<u64>,
) -> Option<u64> {
    let feasible = |total: u64| agents_for(need, starts, hours, total).is_some();
    let mut high = match below {
        Some(0) => return None,
        Some(best) if !feasible(best - 1) => return None,
        Some(best) => best - 1,
        // Every shift staffed at the peak covers whatever can be covered.
        None if feasible(peak * starts.len() as u64) => peak * starts.len() as u64,
        None => return None,
    };
    let mut low = peak;
    while low < high {
        let mid = low + (high - low) / 2;
        if feasible(mid) { high = mid } else { low = mid + 1 }
    }
    Some(high)
}

/// The next k-subset of `0..n` in lexicographic order; false after the last.
fn next_combination(set: &mut [u32], n: u32) -> bool {
    let k = set.len();
    for i in (0..k).rev() {
        if set[i] < n - (k - i) as u32 {
            set[i] += 1;
            for j in i + 1..k {
                set[j] = set[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Agents per shift (in `starts` order) summing to `total` that cover `need`, or
/// `None` when `total` agents cannot. Bellman-Ford over the prefix sums `y_0..y_k`:
/// an edge `u -> v` of weight `w` says `y_v <= y_u + w`.
fn agents_for(need: &[u64; HOURS], starts: &[u32], hours: u32, total: u64) -> Option<Vec<u64>> {
    let k = starts.len();
    let total = i64::try_from(total).ok()?;
    let mut edges: Vec<(usize, usize, i64)> = Vec::with_capacity(HOURS + k + 2);
    for j in 1..=k {
        edges.push((j, j - 1, 0)); // x_j >= 0
    }
    edges.push((0, k, total));
    edges.push((k, 0, -total));
    for (hour, &n) in need.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let n = i64::try_from(n).ok()?;
        let on: Vec<bool> = starts.iter().map(|&s| covers(s, hours, hour)).collect();
        let count = on.iter().filter(|c| **c).count();
        if count == 0 {
            return None;
        }
        if count == k {
            if total < n {
                return None;
            }
            continue;
        }
        // Shifts covering an hour are cyclically consecutive in start order.
        if on[0] && on[k - 1] {
            // {a..k} and {1..b}: T - y_{a-1} + y_b >= n.
            let b = on.iter().take_while(|c| **c).count();
            let a = k - on.iter().rev().take_while(|c| **c).count() + 1;
            edges.push((b, a - 1, total - n));
        } else {
            // {a..b}: y_b - y_{a-1} >= n.
            let a = on.iter().position(|c| *c).expect("count > 0") + 1;
            let b = a + count - 1;
            edges.push((b, a - 1, -n));
        }
    }
    let mut y = vec![0i64; k + 1];
    for round in 0..=k + 1 {
        let mut changed = false;
        for &(u, v, w) in &edges {
            if y[u] + w < y[v] {
                y[v] = y[u] + w;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        if round == k + 1 {
            return None; // a negative cycle: infeasible
        }
    }
    Some((1..=k).map(|j| (y[j] - y[j - 1]) as u64).collect())
}

fn build(starts: &[u32], agents: &[u64], hours: u32) -> ShiftPlan {
    let mut cover = [0u64; HOURS];
    for (&start, &n) in starts.iter().zip(agents) {
        for (hour, slot) in cover.iter_mut().enumerate() {
            if covers(start, hours, hour) {
                *slot += n;
            }
        }
    }
    ShiftPlan {
        shift_hours: hours,
        shifts: starts
            .iter()
            .zip(agents)
            .filter(|(_, n)| **n > 0)
            .map(|(&start, &agents)| Shift { start, agents })
            .collect(),
        cover,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(pairs: &[(usize, u64)]) -> [u64; HOURS] {
        let mut need = [0; HOURS];
        for &(h, n) in pairs {
            need[h] = n;
        }
        need
    }

    #[test]
    fn three_eight_hour_shifts_tile_the_day() {
        let mut need = [2; HOURS];
        need[10] = 5;
        need[20] = 4;
        let plan = solve(&need, 3, 8).unwrap();
        // The shifts tile the day; 10:00 and 20:00 fall in different ones.
        assert_eq!(plan.total_agents(), 5 + 4 + 2);
        assert!(plan.cover.iter().zip(&need).all(|(c, n)| c >= n));
    }

    #[test]
    fn a_night_shift_wraps_midnight() {
        // Need only 22:00-02:00: one 4-hour shift starting at 22 covers it.
        let need = day(&[(22, 3), (23, 3), (0, 3), (1, 3)]);
        let plan = solve(&need, 1, 4).unwrap();
        assert_eq!(plan.shifts, vec![Shift { start: 22, agents: 3 }]);
    }

    #[test]
    fn too_few_hours_cannot_cover() {
        let need = day(&[(0, 1), (12, 1)]);
        assert_eq!(solve(&need, 1, 8), Err(PlanError::Uncoverable));
        assert_eq!(solve(&need, 2, 8).unwrap().total_agents(), 2);
    }

    #[test]
    fn a_quiet_day_needs_nobody() {
        let plan = solve(&[0; HOURS], 3, 8).unwrap();
        assert_eq!(plan.total_agents(), 0);
        assert!(plan.shifts.is_empty());
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(matches!(solve(&[1; HOURS], 0, 8), Err(PlanError::BadShape(_))));
        assert!(matches!(solve(&[1; HOURS], 9, 8), Err(PlanError::BadShape(_))));
        assert!(matches!(solve(&[1; HOURS], 3, 25), Err(PlanError::BadShape(_))));
    }

    #[test]
    fn combinations_run_in_order() {
        let mut set = vec![0, 1];
        let mut seen = 1;
        while next_combination(&mut set, 4) {
            seen += 1;
        }
        assert_eq!((seen, set), (6, vec![2, 3]));
    }

    /// The least total by trying every placement and every count up to `max`.
    fn brute(need: &[u64; HOURS], shifts: usize, hours: u32, max: u64) -> Option<u64> {
        let mut best = None;
        let mut starts: Vec<u32> = (0..shifts as u32).collect();
        loop {
            let mut counts = vec![0u64; shifts];
            loop {
                let plan = build(&starts, &counts, hours);
                if plan.cover.iter().zip(need).all(|(c, n)| c >= n) {
                    let total: u64 = counts.iter().sum();
                    best = Some(best.map_or(total, |b: u64| b.min(total)));
                }
                let Some(i) = counts.iter().position(|c| *c < max) else {
                    break;
                };
                counts[i] += 1;
                counts[..i].iter_mut().for_each(|c| *c = 0);
            }
            if !next_combination(&mut starts, HOURS as u32) {
                break;
            }
        }
        best
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
        #[test]
        fn matches_brute_force(
            needs in proptest::collection::vec(0u64..=2, HOURS),
            shifts in 1usize..=2,
            hours in 4u32..=14,
        ) {
            let need: [u64; HOURS] = needs.try_into().unwrap();
            let exact = solve(&need, shifts, hours).ok().map(|p| p.total_agents());
            proptest::prop_assert_eq!(exact, brute(&need, shifts, hours, 2 * 2));
        }
    }
}
