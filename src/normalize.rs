//! Text normalisation of design §5.1: NFKC, then full lower-case, then every
//! `White_Space` character removed. Applied identically to message text and to
//! every phrase of a rule, so spacing, width and case tricks (`加 微 信`, `ＶＸ`)
//! do not evade a rule.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Appends the normalised form of `text` to `out`.
pub fn normalize_into(text: &str, out: &mut String) {
    let start = out.len();
    // Most chat text is already NFKC (CJK, ASCII); the quick check skips the
    // decomposition buffers for it, and unchanged stretches are copied whole.
    let done = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        push_folded_str(text, out)
    } else {
        let nfkc: String = text.nfkc().collect();
        push_folded_str(&nfkc, out)
    };
    if !done {
        // A capital sigma: its lower-case form depends on the word around it, which
        // only `str::to_lowercase` knows. Rare enough to redo the whole text.
        out.truncate(start);
        let nfkc: String = text.nfkc().collect();
        out.extend(nfkc.to_lowercase().chars().filter(|c| !c.is_whitespace()));
    }
}

/// Characters that normalisation leaves as they are: ASCII other than capitals and
/// white space, and the CJK block (ideographs, kana, CJK punctuation), which has no case.
fn unchanged(c: char) -> bool {
    if c.is_ascii() {
        !(c.is_ascii_uppercase() || c.is_ascii_whitespace() || c == '\u{0B}')
    } else {
        ('\u{3001}'..='\u{9FFF}').contains(&c)
    }
}

/// Appends `text` lower-cased without white space; false when it met a `Σ`.
fn push_folded_str(text: &str, out: &mut String) -> bool {
    let mut kept_from = 0;
    for (at, c) in text.char_indices() {
        if unchanged(c) {
            continue;
        }
        out.push_str(&text[kept_from..at]);
        kept_from = at + c.len_utf8();
        if c == 'Σ' {
            return false;
        }
        if !c.is_whitespace() {
            out.extend(c.to_lowercase());
        }
    }
    out.push_str(&text[kept_from..]);
    true
}

/// The normalised form of `text`.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// Marks that end a sentence (after NFKC, which turns `！？｡` into `!?。`) and
/// line breaks: a phrase never matches across one, whatever the separator mode.
/// `数量可以加。微信支付有优惠` is two sentences, not `加微信`.
pub fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '。' | '!' | '?' | '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// What `separators = "ignore"` skips between the characters of a phrase:
/// punctuation (P*), symbols (S*), format characters (Cf, e.g. the zero-width
/// space) and white space.
pub fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric();
    }
    if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        return false;
    }
    c.is_whitespace()
        || matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Punctuation | GeneralCategoryGroup::Symbol
        )
        || c.general_category() == GeneralCategory::Format
}

/// Text as the anti-evasion match mode sees it: normalised as [`normalize_into`]
/// does, then every separator dropped, and each run of sentence ends written as
/// one `\n` (which no normalised phrase contains, so no match crosses it).
/// `加.微.信`, `加·微·信`, `加_微_信` and `加\u{200B}微\u{200B}信` all become `加微信`.
pub fn normalize_loose_into(text: &str, out: &mut String) {
    let nfkc: std::borrow::Cow<str> = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.into()
    } else {
        text.nfkc().collect::<String>().into()
    };
    // Full lower-casing only where it needs the context (a capital sigma).
    let lower: std::borrow::Cow<str> = if nfkc.contains('Σ') {
        nfkc.to_lowercase().into()
    } else {
        nfkc
    };
    let mut after_break = true;
    for c in lower.chars() {
        if ends_sentence(c) {
            if !after_break {
                out.push('\n');
                after_break = true;
            }
        } else if !is_separator(c) {
            out.extend(c.to_lowercase());
            after_break = false;
        }
    }
}

/// A phrase as the anti-evasion mode matches it: its separators and sentence ends
/// dropped (`v.x` → `vx`).
pub fn normalize_loose(phrase: &str) -> String {
    let mut out = String::with_capacity(phrase.len());
    normalize_loose_into(phrase, &mut out);
    out.retain(|c| c != '\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> String {
        let nfkc: String = text.nfkc().collect();
        nfkc.to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    #[test]
    fn evasions_normalise_to_the_phrase() {
        assert_eq!(normalize("加 微 信"), "加微信");
        assert_eq!(normalize("ＶＸ"), "vx");
        assert_eq!(normalize("V\u{3000}X\t号"), "vx号");
        assert_eq!(normalize("①"), "1");
    }

    #[test]
    fn zero_width_characters_stay() {
        assert_eq!(normalize("加\u{200B}微信"), "加\u{200B}微信");
    }

    #[test]
    fn greek_final_sigma_follows_str_to_lowercase() {
        assert_eq!(normalize("ΣΑΣ"), "σας");
        assert_eq!(normalize("ΣΑΣ"), reference("ΣΑΣ"));
    }

    #[test]
    fn appends_after_existing_text() {
        let mut buf = String::from("x");
        normalize_into("Ａ Ｂ ΣΑΣ", &mut buf);
        assert_eq!(buf, "xabσας");
    }

    #[test]
    fn the_loose_form_skips_separators_inside_a_sentence_only() {
        let loose = |t: &str| {
            let mut out = String::new();
            normalize_loose_into(t, &mut out);
            out
        };
        for disguise in [
            "加.微.信",
            "加·微·信",
            "加_微_信",
            "加\u{200B}微\u{200B}信",
            "加 ~微~ 信",
            "加😀微😀信",
        ] {
            assert_eq!(loose(disguise), "加微信", "{disguise:?}");
        }
        assert_eq!(loose("数量可以加。微信支付有优惠"), "数量可以加\n微信支付有优惠");
        assert_eq!(loose("可以加！\n\n微信？"), "可以加\n微信\n");
        assert_eq!(loose("ＶＸ：ａｂｃ"), "vxabc");
        assert_eq!(normalize_loose("v.x!"), "vx");
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_definition(text in "\\PC{0,40}") {
            proptest::prop_assert_eq!(normalize(&text), reference(&text));
        }

        #[test]
        fn is_idempotent_on_cjk_and_width_variants(text in "[a-zA-Z０-９Ａ-Ｚ加微信 　\t]{0,30}") {
            let once = normalize(&text);
            proptest::prop_assert_eq!(normalize(&once), once.clone());
        }
    }
}
