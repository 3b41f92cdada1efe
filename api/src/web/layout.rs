//! The frame every page shares, forms whose errors stand next to the field that caused them, and
//! money and dates as Swedish readers write them.

use super::session::{Session, CSRF_FIELD};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::HashMap;

/// Readable on a phone: one column below 600 px, large tap targets, no script.
const STYLE: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9;line-height:1.45}
header{background:#14425e;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
header a{color:#fff}
header .who{margin-left:auto;display:flex;gap:.75rem;align-items:center}
header button{background:transparent;color:#fff;border:1px solid #fff}
main{max-width:62rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
section,.card{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap}
form{margin:.5rem 0}
.forms{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
.forms form{flex:1 1 14rem;border-top:1px dashed #d8dde3;padding-top:.5rem}
.field{margin:.4rem 0}
label{display:block;font-weight:600;font-size:.95rem}
input,select,textarea{font:inherit;padding:.45rem;border:1px solid #8a96a3;border-radius:4px;width:100%;max-width:22rem}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border:2px solid #b00020}
button{font:inherit;padding:.5rem 1rem;border-radius:4px;border:1px solid #14425e;background:#14425e;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#14425e}
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f2a900;outline-offset:1px}
.error{color:#b00020;font-weight:600;margin:.25rem 0}
.error-summary{border:3px solid #b00020;background:#fff;padding:.5rem 1rem;margin:0 0 1rem;border-radius:4px}
.notice{background:#e7f4ea;border:1px solid #8cc79b;padding:.5rem 1rem;border-radius:4px}
.muted{color:#5b6670}
.total{font-size:1.15rem;font-weight:700}
@media (max-width:600px){
 main{padding:.5rem}
 table,thead,tbody,tr,th,td{display:block}
 thead{display:none}
 tr{border-bottom:2px solid #d8dde3;padding:.25rem 0}
 td{border:none;padding:.15rem .25rem}
 td.num{text-align:left}
 td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
 input,select,textarea{max-width:none}
}
"#;

/// A whole page: the header with the signed-in user and a sign-out button, then `body`.
pub fn page(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="sv" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Konsortium" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "Konsortium" }
                    @if let Some(session) = session {
                        nav aria-label="Huvudmeny" {
                            a href=(session.home()) { "Startsida" }
                        }
                        div.who {
                            span { (session.principal.subject) }
                            form method="post" action="/app/logout" {
                                input type="hidden" name=(CSRF_FIELD) value=(session.csrf());
                                button type="submit" { "Logga ut" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A short page that only tells something, with a link onwards.
pub struct Message<'a> {
    pub title: &'a str,
    pub text: &'a str,
    pub link: Option<(&'a str, &'a str)>,
}

pub fn message(message: &Message) -> Markup {
    page(
        message.title,
        None,
        html! {
            section { p role="alert" { (message.text) } @if let Some((href, text)) = message.link { p { a href=(href) { (text) } } } }
        },
    )
}

/// What a sign-in link opens: who it signs in and the button that does. The token travels in the
/// form, not in a link the page shows.
pub fn sign_in(subject: &str, token: &str) -> Markup {
    page(
        "Logga in",
        None,
        html! {
            section {
                p { "Länken loggar in " strong { (subject) } "." }
                form id="login" method="post" action="/app/login" {
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "Logga in" }
                }
                p { "Länken fungerar en gång. Är det inte du, stäng sidan." }
            }
        },
    )
}

/// After signing in: the browser goes on to the start page from this page of ours, so the new
/// `SameSite=Strict` cookie goes with it even when the link was opened from a mail in another site.
pub fn signed_in(home: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="sv" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(format!("0;url={home}"));
                title { "Inloggad – Konsortium" }
                style { (PreEscaped(STYLE)) }
            }
            body { main { h1 { "Du är inloggad" } p { a href=(home) { "Fortsätt till startsidan" } } } }
        }
    }
}

/// A form that was sent and refused: which form, the field at fault (when one is), the message,
/// and what was typed, so the page shows it again with the error beside the field.
#[derive(Debug, Clone, Default)]
pub struct Failed {
    pub form: String,
    pub field: Option<String>,
    pub message: String,
    pub values: HashMap<String, String>,
}

/// What every form on a page needs: the session's CSRF token and the refused submission, if any.
pub struct Forms<'a> {
    pub csrf: &'a str,
    pub failed: Option<&'a Failed>,
}

impl<'a> Forms<'a> {
    pub fn new(session: &'a Session, failed: Option<&'a Failed>) -> Forms<'a> {
        Forms { csrf: session.csrf(), failed }
    }

    /// Whether the refused submission was this form's.
    pub fn has_failed(&self, form: &str) -> bool {
        self.failed(form).is_some()
    }

    fn failed(&self, form: &str) -> Option<&'a Failed> {
        self.failed.filter(|f| f.form == form)
    }

    /// At the top of a page shown again after a refused form: what went wrong, linked to the field
    /// (or the form) it concerns, so neither a screen reader nor a phone user has to hunt for it.
    pub fn summary(&self) -> Markup {
        let Some(failed) = self.failed else { return html! {} };
        let target = match &failed.field {
            Some(field) if failed.values.contains_key(field) => format!("#{}-{field}", failed.form),
            _ => format!("#{}", failed.form),
        };
        html! {
            div.error-summary role="alert" {
                p { strong { "Det gick inte att spara." } " " (failed.message) }
                p { a href=(target) { "Gå till fältet" } }
            }
        }
    }

    /// A POST form with its CSRF token and a fresh idempotency key: sending the same rendering twice
    /// (a double click, a reload) stores once.
    pub fn form(&self, id: &str, action: &str, submit: &str, fields: Markup) -> Markup {
        let general = self.failed(id).filter(|f| f.field.is_none());
        html! {
            form method="post" action=(action) id=(id) novalidate {
                input type="hidden" name=(CSRF_FIELD) value=(self.csrf);
                input type="hidden" name="idempotencyKey" value=(uuid::Uuid::new_v4().to_string());
                @if let Some(failed) = general { p.error role="alert" id=(format!("{id}-error")) { (failed.message) } }
                (fields)
                button type="submit" { (submit) }
            }
        }
    }

    /// A labelled text field named as the API names the input, so an error's `field` finds it.
    pub fn field(&self, form: &str, name: &str, label: &str, hint: &str, default: &str) -> Markup {
        let failed = self.failed(form);
        let value = failed.and_then(|f| f.values.get(name)).map(String::as_str).unwrap_or(default);
        let error = failed.filter(|f| f.field.as_deref() == Some(name));
        let id = format!("{form}-{name}");
        let error_id = format!("{id}-error");
        html! {
            div.field {
                label for=(id) { (label) }
                input id=(id) name=(name) type="text" value=(value) placeholder=(hint) autocomplete="off"
                    autofocus[error.is_some()] aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())];
                @if let Some(error) = error { p.error id=(error_id) { (error.message) } }
            }
        }
    }

    /// A labelled choice among `options` (value, text).
    pub fn select(
        &self,
        form: &str,
        name: &str,
        label: &str,
        options: &[(String, String)],
        default: Option<&str>,
    ) -> Markup {
        let failed = self.failed(form);
        let chosen = failed.and_then(|f| f.values.get(name)).map(String::as_str).or(default);
        let error = failed.filter(|f| f.field.as_deref() == Some(name));
        let id = format!("{form}-{name}");
        let error_id = format!("{id}-error");
        html! {
            div.field {
                label for=(id) { (label) }
                select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())] {
                    @for (value, text) in options {
                        option value=(value) selected[chosen == Some(value.as_str())] { (text) }
                    }
                }
                @if let Some(error) = error { p.error id=(error_id) { (error.message) } }
            }
        }
    }

    /// A labelled multi-line field (a reason).
    pub fn textarea(&self, form: &str, name: &str, label: &str) -> Markup {
        let failed = self.failed(form);
        let value = failed.and_then(|f| f.values.get(name)).map(String::as_str).unwrap_or("");
        let error = failed.filter(|f| f.field.as_deref() == Some(name));
        let id = format!("{form}-{name}");
        let error_id = format!("{id}-error");
        html! {
            div.field {
                label for=(id) { (label) }
                textarea id=(id) name=(name) rows="2" aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())] { (value) }
                @if let Some(error) = error { p.error id=(error_id) { (error.message) } }
            }
        }
    }
}

/// `400000` → `4 000,00 kr`.
pub fn kr(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let abs = ore.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped},{:02} kr", abs % 100)
}

/// An amount in a table cell, with its öre in `data-ore` for whoever reads the page by machine.
pub fn money(ore: i64) -> Markup {
    html! { span.money data-ore=(ore) { (kr(ore)) } }
}

#[cfg(test)]
mod tests {
    use super::kr;

    #[test]
    fn kronor_are_grouped_by_thousands_with_a_decimal_comma() {
        assert_eq!(kr(400_000), "4 000,00 kr");
        assert_eq!(kr(5), "0,05 kr");
        assert_eq!(kr(-123_456_789), "-1 234 567,89 kr");
    }
}
