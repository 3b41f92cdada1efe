//! Free text from users: names, references, reasons. It ends up on invoices, in PDFs and in other
//! systems' logs, so it is bounded in length and carries no control characters: a U+0000 breaks
//! PostgreSQL text columns, and a stray newline in a one-line field breaks the layouts that print it.
//!
//! Surrounding whitespace, a pasted trailing newline included, is dropped rather than refused: it
//! never reaches the store either way.

/// A person's or organisation's name.
pub const NAME_MAX: usize = 200;
/// A contract, order or buyer's reference.
pub const REFERENCE_MAX: usize = 100;
/// Why something was rejected, terminated or ended: a few sentences a member can act on.
pub const REASON_MAX: usize = 1000;

/// Why a text is refused; the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidText {
    #[error("must not be empty")]
    Empty,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains a control character")]
    ControlCharacter,
}

/// A one-line text that must be given; returns it trimmed. The length counts characters, not bytes,
/// so "Östersund" is as long as "Ostersund".
pub fn required(text: &str, max_chars: usize) -> Result<String, InvalidText> {
    checked(text, max_chars, char::is_control)
}

/// A one-line text that may be left out; blank counts as left out, so a form's empty field and a
/// missing one mean the same.
pub fn optional(text: Option<&str>, max_chars: usize) -> Result<Option<String>, InvalidText> {
    match text {
        Some(text) if !text.trim().is_empty() => required(text, max_chars).map(Some),
        _ => Ok(None),
    }
}

/// A text that may run over several lines, such as a reason; newlines and tabs are kept, every other
/// control character (U+0000, carriage return, escape) is refused.
pub fn multiline(text: &str, max_chars: usize) -> Result<String, InvalidText> {
    checked(text, max_chars, |c| c.is_control() && c != '\n' && c != '\t')
}

fn checked(text: &str, max_chars: usize, forbidden: impl Fn(char) -> bool) -> Result<String, InvalidText> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidText::Empty);
    }
    if trimmed.chars().any(forbidden) {
        return Err(InvalidText::ControlCharacter);
    }
    // Stops counting at the limit, so an enormous input costs no more than a long one.
    if trimmed.chars().nth(max_chars).is_some() {
        return Err(InvalidText::TooLong { max: max_chars });
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_required_text_is_trimmed() {
        assert_eq!(required("  Östersunds kommun \n", NAME_MAX), Ok("Östersunds kommun".into()));
    }

    #[test]
    fn a_blank_required_text_is_refused() {
        for text in ["", "   ", "\n\t "] {
            assert_eq!(required(text, NAME_MAX), Err(InvalidText::Empty), "{text:?}");
            assert_eq!(multiline(text, REASON_MAX), Err(InvalidText::Empty), "{text:?}");
        }
    }

    #[test]
    fn a_text_longer_than_the_limit_is_refused_counting_characters() {
        assert_eq!(required(&"ö".repeat(REFERENCE_MAX), REFERENCE_MAX), Ok("ö".repeat(REFERENCE_MAX)));
        assert_eq!(
            required(&"ö".repeat(REFERENCE_MAX + 1), REFERENCE_MAX),
            Err(InvalidText::TooLong { max: REFERENCE_MAX })
        );
    }

    #[test]
    fn a_one_line_text_with_a_control_character_inside_is_refused() {
        for text in ["Anna\0", "An\nna", "An\tna", "An\rna", "An\u{1b}na", "An\u{85}na", "\u{7f}"] {
            assert_eq!(required(text, NAME_MAX), Err(InvalidText::ControlCharacter), "{text:?}");
        }
    }

    #[test]
    fn a_multiline_text_keeps_newlines_and_tabs_but_refuses_other_control_characters() {
        assert_eq!(multiline("Första raden\n\tandra raden\n", REASON_MAX), Ok("Första raden\n\tandra raden".into()));
        for text in ["rad\0", "rad\r\nrad", "rad\u{1b}[31m"] {
            assert_eq!(multiline(text, REASON_MAX), Err(InvalidText::ControlCharacter), "{text:?}");
        }
    }

    #[test]
    fn an_optional_text_left_blank_is_none() {
        assert_eq!(optional(None, REFERENCE_MAX), Ok(None));
        assert_eq!(optional(Some("  "), REFERENCE_MAX), Ok(None));
        assert_eq!(optional(Some(" SOC-FRISTAD "), REFERENCE_MAX), Ok(Some("SOC-FRISTAD".into())));
        assert_eq!(optional(Some("a\0"), REFERENCE_MAX), Err(InvalidText::ControlCharacter));
    }

    #[test]
    fn errors_read_as_the_end_of_a_sentence_about_the_field() {
        assert_eq!(InvalidText::TooLong { max: 100 }.to_string(), "is longer than 100 characters");
        assert_eq!(InvalidText::Empty.to_string(), "must not be empty");
        assert_eq!(InvalidText::ControlCharacter.to_string(), "contains a control character");
    }

    proptest! {
        #[test]
        fn accepted_text_is_trimmed_bounded_and_free_of_control_characters(
            text in any::<String>(),
            max in 0_usize..40
        ) {
            if let Ok(accepted) = required(&text, max) {
                prop_assert!(!accepted.chars().any(char::is_control));
                prop_assert!(accepted.chars().count() <= max);
                prop_assert_eq!(accepted.trim(), accepted.as_str());
                prop_assert!(!accepted.is_empty());
            }
            if let Ok(Some(accepted)) = optional(Some(&text), max) {
                prop_assert!(!accepted.chars().any(char::is_control));
            }
            if let Ok(accepted) = multiline(&text, max) {
                prop_assert!(!accepted.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                prop_assert!(accepted.chars().count() <= max);
            }
        }

        #[test]
        fn printable_text_within_the_limit_is_kept(text in "[a-zåäöA-ZÅÄÖ0-9][a-zåäöA-ZÅÄÖ0-9 .,-]{0,30}[a-zåäö]") {
            prop_assert_eq!(required(&text, NAME_MAX), Ok(text.clone()));
            prop_assert_eq!(multiline(&text, NAME_MAX), Ok(text));
        }

        #[test]
        fn a_text_containing_nul_is_always_refused(before in any::<String>(), after in any::<String>()) {
            let text = format!("{before}\u{0}{after}");
            prop_assert_eq!(required(&text, usize::MAX), Err(InvalidText::ControlCharacter));
            prop_assert_eq!(multiline(&text, usize::MAX), Err(InvalidText::ControlCharacter));
            prop_assert_eq!(optional(Some(&text), usize::MAX), Err(InvalidText::ControlCharacter));
        }
    }
}
