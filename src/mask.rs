//! Masks personal data in evidence text (design §7): mainland mobile numbers keep
//! the first 3 and last 4 digits, e-mail addresses the first character and the
//! domain, 18-character id-card numbers the first 6 and last 4.

use std::sync::LazyLock;

use regex::{Captures, Regex};

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("valid"));
/// Maximal runs of digits (an id card may end in X): classified by shape below.
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[0-9]+[Xx]?").expect("valid"));
static ID_CARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]$")
        .expect("valid")
});

fn keep(text: &str, head: usize, tail: usize) -> String {
    let hidden = text.len().saturating_sub(head + tail);
    format!(
        "{}{}{}",
        &text[..head],
        "*".repeat(hidden),
        &text[text.len() - tail..]
    )
}

fn mask_digits(run: &str) -> String {
    if ID_CARD.is_match(run) {
        return keep(run, 6, 4);
    }
    let digits = run.trim_end_matches(['X', 'x']);
    let bytes = digits.as_bytes();
    if bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
        return format!("{}{}", keep(digits, 3, 4), &run[digits.len()..]);
    }
    run.to_string()
}

pub fn mask_pii(text: &str) -> String {
    if !text.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
        return text.to_string();
    }
    let emails_masked = EMAIL.replace_all(text, |caps: &Captures<'_>| {
        let (local, domain) = caps[0].split_once('@').unwrap_or((&caps[0], ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    });
    DIGITS
        .replace_all(&emails_masked, |caps: &Captures<'_>| mask_digits(&caps[0]))
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phones_emails_and_id_cards() {
        assert_eq!(mask_pii("电话13812345678"), "电话138****5678");
        assert_eq!(mask_pii("13812345678,谢谢"), "138****5678,谢谢");
        assert_eq!(mask_pii("mail zhang.san@gmail.com ok"), "mail z***@gmail.com ok");
        assert_eq!(mask_pii("身份证110101199003071234"), "身份证110101********1234");
        assert_eq!(
            mask_pii("身份证11010119900307123X号"),
            "身份证110101********123X号"
        );
        assert_eq!(mask_pii("13812345678/13912345678"), "138****5678/139****5678");
    }

    #[test]
    fn leaves_order_numbers_and_plain_text() {
        assert_eq!(mask_pii("订单 2026111112345678901"), "订单 2026111112345678901");
        assert_eq!(mask_pii("价格 199 元"), "价格 199 元");
        assert_eq!(mask_pii("没有数字"), "没有数字");
    }
}
