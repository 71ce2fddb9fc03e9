//! Loads a rule pack: `rules/**/*.toml` (one rule per file, or `[[rule]]` tables),
//! `rules/lexicons/*.txt` and `rules/scoring.toml`. Every problem of the pack is
//! collected with its file and rule, so a trainer fixes them all in one go.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;

use crate::rules::matcher::{Matcher, Separators, normalize_phrases, registry_key};
use crate::rules::spec::*;

/// Files at the pack's root that are not rules.
const NON_RULE_FILES: [&str; 2] = ["scoring.toml", "kpi.toml"];

#[derive(Debug, Clone, PartialEq)]
pub struct PackIssue {
    pub file: PathBuf,
    pub rule: Option<String>,
    pub message: String,
}

impl fmt::Display for PackIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "{}: rule {rule}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    #[serde(default = "hundred")]
    pub base: f64,
    #[serde(default)]
    pub floor: f64,
    #[serde(default = "hundred")]
    pub ceiling: f64,
}

fn hundred() -> f64 {
    100.0
}

impl Scoring {
    /// What is wrong with the numbers: each must be finite (a `nan` would make
    /// every score `nan` later), and the floor not above the ceiling.
    fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = [
            ("base", self.base),
            ("floor", self.floor),
            ("ceiling", self.ceiling),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_finite())
        .map(|(key, value)| format!("key `{key}`: {value} is not a number of points; give a finite number"))
        .collect();
        if self.floor > self.ceiling {
            problems.push("key `floor`: the floor is above the ceiling".to_string());
        }
        problems
    }
}

impl Default for Scoring {
    fn default() -> Self {
        Self {
            base: 100.0,
            floor: 0.0,
            ceiling: 100.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Lexicon {
    pub name: String,
    pub path: PathBuf,
    /// Normalised, distinct, sorted.
    pub phrases: Vec<String>,
    /// Lint findings: duplicate or empty phrases, with their lines.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RulePack {
    pub root: PathBuf,
    pub rules: Vec<Rule>,
    pub lexicons: BTreeMap<String, Lexicon>,
    pub scoring: Scoring,
    /// Every file the pack was read from, sorted.
    pub files: Vec<PathBuf>,
}

impl RulePack {
    /// A pack without rules or lexicons, for queries when no pack is at hand.
    pub fn empty(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            rules: Vec::new(),
            lexicons: BTreeMap::new(),
            scoring: Scoring::default(),
            files: Vec::new(),
        }
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.enabled)
    }

    /// Matchers by name: each lexicon, and each rule's own (`rule:ID`).
    pub fn matchers(&self) -> HashMap<String, Arc<Matcher>> {
        let mut out: HashMap<String, Arc<Matcher>> = HashMap::new();
        for lexicon in self.lexicons.values() {
            for mode in [Separators::Keep, Separators::Ignore] {
                let matcher = Matcher::with_separators(lexicon.phrases.clone(), Vec::new(), &[], mode);
                out.insert(registry_key(&lexicon.name, mode), Arc::new(matcher));
            }
        }
        for rule in &self.rules {
            match &rule.template {
                Template::Phrases { matcher, .. } | Template::Required { matcher, .. } => {
                    out.insert(rule.matcher_key(), matcher.clone());
                }
                _ => {}
            }
        }
        out
    }
}

fn issue(file: &Path, rule: Option<&str>, message: impl Into<String>) -> PackIssue {
    PackIssue {
        file: file.to_path_buf(),
        rule: rule.map(str::to_string),
        message: message.into(),
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>, issues: &mut Vec<PackIssue>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            issues.push(issue(dir, None, format!("cannot read the folder: {e}")));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out, issues);
        } else if name.ends_with(".toml") || name.ends_with(".txt") {
            out.push(path);
        }
    }
}

/// Reads one lexicon file: a phrase per line, `#` at the start of a line is a comment.
pub fn read_lexicon(path: &Path) -> Result<Lexicon, PackIssue> {
    let text = std::fs::read_to_string(path).map_err(|e| issue(path, None, format!("cannot read: {e}")))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let mut warnings = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut raw = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let trimmed = line.trim_start_matches('\u{FEFF}');
        if trimmed.trim().is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        let norm = crate::normalize::normalize(trimmed);
        if norm.is_empty() {
            warnings.push(format!(
                "line {line_no}: {trimmed:?} normalises to nothing and is ignored"
            ));
            continue;
        }
        if let Some(first) = first_line.get(&norm) {
            warnings.push(format!(
                "line {line_no}: {trimmed:?} repeats line {first} (both normalise to {norm:?})"
            ));
            continue;
        }
        first_line.insert(norm, line_no);
        raw.push(trimmed.to_string());
    }
    Ok(Lexicon {
        name,
        path: path.to_path_buf(),
        phrases: normalize_phrases(raw.iter().map(String::as_str)),
        warnings,
    })
}

/// Loads the pack in `dir`. `extra` rule files (drafts outside the pack) are added,
/// replacing pack rules of the same id.
pub fn load(dir: &Path, extra: &[PathBuf]) -> Result<RulePack, Vec<PackIssue>> {
    let mut issues = Vec::new();
    if !dir.is_dir() {
        return Err(vec![issue(
            dir,
            None,
            "no rule pack here: pass --rules DIR with a folder of rule files",
        )]);
    }
    let mut files = Vec::new();
    collect_files(dir, &mut files, &mut issues);
    files.sort();

    let mut lexicons = BTreeMap::new();
    let mut scoring = Scoring::default();
    let mut raw_rules: Vec<(PathBuf, RawRule, bool)> = Vec::new();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let in_root = path.parent() == Some(dir);
        if name.ends_with(".txt") {
            if path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "lexicons")
            {
                match read_lexicon(path) {
                    Ok(lexicon) => {
                        lexicons.insert(lexicon.name.clone(), lexicon);
                    }
                    Err(e) => issues.push(e),
                }
            }
            continue;
        }
        if in_root && name == "scoring.toml" {
            match read_toml::<Scoring>(path) {
                Ok(s) => scoring = s,
                Err(e) => issues.push(e),
            }
            continue;
        }
        if in_root && NON_RULE_FILES.contains(&name) {
            continue;
        }
        read_rule_file(path, &mut raw_rules, &mut issues);
    }
    for path in extra {
        let before = raw_rules.len();
        read_rule_file(path, &mut raw_rules, &mut issues);
        for entry in &mut raw_rules[before..] {
            entry.2 = true;
        }
    }
    issues.extend(
        scoring
            .problems()
            .into_iter()
            .map(|p| issue(&dir.join("scoring.toml"), None, p)),
    );

    let mut rules: Vec<Rule> = Vec::new();
    for (path, raw, is_extra) in raw_rules {
        let id = raw.id.clone().unwrap_or_else(|| stem(&path));
        match check_rule(&path, id.clone(), raw, &lexicons) {
            Ok(rule) => {
                if let Some(pos) = rules.iter().position(|r| r.id == rule.id) {
                    if is_extra {
                        rules[pos] = rule;
                    } else {
                        issues.push(issue(
                            &path,
                            Some(&id),
                            format!(
                                "duplicate id: {} already defines it; ids must be unique in a pack",
                                rules[pos].file.display()
                            ),
                        ));
                    }
                } else {
                    rules.push(rule);
                }
            }
            Err(mut errs) => issues.append(&mut errs),
        }
    }
    if issues.is_empty() {
        let mut all_files = files;
        all_files.extend(extra.iter().cloned());
        Ok(RulePack {
            root: dir.to_path_buf(),
            rules,
            lexicons,
            scoring,
            files: all_files,
        })
    } else {
        Err(issues)
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, PackIssue> {
    let text = std::fs::read_to_string(path).map_err(|e| issue(path, None, format!("cannot read: {e}")))?;
    toml::from_str(&text).map_err(|e| issue(path, None, e.to_string().trim_end().to_string()))
}

fn read_rule_file(path: &Path, out: &mut Vec<(PathBuf, RawRule, bool)>, issues: &mut Vec<PackIssue>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return issues.push(issue(path, None, format!("cannot read: {e}"))),
    };
    let is_multi = text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("rule"));
    if is_multi {
        match toml::from_str::<RawMultiFile>(&text) {
            Ok(file) => {
                for raw in file.rule {
                    if raw.id.is_none() {
                        issues.push(issue(
                            path,
                            None,
                            format!(
                                "a [[rule]] named {:?} has no id: every [[rule]] needs one",
                                raw.name
                            ),
                        ));
                        continue;
                    }
                    out.push((path.to_path_buf(), raw, false));
                }
            }
            Err(e) => issues.push(issue(path, None, e.to_string().trim_end().to_string())),
        }
    } else {
        match toml::from_str::<RawRule>(&text) {
            Ok(raw) => {
                let file_id = stem(path);
                if let Some(id) = &raw.id
                    && *id != file_id
                {
                    issues.push(issue(path, Some(id), format!("key `id`: {id:?} differs from the file name; name the file {id}.toml or drop the key")));
                    return;
                }
                out.push((path.to_path_buf(), raw, false));
            }
            Err(e) => issues.push(issue(path, None, e.to_string().trim_end().to_string())),
        }
    }
}

fn params<T: for<'de> Deserialize<'de>>(table: toml::Table, template: &str) -> Result<T, String> {
    T::deserialize(toml::Value::Table(table)).map_err(|e| {
        format!(
            "[params] of a {template} rule: {}",
            e.to_string().trim_end().replace('\n', " ")
        )
    })
}

fn hours(text: Option<&String>) -> Result<Option<ServiceHours>, String> {
    text.map(|t| ServiceHours::parse(t).map_err(|e| format!("key `service_hours`: {e}")))
        .transpose()
}

fn lexicon_phrases(name: &str, lexicons: &BTreeMap<String, Lexicon>) -> Result<Vec<String>, String> {
    lexicons.get(name).map(|l| l.phrases.clone()).ok_or_else(|| {
        let known: Vec<&str> = lexicons.keys().map(String::as_str).collect();
        format!(
            "key `lexicon`: no lexicon {name:?}: add rules/lexicons/{name}.txt (known: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    })
}

fn check_rule(
    path: &Path,
    id: String,
    raw: RawRule,
    lexicons: &BTreeMap<String, Lexicon>,
) -> Result<Rule, Vec<PackIssue>> {
    let mut errors: Vec<String> = Vec::new();
    let id_ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if !id_ok {
        errors.push(format!(
            "key `id`: {id:?} is not kebab-case (lower-case letters, digits, dashes)"
        ));
    }
    if raw.name.trim().is_empty() {
        errors.push("key `name` is empty".to_string());
    }
    if !(raw.deduct >= 0.0 && raw.deduct.is_finite()) {
        errors.push(format!("key `deduct`: {} must be a number >= 0", raw.deduct));
    }
    if !(raw.bonus >= 0.0 && raw.bonus.is_finite()) {
        errors.push(format!("key `bonus`: {} must be a number >= 0", raw.bonus));
    }
    if raw.bonus > 0.0 && raw.severity == Severity::Critical {
        errors.push("a bonus rule cannot be critical".to_string());
    }
    let template = match build_template(&raw.template, raw.params, lexicons) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let mut tests = Vec::new();
    for test in raw.test {
        if let Some(hits) = &test.hits
            && hits.len() != test.expect
        {
            errors.push(format!(
                "[[test]] {:?}: `hits` lists {} lines but `expect` is {}",
                test.name,
                hits.len(),
                test.expect
            ));
        }
        tests.push(InlineTest {
            name: test.name,
            transcript: test.transcript,
            expect: test.expect,
            hits: test.hits,
        });
    }
    match (template, errors.is_empty()) {
        (Some(template), true) => Ok(Rule {
            id,
            name: raw.name,
            description: raw.description,
            severity: raw.severity,
            deduct: raw.deduct,
            bonus: raw.bonus,
            enabled: raw.enabled,
            template,
            tests,
            file: path.to_path_buf(),
        }),
        _ => Err(errors.into_iter().map(|e| issue(path, Some(&id), e)).collect()),
    }
}

fn regexes(patterns: &[String]) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .map(|p| Regex::new(p).map_err(|e| format!("key `patterns`: {p:?} is not a valid regex: {e}")))
        .collect()
}

fn phrase_set(
    lexicon: Option<&String>,
    inline: &[String],
    lexicons: &BTreeMap<String, Lexicon>,
) -> Result<Vec<String>, String> {
    let mut all = match lexicon {
        Some(name) => lexicon_phrases(name, lexicons)?,
        None => Vec::new(),
    };
    all.extend(normalize_phrases(inline.iter().map(String::as_str)));
    all.sort();
    all.dedup();
    Ok(all)
}

fn build_template(
    name: &str,
    table: toml::Table,
    lexicons: &BTreeMap<String, Lexicon>,
) -> Result<Template, String> {
    match name {
        "latency" => {
            let p: LatencyParams = params(table, name)?;
            if !(p.max_seconds >= 0.0 && p.max_seconds.is_finite()) {
                return Err(format!(
                    "key `max_seconds`: {} must be a number >= 0",
                    p.max_seconds
                ));
            }
            Ok(Template::Latency {
                max_seconds: p.max_seconds,
                scope: p.scope,
                hours: hours(p.service_hours.as_ref())?,
            })
        }
        "unanswered" => {
            let p: UnansweredParams = params(table, name)?;
            Ok(Template::Unanswered {
                ignore: normalize_phrases(p.ignore_phrases.iter().map(String::as_str)),
                hours: hours(p.service_hours.as_ref())?,
            })
        }
        "phrases" => {
            let p: PhrasesParams = params(table, name)?;
            let phrases = phrase_set(p.lexicon.as_ref(), &p.phrases, lexicons)?;
            let patterns = regexes(&p.patterns)?;
            if phrases.is_empty() && patterns.is_empty() {
                return Err("a phrases rule needs `lexicon`, `phrases` or `patterns`".to_string());
            }
            let except = normalize_phrases(p.except.iter().map(String::as_str));
            Ok(Template::Phrases {
                role: p.role,
                matcher: Arc::new(Matcher::with_separators(phrases, patterns, &except, p.separators)),
                hours: hours(p.service_hours.as_ref())?,
            })
        }
        "repeat" => {
            let p: RepeatParams = params(table, name)?;
            if p.min_run < 2 {
                return Err(format!("key `min_run`: {} must be at least 2", p.min_run));
            }
            let mode = match p.mode {
                RepeatMatch::Identical => RepeatMode::Identical,
                RepeatMatch::Similar => {
                    let s = p.similarity.unwrap_or(0.8);
                    if !(0.0..=1.0).contains(&s) {
                        return Err(format!("key `similarity`: {s} must be between 0 and 1"));
                    }
                    RepeatMode::Similar(s)
                }
                RepeatMatch::Lexicon => {
                    let lexicon = p
                        .lexicon
                        .ok_or("key `lexicon` is required when match = \"lexicon\"")?;
                    lexicon_phrases(&lexicon, lexicons)?;
                    RepeatMode::Lexicon(lexicon)
                }
            };
            if let Some(gap) = p.max_gap_seconds
                && !(gap >= 0.0 && gap.is_finite())
            {
                return Err(format!("key `max_gap_seconds`: {gap} must be a number >= 0"));
            }
            Ok(Template::Repeat {
                min_run: p.min_run,
                mode,
                max_gap_seconds: p.max_gap_seconds,
            })
        }
        "required" => {
            let p: RequiredParams = params(table, name)?;
            let phrases = phrase_set(p.lexicon.as_ref(), &p.phrases, lexicons)?;
            if phrases.is_empty() {
                return Err("a required rule needs `lexicon` or `phrases`".to_string());
            }
            Ok(Template::Required {
                matcher: Arc::new(Matcher::new(phrases, Vec::new(), &[])),
                within: p.within,
            })
        }
        "sql" => {
            let p: SqlParams = params(table, name)?;
            Ok(Template::Sql { sql: p.sql })
        }
        other => Err(format!(
            "key `template`: unknown template {other:?}; use one of {TEMPLATES}"
        )),
    }
}
