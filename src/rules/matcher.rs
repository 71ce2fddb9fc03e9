//! Phrase matching on normalised text (design §5.1): one aho-corasick automaton per
//! phrase set, optional regex patterns, and `except` phrases that excuse a message.
//!
//! Two match modes ([`Separators`]): `keep` matches on `norm_text` as design §5.1
//! defines it; `ignore` (anti-evasion) also skips punctuation, symbols and format
//! characters between a phrase's characters, but never crosses a sentence end
//! ([`crate::normalize::normalize_loose_into`]).

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Deserialize;

use crate::normalize::{normalize, normalize_into, normalize_loose, normalize_loose_into};

/// How separators between a phrase's characters are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Separators {
    /// Only white space is ignored (`norm_text`, design §5.1).
    #[default]
    Keep,
    /// Punctuation, symbols and format characters are ignored too, within a
    /// sentence: `加.微.信` and `加\u{200B}微信` are `加微信`.
    Ignore,
}

impl Separators {
    pub fn as_str(self) -> &'static str {
        match self {
            Separators::Keep => "keep",
            Separators::Ignore => "ignore",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "keep" => Some(Separators::Keep),
            "ignore" => Some(Separators::Ignore),
            _ => None,
        }
    }
}

/// The key under which a lexicon's matcher in `separators` mode is registered
/// for the `zj_*` functions (a lexicon's own name for `keep`).
pub fn registry_key(name: &str, separators: Separators) -> String {
    match separators {
        Separators::Keep => name.to_string(),
        Separators::Ignore => format!("{name}#ignore"),
    }
}

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
    separators: Separators,
    /// The phrases as normalised, reported as evidence.
    phrases: Vec<String>,
    automaton: Option<Automaton>,
    patterns: Vec<Regex>,
    except_phrases: Vec<String>,
    except: Option<Automaton>,
}

/// An automaton over phrases in the form a separator mode matches on, and the
/// phrase each of its patterns stands for.
#[derive(Debug, Clone)]
struct Automaton {
    ac: AhoCorasick,
    phrase_of: Vec<usize>,
}

fn automaton(phrases: &[String], separators: Separators) -> Option<Automaton> {
    let (keys, phrase_of): (Vec<String>, Vec<usize>) = phrases
        .iter()
        .enumerate()
        .map(|(i, p)| match separators {
            Separators::Keep => (p.clone(), i),
            Separators::Ignore => (normalize_loose(p), i),
        })
        .filter(|(key, _)| !key.is_empty())
        .unzip();
    if keys.is_empty() {
        return None;
    }
    // Standard semantics so that overlapping matches can all be reported.
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&keys)
        .expect("phrase automata stay far below aho-corasick's size limits");
    Some(Automaton { ac, phrase_of })
}

impl Matcher {
    /// `phrases` and `except` must already be normalised ([`normalize_phrases`]).
    pub fn new(phrases: Vec<String>, patterns: Vec<Regex>, except: &[String]) -> Self {
        Self::with_separators(phrases, patterns, except, Separators::Keep)
    }

    /// A matcher in the given separator mode.
    pub fn with_separators(
        phrases: Vec<String>,
        patterns: Vec<Regex>,
        except: &[String],
        separators: Separators,
    ) -> Self {
        Self {
            separators,
            automaton: automaton(&phrases, separators),
            phrases,
            patterns,
            except_phrases: except.to_vec(),
            except: automaton(except, separators),
        }
    }

    /// The same phrases, patterns and `except` in another separator mode.
    pub fn in_mode(&self, separators: Separators) -> Self {
        Self::with_separators(
            self.phrases.clone(),
            self.patterns.clone(),
            &self.except_phrases,
            separators,
        )
    }

    pub fn separators(&self) -> Separators {
        self.separators
    }

    pub fn phrases(&self) -> &[String] {
        &self.phrases
    }

    /// The texts phrases and patterns are matched on, from a message's `text` (or
    /// its `norm_text` when `normalized`): patterns always see `norm_text` (design
    /// §5.2); phrases and `except` see it too, or in `ignore` mode its loose form
    /// (from the raw text, so that line breaks still end sentences).
    fn views<'a>(&self, text: &'a str, normalized: bool, scratch: &'a mut Scratch) -> (&'a str, &'a str) {
        let Scratch { norm, loose } = scratch;
        let norm: &'a str = if normalized {
            text
        } else if self.separators == Separators::Keep || !self.patterns.is_empty() {
            norm.clear();
            normalize_into(text, norm);
            norm
        } else {
            ""
        };
        match self.separators {
            Separators::Keep => (norm, norm),
            Separators::Ignore => {
                loose.clear();
                normalize_loose_into(text, loose);
                (loose, norm)
            }
        }
    }

    /// Whether any phrase occurs or any pattern matches, and no `except` phrase
    /// occurs, in a message's `text` (its `norm_text` when `normalized`).
    pub fn is_match_in(&self, text: &str, normalized: bool, scratch: &mut Scratch) -> bool {
        let (phrase_view, pattern_view) = self.views(text, normalized, scratch);
        self.hit(phrase_view, pattern_view)
    }

    /// Every distinct phrase that occurs (overlaps included) and every pattern
    /// match in a message's `text` (its `norm_text` when `normalized`), sorted;
    /// empty when an `except` phrase occurs.
    pub fn find_all_in(&self, text: &str, normalized: bool, scratch: &mut Scratch) -> Vec<String> {
        let (phrase_view, pattern_view) = self.views(text, normalized, scratch);
        self.find_all_in_views(phrase_view, pattern_view)
    }

    /// [`Matcher::find_all_in`] on a message's text already made ready: the text
    /// its phrases see (the loose form in `ignore` mode) and its `norm_text`.
    pub fn find_all_in_views(&self, phrase_view: &str, pattern_view: &str) -> Vec<String> {
        if !self.hit(phrase_view, pattern_view) {
            return Vec::new();
        }
        let mut found: Vec<String> = Vec::new();
        if let Some(a) = &self.automaton {
            let mut seen = vec![false; self.phrases.len()];
            for hit in a.ac.find_overlapping_iter(phrase_view) {
                seen[a.phrase_of[hit.pattern().as_usize()]] = true;
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
            found.extend(pattern.find_iter(pattern_view).map(|m| m.as_str().to_string()));
        }
        found.sort();
        found.dedup();
        found
    }

    fn hit(&self, phrase_view: &str, pattern_view: &str) -> bool {
        let found = self
            .automaton
            .as_ref()
            .is_some_and(|a| a.ac.is_match(phrase_view))
            || (!pattern_view.is_empty() && self.patterns.iter().any(|p| p.is_match(pattern_view)));
        found && !self.except.as_ref().is_some_and(|a| a.ac.is_match(phrase_view))
    }

    /// [`Matcher::is_match_in`] on `norm_text`.
    pub fn is_match(&self, norm: &str) -> bool {
        self.is_match_in(norm, true, &mut Scratch::default())
    }

    /// [`Matcher::find_all_in`] on `norm_text`.
    pub fn find_all(&self, norm: &str) -> Vec<String> {
        self.find_all_in(norm, true, &mut Scratch::default())
    }
}

/// Buffers reused from message to message while matching a column.
#[derive(Debug, Default)]
pub struct Scratch {
    norm: String,
    loose: String,
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

    fn loose_hits(m: &Matcher, text: &str) -> Vec<String> {
        m.find_all_in(text, false, &mut Scratch::default())
    }

    #[test]
    fn ignoring_separators_catches_disguises_within_a_sentence() {
        let m = Matcher::with_separators(
            normalize_phrases(["加微信", "v.x"]),
            Vec::new(),
            &[],
            Separators::Ignore,
        );
        for disguise in [
            "加.微.信",
            "加·微·信",
            "加_微_信",
            "加\u{200B}微\u{200B}信",
            "亲可以加-微-信哦",
            "加 微 信",
        ] {
            assert_eq!(loose_hits(&m, disguise), ["加微信"], "{disguise:?}");
        }
        assert_eq!(loose_hits(&m, "ｖ．ｘ：１２３"), ["v.x"]);
        // A sentence end stops a match: two sentences, not 加微信.
        for near_miss in [
            "数量可以加。微信支付有优惠",
            "可以加!微信支付",
            "可以加\n微信支付",
            "加？微信",
        ] {
            assert!(loose_hits(&m, near_miss).is_empty(), "{near_miss:?}");
        }
        // Keeping separators, only white space is skipped (design §5.1).
        let keep = m.in_mode(Separators::Keep);
        assert!(loose_hits(&keep, "加.微.信").is_empty());
        assert_eq!(loose_hits(&keep, "加 微 信"), ["加微信"]);
    }

    #[test]
    fn except_ignores_separators_too() {
        let m = Matcher::with_separators(
            normalize_phrases(["加微信"]),
            Vec::new(),
            &normalize_phrases(["不能加微信"]),
            Separators::Ignore,
        );
        assert!(loose_hits(&m, "平台规定不能-加-微-信哦").is_empty());
        assert_eq!(loose_hits(&m, "加.微.信吧"), ["加微信"]);
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
