//! Code page 437 (IBM PC), the character set SIE files are written in (`#FORMAT PC8`). ASCII maps to
//! itself; of the upper half this covers the accented letters and symbols of 0x80–0xAF, which hold
//! everything Swedish text needs (å ä ö Å Ä Ö é É ü). Anything else becomes `?`.

/// The characters of 0x80–0xAF, in order.
const UPPER: [char; 48] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»',
];

/// Text as CP437 bytes; a character CP437 lacks (or that this table leaves out) becomes `?`.
pub fn encode(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            c if c.is_ascii() => c as u8,
            c => UPPER.iter().position(|u| *u == c).and_then(|i| u8::try_from(0x80 + i).ok()).unwrap_or(b'?'),
        })
        .collect()
}

/// CP437 bytes as text; a byte above 0xAF becomes `?`.
pub fn decode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b if b.is_ascii() => char::from(*b),
            b => UPPER.get(usize::from(*b) - 0x80).copied().unwrap_or('?'),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_letters_take_their_pc8_codes_and_come_back() {
        assert_eq!(encode("åäöÅÄÖé"), vec![0x86, 0x84, 0x94, 0x8F, 0x8E, 0x99, 0x82]);
        assert_eq!(decode(&encode("Östersunds kommun, Fyndet é ü")), "Östersunds kommun, Fyndet é ü");
        assert_eq!(encode("€"), b"?".to_vec());
    }
}
