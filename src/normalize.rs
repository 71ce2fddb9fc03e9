//! Text normalisation of design §5.1: NFKC, then full lower-case, then every
//! `White_Space` character removed. Applied identically to message text and to
//! every phrase of a rule, so spacing, width and case tricks (`加 微 信`, `ＶＸ`)
//! do not evade a rule.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

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
