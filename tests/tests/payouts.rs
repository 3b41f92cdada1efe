//! Member payouts end to end: membership fees, payout statements in their own series, credit notes
//! carried as adjustments, the reconciliation, the SIE 4 file and the CSV, and who may read what.

use konsortium_api::auth::Role;
use konsortium_domain::payout::decode_cp437;
use konsortium_projections::views;
use konsortium_tests::tour;
use konsortium_tests::{both_stores, error_code, error_field, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};

const STATEMENT_FIELDS: &str = "number memberId month grossOre commissionOre membershipFeeOre adjustmentsOre
  payoutOre lines { document month grossOre commissionOre } adjustments { document month grossOre commissionOre }";
const RECONCILIATION_FIELDS: &str =
    "statements invoicedOre grossOre commissionOre membershipFeeOre payoutOre differenceOre";

async fn set_asf_fee(server: &TestApp, monthly: i64) -> Value {
    server
        .graphql(
            "mutation($f: Int!) { setCategoryMembershipFee(category: ASF, monthlyOre: $f, effectiveFrom: \"2024-09\") { fees { monthlyOre } } }",
            json!({ "f": monthly }),
        )
        .await
}

async fn issue_statements(server: &TestApp, month: &str) -> Value {
    server
        .graphql(
            &format!("mutation($m: String!) {{ issuePayoutStatements(month: $m) {{ {STATEMENT_FIELDS} }} }}"),
            json!({ "m": month }),
        )
        .await
}

fn statements(body: &Value) -> Vec<Value> {
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["issuePayoutStatements"].as_array().cloned().unwrap_or_default()
}

async fn reconciliation(server: &TestApp, month: &str) -> Value {
    let query = format!("query($m: String!) {{ reconciliation(month: $m) {{ {RECONCILIATION_FIELDS} }} }}");
    server.ok(&query, json!({ "m": month })).await["reconciliation"].clone()
}

/// GET an export with a token (or none): status and body bytes.
/// The invoices a statement run for `month` would load, once the views have caught up.
async fn open_invoices(server: &TestApp, month: &str) -> Vec<String> {
    server.caught_up().await;
    let month = konsortium_domain::calendar::Month::parse(month).unwrap_or_else(|_| panic!("a month: {month}"));
    views::settlement::open_invoices_until(server.app().db(), month).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn export(server: &TestApp, path: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = server.client().get(format!("{}{path}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = response.status().as_u16();
    (status, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
}

/// A voucher read back: its `#VER` line and its transactions (account, öre).
type Voucher = (String, Vec<(u32, i64)>);

/// A SIE file read back: its other `#` lines and its vouchers.
fn parse_sie(bytes: &[u8]) -> (Vec<String>, Vec<Voucher>) {
    let text = decode_cp437(bytes);
    let mut heads = Vec::new();
    let mut vouchers: Vec<Voucher> = Vec::new();
    for line in text.split("\r\n") {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#VER ") {
            vouchers.push((rest.to_string(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("#TRANS ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let account = parts[0].parse().unwrap_or_else(|e| panic!("{e}: {line}"));
            let amount: f64 = parts[2].parse().unwrap_or_else(|e| panic!("{e}: {line}"));
            let ore = (amount * 100.0).round() as i64;
            vouchers.last_mut().unwrap_or_else(|| panic!("#TRANS outside a voucher")).1.push((account, ore));
        } else if line.starts_with('#') {
            heads.push(line.to_string());
        }
    }
    (heads, vouchers)
}

fn account_total(vouchers: &[Voucher], account: u32) -> i64 {
    vouchers.iter().flat_map(|(_, t)| t.iter()).filter(|(a, _)| *a == account).map(|(_, o)| o).sum()
}

/// Fyndet and Cykelköket each with an approved November on Östersund's agreement, invoiced.
async fn two_members_invoiced_for_november(server: &TestApp) -> (String, String) {
    tour::consortium(server).await;
    let fyndet = tour::fyndet(server).await;
    let other = tour::member(server, "Cykelköket Östersund", "556002-1361", "ASF", "45").await;
    let agreement = tour::agreement(server, tour::ostersund_input()).await;
    tour::approved_november(server, &agreement, &fyndet, "p-anna-7f3a").await;
    tour::approved_november(server, &agreement, &other, "p-bo-19c2").await;
    tour::issue_invoices(server, "2024-11", None).await;
    (fyndet, other)
}

async fn a_statement_on_ostersund_pays_gross_less_5_percent_and_the_fee_and_a_credit_note_is_carried_to_the_next(
    test: TestDb,
) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    let report = tour::approved_november(&server, &agreement, &member, "p-anna-7f3a").await;
    assert!(set_asf_fee(&server, 50_000).await.get("errors").is_none());
    let invoiced = tour::issue_invoices(&server, "2024-11", None).await;
    let first_invoice = invoiced["data"]["issueInvoices"][0]["id"].as_str().unwrap_or_default().to_string();

    // November: 20 of 30 days at 6 000 kr = 4 000 kr; 5 % commission 200 kr; the ASF fee 500 kr.
    let november = statements(&issue_statements(&server, "2024-11").await);
    assert_eq!(november.len(), 1);
    let s = &november[0];
    assert_eq!(s["number"].as_str().map(|n| n.starts_with('A') && n.ends_with("-00001")), Some(true), "{s:#}");
    assert_eq!(
        (&s["grossOre"], &s["commissionOre"], &s["membershipFeeOre"], &s["adjustmentsOre"], &s["payoutOre"]),
        (&json!(400_000), &json!(20_000), &json!(50_000), &json!(0), &json!(330_000))
    );
    let read = server
        .ok(
            &format!("query($m: ID) {{ payoutStatements(month: \"2024-11\", memberId: $m) {{ {STATEMENT_FIELDS} }} }}"),
            json!({ "m": member }),
        )
        .await;
    assert_eq!(read["payoutStatements"][0], *s);
    let nov = reconciliation(&server, "2024-11").await;
    assert_eq!((&nov["invoicedOre"], &nov["differenceOre"]), (&json!(400_000), &json!(0)), "{nov:#}");
    assert_eq!(statements(&issue_statements(&server, "2024-11").await), Vec::<Value>::new(), "issued once");
    // The run loads only invoices with a month still to settle: none now.
    assert_eq!(open_invoices(&server, "2024-12").await, Vec::<String>::new());

    // The invoice is credited and November invoiced again with December.
    server
        .ok(
            "mutation($i: ID!) { creditInvoice(invoiceId: $i, reason: \"Fel period\") { status } }",
            json!({ "i": first_invoice }),
        )
        .await;
    // The credit note reopens the paid-out month: the next run must take it back.
    assert_eq!(open_invoices(&server, "2024-12").await, vec![first_invoice.clone()]);
    let corrected = server
        .graphql(
            "mutation($i: MonthlyReportInput!) { correctMonthlyReport(input: $i) { version } }",
            json!({ "i": { "agreementId": agreement, "memberId": member, "month": "2024-11" } }),
        )
        .await;
    assert_eq!(corrected["data"]["correctMonthlyReport"]["version"], 2, "{corrected:#}");
    tour::approve(&server, &report, 2).await;
    let december = tour::submit(&server, &agreement, &member, "2024-12").await;
    let december_id = december["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
    tour::approve(&server, &december_id, 1).await;
    let again = tour::issue_invoices(&server, "2024-12", None).await;
    assert_eq!(again["data"]["issueInvoices"][0]["netOre"], 1_000_000, "{again:#}");

    // December's statement settles the new invoice and takes back what November paid.
    let next = statements(&issue_statements(&server, "2024-12").await);
    assert_eq!(next.len(), 1);
    let s = &next[0];
    assert_eq!(s["number"].as_str().map(|n| n.ends_with("-00002")), Some(true), "gap-free: {s:#}");
    assert_eq!(
        (&s["grossOre"], &s["commissionOre"], &s["membershipFeeOre"], &s["adjustmentsOre"], &s["payoutOre"]),
        (&json!(1_000_000), &json!(50_000), &json!(50_000), &json!(-380_000), &json!(520_000))
    );
    assert_eq!(s["adjustments"][0]["document"].as_str().map(|d| d.starts_with('K')), Some(true), "{s:#}");
    assert_eq!(
        (&s["adjustments"][0]["grossOre"], &s["adjustments"][0]["month"]),
        (&json!(-400_000), &json!("2024-11"))
    );
    assert_eq!(open_invoices(&server, "2024-12").await, Vec::<String>::new(), "settled and taken back");
    for month in ["2024-11", "2024-12"] {
        assert_eq!(reconciliation(&server, month).await["differenceOre"], 0, "{month}");
    }
    let dec = reconciliation(&server, "2024-12").await;
    assert_eq!(
        dec,
        json!({ "statements": 1, "invoicedOre": 600_000, "grossOre": 600_000, "commissionOre": 30_000,
                "membershipFeeOre": 50_000, "payoutOre": 520_000, "differenceOre": 0 })
    );

    // SIE 4 for December, read back: the header, every voucher balanced, totals as invoiced and paid out.
    let (status, file) = export(&server, "/exports/sie?month=2024-12", Some(&server.staff)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&file));
    assert!(file.windows(4).any(|w| w == [b'A', b'v', b'r', 0x84]), "\"Avräkning\" in CP437");
    let (heads, vouchers) = parse_sie(&file);
    assert_eq!(heads[..3], ["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4"]);
    assert!(heads.contains(&"#ORGNR 769600-1002".to_string()), "{heads:?}");
    assert!(heads.iter().any(|h| h.starts_with("#FNAMN \"Jämtlands")), "{heads:?}");
    for account in [1510, 3004, 4600, 2440, 3921, 3990] {
        assert!(heads.iter().any(|h| h.starts_with(&format!("#KONTO {account} "))), "{account} {heads:?}");
    }
    for (head, transactions) in &vouchers {
        assert_eq!(transactions.iter().map(|(_, o)| o).sum::<i64>(), 0, "{head} balances");
    }
    assert_eq!(vouchers.len(), 2, "the December invoice and the statement: {vouchers:?}");
    assert_eq!(account_total(&vouchers, 1510), 1_000_000);
    assert_eq!(account_total(&vouchers, 2440), -520_000);
    assert_eq!(account_total(&vouchers, 3921), -30_000);
    assert_eq!(account_total(&vouchers, 3990), -50_000);
    // November holds the first invoice, its credit note, the second invoice and November's statement.
    let (_, november) = parse_sie(&export(&server, "/exports/sie?month=2024-11", Some(&server.staff)).await.1);
    assert_eq!(november.len(), 4);
    assert!(november.iter().all(|(_, t)| t.iter().map(|(_, o)| o).sum::<i64>() == 0));
    // Both invoices (400 000 and 1 000 000) less the credit note (400 000).
    assert_eq!(account_total(&november, 1510), 1_000_000);
    assert_eq!(account_total(&november, 3004), -1_000_000);
    assert_eq!(account_total(&november, 2440), -330_000);

    // The CSV holds the month's statement with the same figures.
    let (status, csv) = export(&server, "/exports/statements.csv?month=2024-12", Some(&server.staff)).await;
    let csv = String::from_utf8(csv).unwrap_or_default();
    assert_eq!(status, 200);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[1].contains("Returbutiken Fyndet,2024-12,") && rows[1].ends_with(",1000000,50000,50000,-380000,520000"),
        "{csv}"
    );
    server.stop().await;
    test.remove().await;
}
both_stores!(a_statement_on_ostersund_pays_gross_less_5_percent_and_the_fee_and_a_credit_note_is_carried_to_the_next);

async fn a_member_reads_its_own_statements_a_buyer_none_and_the_sie_file_needs_staff(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    let (fyndet, other) = two_members_invoiced_for_november(&server).await;
    assert_eq!(statements(&issue_statements(&server, "2024-11").await).len(), 2);

    let member_token = server.token(Role::Member, Some(&fyndet), None);
    let buyer_token = server.token(Role::Buyer, None, Some("212000-2411"));
    let list = "{ payoutStatements(month: \"2024-11\") { memberId payoutOre } }";
    let own = server.graphql_as(Some(&member_token), list, json!({})).await;
    assert_eq!(own["data"]["payoutStatements"], json!([{ "memberId": fyndet, "payoutOre": 380_000 }]), "{own:#}");
    let theirs = server
        .graphql_as(
            Some(&member_token),
            "query($m: ID) { payoutStatements(memberId: $m) { memberId } }",
            json!({ "m": other }),
        )
        .await;
    assert_eq!(error_code(&theirs), "FORBIDDEN");
    let buyer = server.graphql_as(Some(&buyer_token), list, json!({})).await;
    assert_eq!(error_code(&buyer), "FORBIDDEN");
    let staff = server.ok(list, json!({})).await;
    assert_eq!(staff["payoutStatements"].as_array().map(Vec::len), Some(2));
    let reconciled = server
        .graphql_as(Some(&member_token), "{ reconciliation(month: \"2024-11\") { differenceOre } }", json!({}))
        .await;
    assert_eq!(error_code(&reconciled), "FORBIDDEN");

    let sie = "/exports/sie?month=2024-11";
    assert_eq!(export(&server, sie, Some(&member_token)).await.0, 403);
    assert_eq!(export(&server, sie, Some(&buyer_token)).await.0, 403);
    assert_eq!(export(&server, sie, None).await.0, 401);
    assert_eq!(export(&server, "/exports/sie?month=2024-13", Some(&server.staff)).await.0, 400);
    let csv = "/exports/statements.csv?month=2024-11";
    let (status, body) = export(&server, csv, Some(&member_token)).await;
    let body = String::from_utf8(body).unwrap_or_default();
    assert_eq!((status, body.lines().count()), (200, 2), "{body}");
    assert!(body.contains(&fyndet) && !body.contains(&other), "{body}");
    assert_eq!(export(&server, csv, Some(&buyer_token)).await.0, 403);
    server.stop().await;
    test.remove().await;
}
both_stores!(a_member_reads_its_own_statements_a_buyer_none_and_the_sie_file_needs_staff);

async fn bad_input_is_a_typed_error_that_stores_nothing(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    tour::approved_november(&server, &agreement, &member, "p-anna-7f3a").await;
    tour::issue_invoices(&server, "2024-11", None).await;
    let before = event_count(server.app().db()).await;

    let below_zero = set_asf_fee(&server, -1).await;
    assert_eq!((error_code(&below_zero), error_rule(&below_zero)), ("VALIDATION", "FeeBelowZero"));
    let own_below_zero = server
        .graphql(
            "mutation($m: ID!) { setMemberMembershipFee(memberId: $m, monthlyOre: -100, effectiveFrom: \"2024-09\") { timing } }",
            json!({ "m": member }),
        )
        .await;
    assert_eq!((error_code(&own_below_zero), error_rule(&own_below_zero)), ("VALIDATION", "FeeBelowZero"));
    let bad_from = server
        .graphql("mutation { setCategoryMembershipFee(category: ASF, monthlyOre: 100, effectiveFrom: \"2024-13\") { timing } }", json!({}))
        .await;
    assert_eq!((error_code(&bad_from), error_field(&bad_from)), ("VALIDATION", "effectiveFrom"));
    let unknown = server
        .graphql(
            "mutation { setMemberMembershipFee(memberId: \"3b1f6c2e-0000-4000-8000-00000000ffff\", monthlyOre: 1, effectiveFrom: \"2024-09\") { timing } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND", "{unknown:#}");
    let not_invoiced = issue_statements(&server, "2024-10").await;
    assert_eq!((error_code(&not_invoiced), error_rule(&not_invoiced)), ("VALIDATION", "MonthNotInvoiced"));
    let bad_month = issue_statements(&server, "november").await;
    assert_eq!((error_code(&bad_month), error_field(&bad_month)), ("VALIDATION", "month"));
    let as_member = server
        .graphql_as(
            Some(&server.token(Role::Member, Some(&member), None)),
            "mutation { issuePayoutStatements(month: \"2024-11\") { number } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&as_member), "FORBIDDEN");
    let bad_account =
        server.graphql("mutation { setSieAccounts(input: { receivables: 99 }) { timing } }", json!({})).await;
    assert_eq!((error_code(&bad_account), error_rule(&bad_account)), ("VALIDATION", "InvalidAccount"));
    assert_eq!(event_count(server.app().db()).await, before, "a refused request stores nothing");
    server.stop().await;
    test.remove().await;
}
both_stores!(bad_input_is_a_typed_error_that_stores_nothing);

async fn paid_when_the_buyer_pays_a_member_waits_for_the_payment(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    tour::approved_november(&server, &agreement, &member, "p-anna-7f3a").await;
    let policy = server.ok("mutation { setPayoutTiming(timing: WHEN_PAID) { timing } }", json!({})).await;
    assert_eq!(policy["setPayoutTiming"]["timing"], "WHEN_PAID");
    let invoice = tour::issue_invoices(&server, "2024-11", None).await;
    let id = invoice["data"]["issueInvoices"][0]["id"].clone();
    assert_eq!(statements(&issue_statements(&server, "2024-11").await), Vec::<Value>::new(), "not paid yet");
    let today = konsortium_api::application::today().to_string();
    server
        .ok(
            "mutation($i: ID!, $d: String!) { registerPayment(invoiceId: $i, amountOre: 400000, paidOn: $d) { status } }",
            json!({ "i": id, "d": today }),
        )
        .await;
    let paid = statements(&issue_statements(&server, "2024-11").await);
    assert_eq!(paid.iter().map(|s| s["payoutOre"].clone()).collect::<Vec<_>>(), vec![json!(380_000)]);
    assert_eq!(reconciliation(&server, "2024-11").await["differenceOre"], 0);
    server.stop().await;
    test.remove().await;
}
both_stores!(paid_when_the_buyer_pays_a_member_waits_for_the_payment);

async fn the_demo_month_statement_for_fyndet_on_ostersund_adds_up_and_reconciles(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    assert!(konsortium_api::demo::load(server.app()).await.unwrap_or_else(|e| panic!("{e:?}")));
    let fyndet = server.ok("{ members(first: 10) { nodes { id name } } }", json!({})).await["members"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["name"] == "Returbutiken Fyndet").map(|n| n["id"].clone()))
        .unwrap_or_else(|| panic!("Fyndet is in the demo"));
    let body = server
        .ok(
            &format!("query($m: ID) {{ payoutStatements(month: \"2024-11\", memberId: $m) {{ {STATEMENT_FIELDS} }} }}"),
            json!({ "m": fyndet }),
        )
        .await;
    let s = &body["payoutStatements"][0];
    // Anna 20/30 days (400 000) + Bo the whole month (600 000) at Östersund; 5 % commission; the
    // demo's ASF fee of 500 kr.
    assert_eq!(
        (&s["grossOre"], &s["commissionOre"], &s["membershipFeeOre"], &s["adjustmentsOre"], &s["payoutOre"]),
        (&json!(1_000_000), &json!(50_000), &json!(50_000), &json!(0), &json!(900_000)),
        "{body:#}"
    );
    let add_up = |s: &Value, f: &str| s[f].as_i64().unwrap_or(i64::MIN);
    assert_eq!(
        add_up(s, "grossOre") - add_up(s, "commissionOre") - add_up(s, "membershipFeeOre")
            + add_up(s, "adjustmentsOre"),
        add_up(s, "payoutOre")
    );
    for month in ["2024-11", "2024-12"] {
        let r = reconciliation(&server, month).await;
        assert_eq!((&r["statements"], &r["differenceOre"]), (&json!(1), &json!(0)), "{month}: {r:#}");
    }
    server.stop().await;
    test.remove().await;
}
both_stores!(the_demo_month_statement_for_fyndet_on_ostersund_adds_up_and_reconciles);

async fn sixteen_concurrent_statement_runs_pay_each_member_once_with_gap_free_numbers(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    two_members_invoiced_for_november(&server).await;

    const RUNS: usize = 16;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(RUNS));
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..RUNS {
        let (client, url, token, start) =
            (server.client().clone(), format!("{}/graphql", server.base), server.staff.clone(), start.clone());
        runs.spawn(async move {
            start.wait().await;
            let query = json!({ "query": "mutation { issuePayoutStatements(month: \"2024-11\") { number } }" });
            let response = client.post(url).bearer_auth(token).json(&query).send().await;
            response.unwrap_or_else(|e| panic!("{e}")).json::<Value>().await.unwrap_or_else(|e| panic!("{e}"))
        });
    }
    for answer in runs.join_all().await {
        assert!(answer.get("errors").is_none(), "{answer:#}");
    }
    let all = server.ok("{ payoutStatements(month: \"2024-11\") { number memberId } }", json!({})).await;
    let all = all["payoutStatements"].as_array().cloned().unwrap_or_default();
    let mut numbers: Vec<String> = all.iter().map(|s| s["number"].as_str().unwrap_or_default().to_string()).collect();
    numbers.sort();
    let year = konsortium_api::application::today().year();
    assert_eq!(numbers, vec![format!("A{year}-00001"), format!("A{year}-00002")], "one statement per member");
    assert_eq!(reconciliation(&server, "2024-11").await["differenceOre"], 0);
    server.stop().await;
    test.remove().await;
}
both_stores!(sixteen_concurrent_statement_runs_pay_each_member_once_with_gap_free_numbers);
