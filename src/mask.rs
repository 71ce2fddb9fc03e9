//! Masks personal data in the text people read (design §7): mainland mobile
//! numbers keep the first 3 and last 4 digits, e-mail addresses the first
//! character and the domain, 18-character id-card numbers the first 6 and last 4.
//!
//! People type these in many forms, and all of them are masked:
//! - digits in ASCII or full width (`１３８…`), in groups split by spaces, dashes or
//!   dots (`138-1234-5678`, `138 1234 5678`, `138.1234.5678`, up to three such
//!   characters between two groups);
//! - a country code before a mobile number (`+86 138 1234 5678`, `+8613812345678`,
//!   `0086-138…`): the code is kept, the number masked as above;
//! - e-mail addresses with full-width letters, digits, `＠` or `．`;
//! - id-card numbers ending in `X`/`x`/`Ｘ`, written whole or in groups.
//!
//! Only whole digit groups form a number: `订单 2026111112345678901` (one group of
//! 19 digits) is an order number and stays; a date or time beside a number does
//! not hide it (`2026-11-11 13812345678` masks the mobile number).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use regex::Regex;

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("valid"));
static ID_CARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$")
        .expect("valid")
});

/// Characters that may stand between two digit groups of one number.
fn is_group_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-'
            | '.'
            | '\u{A0}'
            | '\u{3000}'
            | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{FF0D}'
            | '\u{FF0E}'
            | '\u{FE63}'
    )
}

/// Separator characters allowed between two groups.
const MAX_SEPARATORS: usize = 3;

/// The ASCII character a full-width form stands for (`１` → `1`, `＠` → `@`), or `c`.
fn ascii_of(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{FE6B}' => '@',
        '\u{3002}' => '.',
        _ => c,
    }
}

fn digit_of(c: char) -> Option<u8> {
    let a = ascii_of(c);
    a.is_ascii_digit().then(|| a as u8 - b'0')
}

/// `batch` with the personal data of every text column masked, for printing it
/// to people (`zhijian check`).
pub fn mask_batch(batch: &RecordBatch) -> crate::Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| -> crate::Result<ArrayRef> {
            if !matches!(
                column.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                return Ok(column.clone());
            }
            let text = cast(column, &DataType::Utf8)?;
            let masked: StringArray = text.as_string::<i32>().iter().map(|v| v.map(mask_pii)).collect();
            Ok(cast(&(Arc::new(masked) as ArrayRef), column.data_type())?)
        })
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// `text` with its mobile numbers, e-mail addresses and id-card numbers masked.
pub fn mask_pii(text: &str) -> String {
    if !text.chars().any(|c| digit_of(c).is_some() || ascii_of(c) == '@') {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    mask_emails(&mut chars);
    mask_numbers(&mut chars);
    chars.into_iter().collect()
}

/// E-mail addresses, found on the ASCII view of the text (one character for each
/// original one, so positions carry over).
fn mask_emails(chars: &mut Vec<char>) {
    if !chars.iter().any(|c| ascii_of(*c) == '@') {
        return;
    }
    let folded: String = chars.iter().map(|c| ascii_of(*c)).collect();
    // Byte offset in `folded` → character index.
    let mut index_of = vec![0usize; folded.len() + 1];
    for (i, (at, _)) in folded.char_indices().enumerate() {
        index_of[at] = i;
    }
    index_of[folded.len()] = chars.len();
    let mut replaced: Vec<(usize, usize)> = Vec::new();
    for found in EMAIL.find_iter(&folded) {
        let start = index_of[found.start()];
        let at = index_of[found.start() + found.as_str().find('@').expect("an address has @")];
        replaced.push((start, at));
    }
    // Right to left, so earlier positions stay valid.
    for (start, at) in replaced.into_iter().rev() {
        chars.splice(start + 1..at, ['*', '*', '*']);
    }
}

/// A group of consecutive digits: its character range.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

/// Mobile and id-card numbers made of whole digit groups.
fn mask_numbers(chars: &mut [char]) {
    let mut i = 0;
    while i < chars.len() {
        if digit_of(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let groups = groups_from(chars, i);
        let end = groups.last().expect("at least one group").end;
        mask_run(chars, &groups);
        i = end;
    }
}

/// The digit groups of one run starting at `start`: groups joined by at most
/// [`MAX_SEPARATORS`] separator characters. An `X` may end a group (id cards).
fn groups_from(chars: &[char], start: usize) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut at = start;
    loop {
        let begin = at;
        while at < chars.len() && digit_of(chars[at]).is_some() {
            at += 1;
        }
        if at < chars.len() && matches!(ascii_of(chars[at]), 'X' | 'x') {
            at += 1;
        }
        groups.push(Group {
            start: begin,
            end: at,
        });
        let mut next = at;
        while next < chars.len() && next - at < MAX_SEPARATORS && is_group_separator(chars[next]) {
            next += 1;
        }
        if next == at || next >= chars.len() || digit_of(chars[next]).is_none() {
            return groups;
        }
        at = next;
    }
}

/// The characters at `positions`, as upper-case ASCII.
fn ascii_at(chars: &[char], positions: &[usize]) -> String {
    positions
        .iter()
        .map(|at| ascii_of(chars[*at]).to_ascii_uppercase())
        .collect()
}

/// Masks every number found in the run of `groups`, trying the longest spans first.
fn mask_run(chars: &mut [char], groups: &[Group]) {
    let mut first = 0;
    while first < groups.len() {
        let found = (first + 1..=groups.len()).rev().find_map(|last| {
            let mut positions: Vec<usize> = groups[first..last].iter().flat_map(|g| g.start..g.end).collect();
            let kind = number_kind(&ascii_at(chars, &positions)).or_else(|| {
                // An X after the digits may start the next word rather than be an
                // id card's check character.
                let x = positions
                    .last()
                    .is_some_and(|at| ascii_of(chars[*at]).eq_ignore_ascii_case(&'x'));
                x.then(|| positions.pop())?;
                number_kind(&ascii_at(chars, &positions))
            })?;
            Some((last, kind, positions))
        });
        match found {
            Some((last, (head, tail), positions)) => {
                let hidden = positions.len().saturating_sub(head + tail);
                for &at in positions.iter().skip(head).take(hidden) {
                    chars[at] = '*';
                }
                first = last;
            }
            None => first += 1,
        }
    }
}

/// How many leading and trailing digits stay visible when `digits` is a personal
/// number; `None` when it is not one.
fn number_kind(digits: &str) -> Option<(usize, usize)> {
    let is_mobile = |d: &str| {
        let b = d.as_bytes();
        b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && d.bytes().all(|c| c.is_ascii_digit())
    };
    if is_mobile(digits) {
        Some((3, 4))
    } else if let Some(rest) = digits.strip_prefix("0086").filter(|r| is_mobile(r)) {
        Some((4 + 3, rest.len().min(4)))
    } else if digits.strip_prefix("86").is_some_and(is_mobile) {
        Some((2 + 3, 4))
    } else if ID_CARD.is_match(digits) {
        Some((6, 4))
    } else {
        None
    }
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
    fn masks_the_forms_people_type() {
        let cases = [
            ("打138-1234-5678", "打138-****-5678"),
            ("打138 1234 5678谢谢", "打138 **** 5678谢谢"),
            ("+86 138 1234 5678", "+86 138 **** 5678"),
            ("+8613812345678", "+86138****5678"),
            ("8613812345678", "86138****5678"),
            ("tel:0086-138-1234-5678", "tel:0086-138-****-5678"),
            ("１３８１２３４５６７８", "１３８****５６７８"),
            ("１３８－１２３４－５６７８", "１３８－****－５６７８"),
            ("ｚｈａｎｇ＠ｇｍａｉｌ．ｃｏｍ", "ｚ***＠ｇｍａｉｌ．ｃｏｍ"),
            ("zhang＠gmail.com", "z***＠gmail.com"),
            (
                "身份证１１０１０１１９９００３０７１２３Ｘ",
                "身份证１１０１０１********１２３Ｘ",
            ),
            ("身份证 110101 19900307 1234", "身份证 110101 ******** 1234"),
            ("2026-11-11 13812345678", "2026-11-11 138****5678"),
            ("13812345678xyz", "138****5678xyz"),
            ("110101199003071234x号", "110101********1234x号"),
        ];
        for (text, masked) in cases {
            assert_eq!(mask_pii(text), masked, "{text}");
        }
    }

    #[test]
    fn leaves_order_numbers_and_plain_text() {
        assert_eq!(mask_pii("订单 2026111112345678901"), "订单 2026111112345678901");
        assert_eq!(mask_pii("价格 199 元"), "价格 199 元");
        assert_eq!(mask_pii("没有数字"), "没有数字");
    }
}
