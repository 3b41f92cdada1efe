//! The web pages under `/app/` in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, started here on a free port), against the real server on a real database. Every
//! page visited is saved as a screenshot under `target/screenshots/`, one at phone width too.
//!
//! Chromium and chromedriver are Debian's `chromium` and `chromium-driver`; `scripts/test.sh`
//! installs them when missing. A missing browser fails these tests: they are never skipped.
//!
//! The last tests speak plain HTTP: what the cookie is, and what a form without its CSRF token gets.

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use konsortium_api::auth::{principal, Role};
use konsortium_tests::{event_count, tour, TestApp, TestDb};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn screenshots() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/screenshots"))
}

/// Headless Chromium with a fresh profile, through its own chromedriver; both end with the test.
struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
    /// The test's name, which prefixes its screenshots.
    test: String,
    shots: std::sync::atomic::AtomicUsize,
}

impl Browser {
    async fn start(test: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("no free port: {e}"))
            .port();
        let driver = Command::new(std::env::var("KONSORTIUM_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver is needed at {CHROMEDRIVER} (scripts/test.sh installs it): {e}"));
        // chromedriver takes a moment to listen; wait for it, without a time limit on the assertion.
        let mut listening = false;
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                listening = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(listening, "chromedriver did not start listening on port {port}");
        let profile = std::env::temp_dir().join(format!("konsortium-chromium-{}", uuid::Uuid::new_v4().simple()));
        let chromium = std::env::var("KONSORTIUM_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1100,900", "--lang=sv-SE",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("Chromium did not start a WebDriver session: {e}"));
        std::fs::create_dir_all(screenshots()).unwrap_or_else(|e| panic!("cannot create target/screenshots: {e}"));
        // This run's screenshots replace the last run's of the same test.
        for old in std::fs::read_dir(screenshots()).into_iter().flatten().flatten() {
            if old.file_name().to_string_lossy().starts_with(&format!("{test}-")) {
                let _ = std::fs::remove_file(old.path());
            }
        }
        Browser { client, driver, profile, test: test.to_string(), shots: Default::default() }
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Saves what the browser shows as `target/screenshots/{test}-{n}-{name}.png`.
    async fn shot(&self, name: &str) {
        let n = self.shots.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("no screenshot: {e}"));
        let path = screenshots().join(format!("{}-{n:02}-{name}.png", self.test));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The element, once the page shows it.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("the page shows no {css}: {e}\n{}", self.text().await),
        }
    }

    async fn text_of(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("no text in {css}: {e}"))
    }

    /// The whole page's visible text, for assertions and failure messages.
    async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("<no body: {e}>"),
        }
    }

    async fn path(&self) -> String {
        self.client.current_url().await.map(|u| u.path().to_string()).unwrap_or_default()
    }

    /// Types into a field, replacing what it held.
    async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("cannot clear {css}: {e}"));
        field.send_keys(text).await.unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Presses a form's submit button and waits for the next page.
    async fn submit(&self, form: &str) {
        let before = self.find("html").await;
        self.find(&format!("[id='{form}'] button[type=submit]"))
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot send {form}: {e}"));
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("body"))
            .await
            .unwrap_or_else(|e| panic!("no page after {form}: {e}"));
        // The old page's root goes stale once the new one has loaded.
        for _ in 0..600 {
            if before.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in with a link (its page's button) and waits for the start page it leads to.
    async fn sign_in(&self, link: &str, lands_on: &str) {
        self.goto(link).await;
        self.submit("login").await;
        for _ in 0..600 {
            if self.path().await == lands_on {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(self.path().await, lands_on, "{}", self.text().await);
    }

    /// The session cookie, as the browser holds it.
    async fn session_cookie(&self) -> fantoccini::cookies::Cookie<'static> {
        self.client
            .get_named_cookie("konsortium_session")
            .await
            .unwrap_or_else(|e| panic!("the browser holds no session cookie: {e}"))
    }

    async fn close(self) {
        let Browser { client, mut driver, profile, .. } = self;
        let _ = client.close().await;
        let _ = driver.kill();
        let _ = driver.wait();
        let _ = std::fs::remove_dir_all(profile);
    }
}

/// A one-time sign-in link, as `konsortium token --login-url` prints it, valid for `ttl` seconds
/// (negative: expired already).
fn link(server: &TestApp, role: Role, member: Option<&str>, ttl: i64) -> String {
    let who = principal(format!("{}@example.se", role.as_str()), role, member.map(str::to_string), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + ttl;
    let token = server.app().keys().mint_until(&who, expires).unwrap_or_else(|e| panic!("{e}"));
    format!("{}/app/login?token={token}", server.base)
}

/// Fyndet with one place of Östersund's agreement allocated from 1 November 2024, opened that day,
/// and the participant "p-anna" registered: what a member needs before November's report.
struct November {
    member: String,
    agreement: String,
    place: String,
    participant: String,
}

async fn november(server: &TestApp, places: u64) -> November {
    tour::consortium(server).await;
    let member = tour::fyndet(server).await;
    let agreement = tour::agreement(server, tour::ostersund_input()).await;
    let allocation = tour::allocation(server, &agreement, &member, places, "2024-11-01").await;
    let place = tour::place(server, &agreement, &allocation, "2024-11-01").await;
    let participant = server.participant("p-anna").await;
    November { member, agreement, place, participant }
}

async fn places_open(server: &TestApp, member: &str) -> i64 {
    let data = server.ok("query($m: ID) { places(memberId: $m) { totalCount } }", json!({ "m": member })).await;
    data["places"]["totalCount"].as_i64().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reports_november_in_the_browser_and_staff_approve_and_invoice_it() {
    let db = TestDb::postgres().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 1).await;
    let other = tour::member(&server, "Cykelköket Östersund", "556002-1361", "ASF", "45").await;
    let browser = Browser::start("member-november").await;

    // The member signs in with its link and lands on its own page.
    let home = format!("/app/members/{}", setup.member);
    browser.sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &home).await;
    assert!(browser.text().await.contains("Returbutiken Fyndet"));
    browser.shot("member-start").await;

    // It fills the place from 11 November; the participant's name shows on the place.
    let fill = format!("fill-{}", setup.place);
    browser.type_into(&format!("#{fill}-participantId"), &setup.participant).await;
    browser.type_into(&format!("#{fill}-from"), "2024-11-11").await;
    browser.shot("member-filling").await;
    browser.submit(&fill).await;
    let who = browser.text_of(&format!("#place-{} .participant", setup.place)).await;
    assert_eq!(who, "Test p-anna", "{}", browser.text().await);
    browser.shot("member-place-filled").await;

    // It has November computed, checks it, submits it and sees 20 of 30 days at 6 000 kr: 400 000 öre.
    browser.goto(&format!("{}{home}/reports", server.base)).await;
    browser.type_into("#calc-month", "2024-11").await;
    browser.shot("member-reports").await;
    let before = event_count(server.app().db()).await;
    browser.submit("calc").await;
    assert_eq!(browser.find("#total .money").await.attr("data-ore").await.ok().flatten().as_deref(), Some("400000"));
    assert_eq!(event_count(server.app().db()).await, before, "computing the month stores nothing");
    browser.shot("member-november-computed").await;
    browser.submit("submit").await;
    assert_eq!(browser.text_of("#status").await, "Inskickad, väntar på attest");
    let total = browser.find("#total .money").await;
    assert_eq!(total.attr("data-ore").await.ok().flatten().as_deref(), Some("400000"));
    assert_eq!(total.text().await.unwrap_or_default(), "4 000,00 kr");
    assert_eq!(browser.text_of("#places td[data-label=Dagar]").await, "20 av 30");
    assert_eq!(browser.text_of("#commission .money").await, "200,00 kr");
    assert_eq!(browser.text_of("#payout .money").await, "3 800,00 kr");
    browser.shot("member-november-report").await;
    let report_path = browser.path().await;
    browser.client.set_window_size(390, 844).await.unwrap_or_else(|e| panic!("{e}"));
    browser.shot("member-november-report-phone").await;
    browser.goto(&format!("{}{home}", server.base)).await;
    browser.shot("member-start-phone").await;
    browser.client.set_window_size(1100, 900).await.unwrap_or_else(|e| panic!("{e}"));

    // Another member's page is refused: 403, in the browser and over HTTP with the same cookie.
    browser.goto(&format!("{}/app/members/{other}", server.base)).await;
    assert!(browser.text().await.contains("Åtkomst nekad"), "{}", browser.text().await);
    browser.shot("member-other-member-refused").await;
    let cookie = browser.session_cookie().await;
    let response = server
        .client()
        .get(format!("{}/app/members/{other}", server.base))
        .header("cookie", format!("konsortium_session={}", cookie.value()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 403);
    let staff_page = server
        .client()
        .get(format!("{}/app/staff", server.base))
        .header("cookie", format!("konsortium_session={}", cookie.value()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(staff_page.status().as_u16(), 403, "a member is not staff");

    // Staff sign in, approve the month from the queue and run the month-end.
    browser.sign_in(&link(&server, Role::Staff, None, 600), "/app/staff").await;
    browser.shot("staff-start").await;
    let report_id = report_path.rsplit('/').next().unwrap_or_default().to_string();
    browser.submit(&format!("approve-{report_id}")).await;
    assert!(browser.text().await.contains("Inga månader väntar på attest"), "{}", browser.text().await);
    browser.type_into("#month-end-month", "2024-11").await;
    browser.submit("month-end").await;
    assert!(browser.text_of(".notice").await.contains("1 fakturor utfärdade"));
    let row = browser.text_of("#invoice-list tbody tr").await;
    assert!(row.contains("Östersunds kommun") && row.contains("4 000,00 kr"), "{row}");
    browser.shot("staff-invoiced").await;
    let invoices =
        server.ok("{ invoices(first: 10) { nodes { id payableOre months { reportId } } } }", json!({})).await;
    let nodes = invoices["invoices"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 1, "{invoices:#}");
    assert_eq!(nodes[0]["payableOre"], 400_000);
    assert_eq!(nodes[0]["months"][0]["reportId"], report_id.as_str());

    // The invoice's XML and the SIE file come with the staff session.
    let cookie = browser.session_cookie().await;
    let xml_href = browser
        .find("#invoice-list a[href$='.xml']")
        .await
        .attr("href")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no XML link"));
    let get = |path: String| {
        server
            .client()
            .get(format!("{}{path}", server.base))
            .header("cookie", format!("konsortium_session={}", cookie.value()))
            .send()
    };
    let xml = get(xml_href).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(xml.status().as_u16(), 200);
    let xml = xml.text().await.unwrap_or_default();
    assert!(xml.contains("<cbc:PayableAmount currencyID=\"SEK\">4000.00</cbc:PayableAmount>"), "{xml}");
    let sie = get("/app/staff/sie?month=2024-11".into()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sie.status().as_u16(), 200);
    assert!(sie.bytes().await.unwrap_or_default().starts_with(b"#FLAGGA"));

    // Once staff have run the payout statements, the member finds November's among its own, as CSV too.
    let issued =
        server.ok("mutation { issuePayoutStatements(month: \"2024-11\") { number payoutOre } }", json!({})).await;
    let payout = issued["issuePayoutStatements"][0]["payoutOre"].as_i64().unwrap_or(-1);
    assert!(payout > 0, "{issued:#}");
    browser.sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &home).await;
    browser.goto(&format!("{}{home}/payouts", server.base)).await;
    let shown = browser.find("td[data-label=Utbetalning] .money").await.attr("data-ore").await.ok().flatten();
    assert_eq!(shown, Some(payout.to_string()));
    browser.shot("member-payouts").await;
    let csv_href =
        browser.find("a[href*='statements.csv']").await.attr("href").await.ok().flatten().unwrap_or_default();
    let cookie = browser.session_cookie().await;
    let csv = server
        .client()
        .get(format!("{}{csv_href}", server.base))
        .header("cookie", format!("konsortium_session={}", cookie.value()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(csv.status().as_u16(), 200);
    let csv = csv.text().await.unwrap_or_default();
    assert!(csv.contains("Returbutiken Fyndet,2024-11,"), "{csv}");
    browser.sign_in(&link(&server, Role::Staff, None, 600), "/app/staff").await;

    // Utilisation of the agreement, with its chart.
    browser.goto(&format!("{}/app/staff/agreements/{}?from=2024-09&to=2024-12", server.base, setup.agreement)).await;
    let november = "#utilisation tbody tr:nth-child(3)";
    assert_eq!(browser.text_of(&format!("{november} td[data-label=Månad]")).await, "2024-11");
    assert_eq!(
        browser.text_of(&format!("{november} td[data-label=Fyllda]")).await,
        "20",
        "place-days filled in November"
    );
    let chart = browser
        .client
        .execute("return document.querySelector('img[src*=\"utilisation.svg\"]').naturalWidth;", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(chart.as_u64().unwrap_or(0) > 0, "the chart loads with the staff session: {chart}");
    browser.shot("staff-utilisation").await;

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_employs_the_participant_and_later_records_that_they_left_for_studies() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 1).await;
    let filled = tour::fill(&server, &setup.place, "p-anna", "2024-11-11").await;
    assert!(filled.get("errors").is_none(), "{filled:#}");
    let browser = Browser::start("employ-vacate").await;
    let home = format!("/app/members/{}", setup.member);
    browser.sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &home).await;

    let employ = format!("employ-{}", setup.place);
    browser.type_into(&format!("#{employ}-from"), "2024-12-01").await;
    browser.submit(&employ).await;
    let filled_by = browser.text_of(&format!("#place-{} .filled-by", setup.place)).await;
    assert!(filled_by.contains("anställd från 2024-12-01"), "{filled_by}");
    browser.shot("employed").await;

    let vacate = format!("vacate-{}", setup.place);
    browser.type_into(&format!("#{vacate}-lastDay"), "2025-01-31").await;
    browser.find(&format!("#{vacate}-reason")).await.select_by_value("STUDIES").await.unwrap_or_else(|e| panic!("{e}"));
    browser.submit(&vacate).await;
    let history = browser.text_of(&format!("#place-{} details", setup.place)).await;
    assert!(history.contains("Tidigare deltagare"), "{history}");
    browser
        .find(&format!("#place-{} details summary", setup.place))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let history = browser.text_of(&format!("#place-{} details", setup.place)).await;
    assert!(history.contains("Test p-anna: 2024-11-11 – 2025-01-31 (Studier)"), "{history}");
    browser.shot("left-for-studies").await;
    let place = server
        .ok(
            "query($p: ID!) { place(id: $p) { filledBy stays { employedFrom to exitReason } } }",
            json!({ "p": setup.place }),
        )
        .await;
    assert_eq!(place["place"]["filledBy"], Value::Null);
    assert_eq!(
        place["place"]["stays"][0],
        json!({ "employedFrom": "2024-12-01", "to": "2025-01-31", "exitReason": "STUDIES" })
    );

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_registers_a_participant_and_fills_a_place_with_them() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 1).await;
    let browser = Browser::start("register").await;
    let home = format!("/app/members/{}", setup.member);
    browser.sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &home).await;

    let number = konsortium_domain::personnummer::Personnummer::generate(time::macros::date!(1990 - 04 - 02), 7, false)
        .to_string();
    let wrong_check_digit = {
        let last = number.chars().last().and_then(|c| c.to_digit(10)).unwrap_or(0);
        format!("{}{}", &number[..number.len() - 1], (last + 1) % 10)
    };
    browser.type_into("#register-name", "Bodil Berg").await;
    browser.type_into("#register-personnummer", &wrong_check_digit).await;
    browser.type_into("#register-yearOfBirth", "1990").await;
    browser.type_into("#register-referringAuthority", "Arbetsförmedlingen").await;
    let before = event_count(server.app().db()).await;
    browser.submit("register").await;
    assert!(!browser.text_of("#register-personnummer-error").await.is_empty());
    assert_eq!(event_count(server.app().db()).await, before, "nobody was registered");
    assert!(!browser.text().await.contains(&wrong_check_digit), "no message repeats the personnummer");
    browser.shot("register-with-a-wrong-check-digit").await;

    browser.type_into("#register-personnummer", &number).await;
    browser.submit("register").await;
    let id = browser.text_of("#registered").await;
    let fill = format!("fill-{}", setup.place);
    let offered = browser.find(&format!("#{fill}-participantId")).await.prop("value").await.ok().flatten();
    assert_eq!(offered.as_deref(), Some(id.as_str()), "the fill form offers the new id");
    browser.shot("registered").await;
    browser.type_into(&format!("#{fill}-from"), "2024-11-11").await;
    browser.submit(&fill).await;
    assert_eq!(browser.text_of(&format!("#place-{} .participant", setup.place)).await, "Bodil Berg");

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_send_a_month_back_with_a_reason_and_the_member_reads_it() {
    let db = TestDb::postgres().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 1).await;
    let filled = tour::fill(&server, &setup.place, "p-anna", "2024-11-11").await;
    assert!(filled.get("errors").is_none(), "{filled:#}");
    let submitted = tour::submit(&server, &setup.agreement, &setup.member, "2024-11").await;
    let report = submitted["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
    let browser = Browser::start("send-back").await;
    browser.sign_in(&link(&server, Role::Staff, None, 600), "/app/staff").await;

    // Without a reason the form is refused beside the reason field, and the month stays in the queue.
    let reject = format!("reject-{report}");
    let before = event_count(server.app().db()).await;
    browser.submit(&reject).await;
    let error = browser.text_of(&format!("[id='{reject}-reason-error']")).await;
    assert!(!error.is_empty());
    assert_eq!(event_count(server.app().db()).await, before);
    browser.shot("send-back-without-a-reason").await;
    browser.type_into(&format!("[id='{reject}-reason']"), "Platsen öppnades först den 1 december").await;
    browser.submit(&reject).await;
    assert!(browser.text().await.contains("Inga månader väntar på attest"), "{}", browser.text().await);

    browser
        .sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &format!("/app/members/{}", setup.member))
        .await;
    browser.goto(&format!("{}/app/members/{}/reports/{report}", server.base, setup.member)).await;
    assert_eq!(browser.text_of("#status").await, "Återskickad");
    // The place's line, read from the report's events (the view keeps totals only).
    let places = browser.text_of("#places").await;
    assert!(places.contains(&setup.place), "{places}");
    assert!(browser.text().await.contains("Skäl till återskick: Platsen öppnades först den 1 december"));
    browser.shot("member-reads-why").await;

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_form_input_shows_the_fields_error_and_stores_nothing() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 1).await;
    let browser = Browser::start("bad-input").await;
    let home = format!("/app/members/{}", setup.member);
    browser.sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &home).await;

    let before = event_count(server.app().db()).await;
    let fill = format!("fill-{}", setup.place);
    browser.type_into(&format!("#{fill}-participantId"), &setup.participant).await;
    browser.type_into(&format!("#{fill}-from"), "2024-11-31").await;
    browser.submit(&fill).await;
    let error = browser.text_of(&format!("#{fill}-from-error")).await;
    assert!(error.contains("2024-11-31"), "the error names the bad date: {error}");
    let field = browser.find(&format!("#{fill}-from")).await;
    assert_eq!(field.attr("aria-invalid").await.ok().flatten().as_deref(), Some("true"));
    assert_eq!(field.prop("value").await.ok().flatten().as_deref(), Some("2024-11-31"), "what was typed stays");
    browser.shot("fill-with-a-day-that-does-not-exist").await;
    assert_eq!(event_count(server.app().db()).await, before, "a refused form stores nothing");

    // A rule the domain enforces (a place filled before it opened) shows on the form too.
    browser.type_into(&format!("#{fill}-from"), "2024-10-01").await;
    browser.submit(&fill).await;
    let error = browser.text_of(&format!("#{fill}-error")).await;
    assert!(!error.is_empty());
    browser.shot("fill-before-the-place-opened").await;
    assert_eq!(event_count(server.app().db()).await, before);

    // A month that is not one is refused beside the month field.
    browser.goto(&format!("{}{home}/reports", server.base)).await;
    browser.type_into("#calc-month", "2024-13").await;
    browser.submit("calc").await;
    assert!(!browser.text_of("#calc-month-error").await.is_empty());
    browser.shot("report-month-that-does-not-exist").await;
    assert_eq!(event_count(server.app().db()).await, before);

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_sent_twice_stores_once() {
    let db = TestDb::postgres().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 3).await;
    let browser = Browser::start("double-submit").await;
    let home = format!("/app/members/{}", setup.member);
    browser.sign_in(&link(&server, Role::Member, Some(&setup.member), 600), &home).await;
    assert_eq!(places_open(&server, &setup.member).await, 1);
    let before = event_count(server.app().db()).await;

    // The same rendering of "open a place" sent twice, as a double click does; without its key
    // each would open a place of its own (the allocation has room for three).
    let form = browser.find("form[id^='open-']").await.attr("id").await.ok().flatten().unwrap_or_default();
    let statuses = browser
        .client
        .execute_async(
            "const [id, done] = arguments;
             const form = document.getElementById(id);
             const send = () => fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), redirect: 'manual' });
             Promise.all([send(), send()]).then(rs => done(rs.map(r => r.type))).catch(e => done(String(e)));",
            vec![json!(form)],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(statuses, json!(["opaqueredirect", "opaqueredirect"]), "both answered as a success");
    assert_eq!(places_open(&server, &setup.member).await, 2, "one place more, not two");
    assert_eq!(event_count(server.app().db()).await, before + 2, "the split's slot and the place, once");
    browser.client.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(browser.client.find_all(Locator::Css("[data-place]")).await.map(|v| v.len()).unwrap_or(0), 2);
    browser.shot("two-places-after-a-double-submit").await;

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_used_link_says_so() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let member = tour::fyndet(&server).await;
    let browser = Browser::start("links").await;

    browser.goto(&link(&server, Role::Member, Some(&member), -60)).await;
    assert!(browser.text().await.contains("Inloggningslänken har gått ut"), "{}", browser.text().await);
    browser.shot("expired-link").await;

    // A mail service that opens the link to scan it, twice, uses nothing: the link's page asks
    // for a button press, and the member still signs in with it afterwards.
    let once = link(&server, Role::Member, Some(&member), 600);
    let scanner = reqwest::Client::new();
    for _ in 0..2 {
        let scanned = scanner.get(&once).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scanned.status(), reqwest::StatusCode::OK);
        let page = scanned.text().await.unwrap_or_default();
        assert!(page.contains("Logga in") && !page.contains("redan"), "{page}");
    }
    browser.sign_in(&once, &format!("/app/members/{member}")).await;
    browser.goto(&once).await;
    assert!(browser.text().await.contains("Inloggningslänken har redan använts"), "{}", browser.text().await);
    browser.shot("used-link").await;

    // Signing out ends the session in this browser.
    browser.goto(&format!("{}/app/members/{member}", server.base)).await;
    browser.find("header form button").await.click().await.unwrap_or_else(|e| panic!("{e}"));
    browser.find("main").await;
    assert!(browser.text().await.contains("Du är utloggad"), "{}", browser.text().await);
    browser.goto(&format!("{}/app/members/{member}", server.base)).await;
    assert!(browser.text().await.contains("Du är inte inloggad"), "{}", browser.text().await);
    browser.shot("signed-out").await;

    browser.close().await;
    server.stop().await;
    db.remove().await;
}

/// A client that shows redirects instead of following them.
fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"))
}

/// Signs in over HTTP; returns the `Set-Cookie` header and the cookie's `name=value`.
async fn sign_in_plain(server: &TestApp, link: &str) -> (String, String) {
    let response = plain_client().get(link).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 200);
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("x-frame-options"), "DENY", "no other site frames the pages");
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("referrer-policy"), "no-referrer", "the link's token never leaves in a Referer");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("set-cookie"), "", "opening the link signs nobody in");
    // The link's page has the button; pressing it posts the token.
    let token = link.split("token=").nth(1).unwrap_or_default().to_string();
    let response = plain_client()
        .post(format!("{}/app/login", server.base))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 200);
    let set_cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let pair = set_cookie.split(';').next().unwrap_or_default().to_string();
    (set_cookie, pair)
}

async fn web_session_is_a_signed_http_only_strict_cookie_and_forms_need_their_csrf_token(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 2).await;
    let (set_cookie, cookie) = sign_in_plain(&server, &link(&server, Role::Member, Some(&setup.member), 600)).await;
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/app"] {
        assert!(set_cookie.contains(flag), "{flag} missing from {set_cookie}");
    }
    let client = plain_client();
    let page = |path: String, cookie: Option<String>| {
        let mut request = client.get(format!("{}{path}", server.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let home = format!("/app/members/{}", setup.member);
    assert_eq!(page(home.clone(), Some(cookie.clone())).await.map(|r| r.status().as_u16()).ok(), Some(200));
    assert_eq!(page(home.clone(), None).await.map(|r| r.status().as_u16()).ok(), Some(401));
    // A cookie whose signature was tampered with is no session.
    let forged = format!("{cookie}x");
    assert_eq!(page(home.clone(), Some(forged)).await.map(|r| r.status().as_u16()).ok(), Some(401));

    // The page's forms carry the CSRF token; a POST without it, or with another, is 403 and stores nothing.
    let html = page(home.clone(), Some(cookie.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert!(!csrf.is_empty(), "no CSRF token in the page");
    let before = event_count(server.app().db()).await;
    let fill = format!("{}{home}/places/{}/fill", server.base, setup.place);
    let post =
        |fields: Vec<(&'static str, String)>| client.post(&fill).header("cookie", cookie.clone()).form(&fields).send();
    let fields = |csrf: Option<&str>| {
        let mut fields = vec![("participantId", setup.participant.clone()), ("from", "2024-11-11".to_string())];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf.to_string()));
        }
        fields
    };
    assert_eq!(post(fields(None)).await.map(|r| r.status().as_u16()).ok(), Some(403));
    assert_eq!(post(fields(Some("not-the-token"))).await.map(|r| r.status().as_u16()).ok(), Some(403));
    assert_eq!(event_count(server.app().db()).await, before, "a forged form stores nothing");
    let sent = post(fields(Some(&csrf))).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sent.status().as_u16(), 303, "{}", sent.text().await.unwrap_or_default());
    let place = server.ok("query($p: ID!) { place(id: $p) { filledBy } }", json!({ "p": setup.place })).await;
    assert_eq!(place["place"]["filledBy"], Value::String(setup.participant.clone()));

    server.stop().await;
    db.remove().await;
}
konsortium_tests::both_stores!(web_session_is_a_signed_http_only_strict_cookie_and_forms_need_their_csrf_token);

/// The staff's approval queue names each month's member and agreement, however many members come
/// before them in the (first page of the) member list: a consortium of hundreds of members showed
/// most queued months under a bare id.
async fn the_queue_names_its_members_beyond_the_first_page_of_the_member_list(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let setup = november(&server, 1).await;
    for n in 0..100 {
        let org = konsortium_tests::workload::org_number(7_000 + n).to_string();
        tour::member(&server, &format!("Arbetslaget {n:03}"), &org, "ASF", "40").await;
    }
    tour::fill_id(&server, &setup.place, &setup.participant, "2024-11-11").await;
    let submitted = tour::submit(&server, &setup.agreement, &setup.member, "2024-11").await;
    assert!(submitted.get("errors").is_none(), "{submitted:#}");
    let (_, cookie) = sign_in_plain(&server, &link(&server, Role::Staff, None, 600)).await;
    let page = plain_client()
        .get(format!("{}/app/staff", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    let queue = page.split("id=\"queue\"").nth(1).and_then(|rest| rest.split("</section>").next()).unwrap_or_default();
    assert!(queue.contains("Returbutiken Fyndet"), "{queue}");
    assert!(queue.contains("Arbetsträning") && !queue.contains(&format!("· {} ·", setup.agreement)), "{queue}");
    server.stop().await;
    db.remove().await;
}
konsortium_tests::both_stores!(the_queue_names_its_members_beyond_the_first_page_of_the_member_list);
