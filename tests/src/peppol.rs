//! Every invoice and credit note the tests issue is checked by the Peppol validator in
//! `tests/peppol/` (UBL 2.1 schema, EN 16931 and Peppol BIS 3 rules, Swedish SE-R rules), run with
//! the Python `scripts/test.sh` prepares in `target/peppol-venv`. A missing validator fails the
//! test: the validation is never skipped.

use std::path::PathBuf;
use std::process::Command;

/// The Python with `saxonche` and `xmlschema`: `KONSORTIUM_PEPPOL_PYTHON`, else the venv under `target/`.
fn python() -> PathBuf {
    match std::env::var_os("KONSORTIUM_PEPPOL_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/peppol-venv/bin/python")),
    }
}

/// Fails the test unless every document passes the validator, naming the rules each one breaks.
pub fn assert_valid(documents: &[&str]) {
    let dir = std::env::temp_dir().join(format!("konsortium-peppol-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let files: Vec<PathBuf> = documents
        .iter()
        .enumerate()
        .map(|(i, xml)| {
            let file = dir.join(format!("document-{i}.xml"));
            std::fs::write(&file, xml).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
            file
        })
        .collect();
    let python = python();
    let output = Command::new(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/peppol/validate.py"))
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("the Peppol validator needs {} (run scripts/test.sh, which creates it): {e}", python.display())
        });
    let report = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Peppol validation failed:\n{report}\n{}", documents.join("\n\n"));
    let _ = std::fs::remove_dir_all(dir);
}
