//! Phrase matching on normalised text (design §5.1): one aho-corasick automaton per
//! phrase set, optional regex patterns, and `except` phrases that excuse a message.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

use crate::normalize::normalize;

/// Normalises phrases, drops the ones that normalise to nothing and duplicates,
/// and sorts them, so that evidence lists are stable.
pub fn normalize_phrases<'a>(phrases: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = phrases
        .into_iter()
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[derive(Debug, Clone)]
pub struct Matcher {
    phrases: Vec<String>,
    automaton: Option<AhoCorasick>,
    patterns: Vec<Regex>,
    except: Option<AhoCorasick>,
}

fn automaton(phrases: &[String]) -> Option<AhoCorasick> {
    if phrases.is_empty() {
        return None;
    }
    // Standard semantics so that overlapping matches can all be reported.
    Some(
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(phrases)
            .expect("phrase automata stay far below aho-corasick's size limits"),
    )
}

impl Matcher {
    /// `phrases` and `except` must already be normalised ([`normalize_phrases`]).
    pub fn new(phrases: Vec<String>, patterns: Vec<Regex>, except: &[String]) -> Self {
        Self {
            automaton: automaton(&phrases),
            phrases,
            patterns,
            except: automaton(except),
        }
    }

    pub fn phrases(&self) -> &[String] {
        &self.phrases
    }

    fn excused(&self, norm: &str) -> bool {
        self.except.as_ref().is_some_and(|ac| ac.is_match(norm))
    }

    /// Whether any phrase occurs or any pattern matches (and no `except` phrase occurs).
    pub fn is_match(&self, norm: &str) -> bool {
        if norm.is_empty() {
            return false;
        }
        let hit = self.automaton.as_ref().is_some_and(|ac| ac.is_match(norm))
            || self.patterns.iter().any(|p| p.is_match(norm));
        hit && !self.excused(norm)
    }

    /// Every distinct phrase that occurs (overlaps included) and every pattern match,
    /// sorted; empty when an `except` phrase occurs.
    pub fn find_all(&self, norm: &str) -> Vec<String> {
        if !self.is_match(norm) {
            return Vec::new();
        }
        let mut found: Vec<String> = Vec::new();
        if let Some(ac) = &self.automaton {
            let mut seen = vec![false; self.phrases.len()];
            for hit in ac.find_overlapping_iter(norm) {
                seen[hit.pattern().as_usize()] = true;
            }
            found.extend(
                self.phrases
                    .iter()
                    .zip(seen)
                    .filter(|(_, s)| *s)
                    .map(|(p, _)| p.clone()),
            );
        }
        for pattern in &self.patterns {
            found.extend(pattern.find_iter(norm).map(|m| m.as_str().to_string()));
        }
        found.sort();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(phrases: &[&str], except: &[&str]) -> Matcher {
        Matcher::new(
            normalize_phrases(phrases.iter().copied()),
            Vec::new(),
            &normalize_phrases(except.iter().copied()),
        )
    }

    #[test]
    fn overlapping_phrases_are_all_reported() {
        let m = matcher(&["加微信", "微信", "信号"], &[]);
        assert_eq!(m.find_all(&normalize("加 微 信号")), ["信号", "加微信", "微信"]);
    }

    #[test]
    fn except_excuses_the_whole_message() {
        let m = matcher(&["加微信"], &["不能加微信"]);
        assert!(!m.is_match("平台规定不能加微信哦,也不能加微信群"));
        assert!(m.is_match("加微信吧"));
    }

    #[test]
    fn phrases_that_normalise_to_nothing_are_dropped() {
        assert_eq!(normalize_phrases([" ", "ＶＸ", "vx", "\u{3000}"]), ["vx"]);
    }

    #[test]
    fn patterns_report_what_they_matched() {
        let m = Matcher::new(
            Vec::new(),
            vec![Regex::new("1[3-9][0-9]{9}").expect("valid")],
            &[],
        );
        assert_eq!(m.find_all("电话13812345678"), ["13812345678"]);
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_naive_substring_search(
            phrases in proptest::collection::vec("[a-c微信加 ]{1,3}", 1..6),
            text in "[a-c微信加 Ａ]{0,12}",
        ) {
            let m = matcher(&phrases.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
            let norm = normalize(&text);
            let mut naive: Vec<String> = normalize_phrases(phrases.iter().map(String::as_str))
                .into_iter()
                .filter(|p| norm.contains(p.as_str()))
                .collect();
            naive.sort();
            proptest::prop_assert_eq!(m.find_all(&norm), naive);
        }
    }
}
