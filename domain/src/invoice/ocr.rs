//! OCR references (OCR-nummer) the buyer quotes when paying, so the payment finds its invoice.

/// The invoice number's digits, then a length digit and a Luhn check digit (the bank's "hård kontroll"
/// of length and check digit), e.g. `2026-00001` → `2026000017` + check digit.
pub fn ocr_reference(number: &str) -> String {
    let mut digits: Vec<u8> = number.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    let length = u8::try_from((digits.len() + 2) % 10).unwrap_or(0);
    digits.push(length);
    digits.push(luhn_check_digit(&digits));
    digits.into_iter().map(|d| char::from(b'0' + d)).collect()
}

/// The digit that makes `digits` followed by it pass the Luhn (modulus 10) check.
fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match i % 2 {
                0 => (d * 2) / 10 + (d * 2) % 10,
                _ => d,
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luhn_ok(text: &str) -> bool {
        let digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        luhn_check_digit(body) == check[0]
    }

    #[test]
    fn an_ocr_reference_carries_its_length_and_a_luhn_check_digit() {
        let ocr = ocr_reference("2026-00001");
        assert_eq!(ocr.len(), 11);
        assert_eq!(&ocr[..9], "202600001");
        assert_eq!(&ocr[9..10], "1", "11 digits in all");
        assert!(luhn_ok(&ocr));
        // The bankgiro's own example: 1234567897 is a valid reference.
        assert_eq!(luhn_check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), 7);
    }
}
