//! Month-end invoicing end to end: approved months become Peppol invoices with gap-free numbers,
//! locked months, credit notes that reopen them, payments, and who may read what.

use konsortium_api::auth::Role;
use konsortium_tests::peppol::assert_valid;
use konsortium_tests::tour::{self, INVOICE_FIELDS};
use konsortium_tests::{both_stores, error_code, error_field, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};

fn sequence(number: &Value) -> u64 {
    let text = number.as_str().unwrap_or_default();
    text.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not an invoice number: {text}"))
}

fn issued(body: &Value) -> Vec<Value> {
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["issueInvoices"].as_array().cloned().unwrap_or_default()
}

async fn a_place_filled_from_the_11th_is_invoiced_400_000_ore_and_the_month_is_locked(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    let report = tour::approved_november(&server, &agreement, &member, "p-anna-7f3a").await;

    let invoices = issued(&tour::issue_invoices(&server, "2024-11", None).await);
    assert_eq!(invoices.len(), 1);
    let invoice = &invoices[0];
    assert_eq!(sequence(&invoice["number"]), 1);
    assert_eq!(
        (&invoice["netOre"], &invoice["vatOre"], &invoice["payableOre"], &invoice["status"]),
        (&json!(400_000), &json!(0), &json!(400_000), &json!("OPEN"))
    );
    assert_eq!(
        (&invoice["vatCategory"], &invoice["vatExemptionReason"]),
        (&json!("E"), &json!("Arbetsmarknadsinsats"))
    );
    assert_eq!(invoice["buyer"], json!({ "orgNumber": "212000-2411", "reference": "AME-ARBETSTRANING" }));
    assert_eq!(invoice["months"], json!([{ "reportId": report, "month": "2024-11", "amountOre": 400_000 }]));
    assert_eq!(invoice["lines"][0]["quantity"], 20);
    assert_eq!(invoice["lines"][0]["unit"], "DAY");
    assert_eq!(invoice["lines"][0]["amountOre"], 400_000);
    let line = invoice["lines"][0]["description"].as_str().unwrap_or_default();
    assert!(line.contains("Returbutiken Fyndet") && line.contains("6 000 kr") && !line.contains("p-anna"), "{line}");
    let ocr = invoice["ocr"].as_str().unwrap_or_default();
    assert!(ocr.starts_with(&invoice["number"].as_str().unwrap_or_default().replace('-', "")), "{ocr}");
    let ubl = invoice["ubl"].as_str().unwrap_or_default().to_string();
    assert!(ubl.contains("<cbc:PayableAmount currencyID=\"SEK\">4000.00</cbc:PayableAmount>"));
    // The buyer's address as the agreement gives it, where Peppol puts it (BG-8).
    let customer = ubl.split("<cac:AccountingCustomerParty>").nth(1).unwrap_or_default();
    assert!(
        customer.contains("<cbc:StreetName>Rådhusgatan 42</cbc:StreetName><cbc:CityName>Östersund</cbc:CityName><cbc:PostalZone>831 82</cbc:PostalZone>"),
        "{customer}"
    );
    assert_valid(&[&ubl]);

    // The month is locked: a correction is refused, and a second run finds nothing to invoice.
    let events = event_count(server.app().db()).await;
    assert_eq!(issued(&tour::issue_invoices(&server, "2024-11", None).await), Vec::<Value>::new());
    let corrected = server
        .graphql(
            "mutation($i: MonthlyReportInput!) { correctMonthlyReport(input: $i) { id } }",
            json!({ "i": { "agreementId": agreement, "memberId": member, "month": "2024-11" } }),
        )
        .await;
    assert_eq!((error_code(&corrected), error_rule(&corrected)), ("CONFLICT", "AlreadyInvoiced"));
    assert_eq!(event_count(server.app().db()).await, events);

    // The XML never changes: the export, the query and the run's answer are the same bytes.
    let id = invoice["id"].as_str().unwrap_or_default();
    let read = server.ok("query($id: ID!) { invoice(id: $id) { ubl } }", json!({ "id": id })).await;
    assert_eq!(read["invoice"]["ubl"].as_str(), Some(ubl.as_str()));
    let xml = |token: Option<String>| {
        let mut request = server.client().get(format!("{}/invoices/{id}.xml", server.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        }
    };
    assert_eq!(xml(Some(server.staff.clone())).await, (200, ubl.clone()));
    assert_eq!(xml(Some(server.token(Role::Buyer, None, Some("212000-2411")))).await, (200, ubl.clone()));
    assert_eq!(xml(None).await.0, 401);
    assert_eq!(xml(Some(server.token(Role::Buyer, None, Some("212000-2429")))).await.0, 404);
    assert_eq!(xml(Some(server.token(Role::Member, Some(&member), None))).await.0, 403);

    // Payments: part-paid, then paid.
    let today = konsortium_api::application::today().to_string();
    let pay = |amount: i64| {
        server.graphql(
            "mutation($i: ID!, $a: Int!, $d: String!) { registerPayment(invoiceId: $i, amountOre: $a, paidOn: $d) { status paidOre } }",
            json!({ "i": id, "a": amount, "d": today }),
        )
    };
    let part = pay(100_000).await;
    assert_eq!(part["data"]["registerPayment"], json!({ "status": "PART_PAID", "paidOre": 100_000 }), "{part:#}");
    let too_much = pay(300_001).await;
    assert_eq!((error_code(&too_much), error_rule(&too_much)), ("VALIDATION", "PaymentExceedsBalance"));
    let rest = pay(300_000).await;
    assert_eq!(rest["data"]["registerPayment"], json!({ "status": "PAID", "paidOre": 400_000 }), "{rest:#}");
    let paid = server
        .ok("{ invoices(status: PAID) { totalCount } open: invoices(status: OPEN) { totalCount } }", json!({}))
        .await;
    assert_eq!((paid["invoices"]["totalCount"].as_i64(), paid["open"]["totalCount"].as_i64()), (Some(1), Some(0)));

    // The list's rows keep headings and totals; XML, lines and months asked of a list come from the
    // event log, the same bytes as issued.
    let listed = server
        .ok(
            "{ slim: invoices { nodes { number payableOre paidOre status periodStart periodEnd } } \
               whole: invoices { nodes { ubl months { month amountOre } lines { amountOre } } edges { node { ubl } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["slim"]["nodes"][0],
        json!({ "number": invoice["number"], "payableOre": 400_000, "paidOre": 400_000, "status": "PAID",
                "periodStart": "2024-11-01", "periodEnd": "2024-11-30" })
    );
    let whole = &listed["whole"];
    assert_eq!(whole["nodes"][0]["ubl"].as_str(), Some(ubl.as_str()));
    assert_eq!(whole["edges"][0]["node"]["ubl"].as_str(), Some(ubl.as_str()));
    assert_eq!(whole["nodes"][0]["months"], json!([{ "month": "2024-11", "amountOre": 400_000 }]));
    assert_eq!(whole["nodes"][0]["lines"], json!([{ "amountOre": 400_000 }]));
    server.stop().await;
    test.remove().await;
}
both_stores!(a_place_filled_from_the_11th_is_invoiced_400_000_ore_and_the_month_is_locked);

async fn a_credit_note_validates_and_reopens_its_months_for_a_new_invoice(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    let report = tour::approved_november(&server, &agreement, &member, "p-anna-7f3a").await;
    let first = issued(&tour::issue_invoices(&server, "2024-11", Some(&agreement)).await);
    let id = first[0]["id"].as_str().unwrap_or_default();

    let credited = server
        .ok(
            &format!("mutation($i: ID!) {{ creditInvoice(invoiceId: $i, reason: \"Fel antal dagar\") {{ {INVOICE_FIELDS} }} }}"),
            json!({ "i": id }),
        )
        .await;
    let credit = &credited["creditInvoice"];
    assert_eq!(credit["status"], "CREDITED");
    let note = credit["creditNote"]["ubl"].as_str().unwrap_or_default();
    assert_eq!(sequence(&credit["creditNote"]["number"]), 1);
    assert!(credit["creditNote"]["number"].as_str().unwrap_or_default().starts_with('K'));
    assert!(note.contains(&format!(
        "<cac:InvoiceDocumentReference><cbc:ID>{}</cbc:ID>",
        first[0]["number"].as_str().unwrap_or_default()
    )));
    assert_eq!(credit["ubl"], first[0]["ubl"], "the invoice's XML never changes");
    assert_valid(&[note]);
    let again = server
        .graphql("mutation($i: ID!) { creditInvoice(invoiceId: $i, reason: \"x\") { id } }", json!({ "i": id }))
        .await;
    assert_eq!((error_code(&again), error_rule(&again)), ("CONFLICT", "AlreadyCredited"));

    // The month is open again: corrected (the participant left on the 20th), approved, invoiced anew.
    let reopened = server.ok("{ monthlyReports { nodes { id status invoiceId } } }", json!({})).await;
    assert_eq!(reopened["monthlyReports"]["nodes"][0]["status"], "APPROVED");
    let corrected = server
        .graphql(
            "mutation($i: MonthlyReportInput!) { correctMonthlyReport(input: $i) { version totalOre } }",
            json!({ "i": { "agreementId": agreement, "memberId": member, "month": "2024-11" } }),
        )
        .await;
    assert_eq!(corrected["data"]["correctMonthlyReport"]["version"], 2, "{corrected:#}");
    tour::approve(&server, &report, 2).await;
    let second = issued(&tour::issue_invoices(&server, "2024-11", None).await);
    assert_eq!(second.len(), 1);
    assert_eq!(sequence(&second[0]["number"]), 2, "the credited number is not reused");
    assert_valid(&[second[0]["ubl"].as_str().unwrap_or_default()]);
    let listed = server.ok("{ c: invoices(status: CREDITED) { totalCount } o: invoices(status: OPEN, month: \"2024-11\") { totalCount } }", json!({})).await;
    assert_eq!((listed["c"]["totalCount"].as_i64(), listed["o"]["totalCount"].as_i64()), (Some(1), Some(1)));
    server.stop().await;
    test.remove().await;
}
both_stores!(a_credit_note_validates_and_reopens_its_months_for_a_new_invoice);

async fn bad_input_is_a_typed_error_that_stores_nothing(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    let member = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    tour::approved_november(&server, &agreement, &member, "p-anna-7f3a").await;
    let before = event_count(server.app().db()).await;

    let unregistered = tour::issue_invoices(&server, "2024-11", None).await;
    assert_eq!((error_code(&unregistered), error_rule(&unregistered)), ("NOT_FOUND", "NotRegistered"));
    let bad_seller = server
        .graphql(
            "mutation($i: RegisterConsortiumInput!) { registerConsortium(input: $i) { name } }",
            json!({ "i": { "name": "X", "orgNumber": "769600-1002", "vatNumber": "SE769600100202", "street": "S 1",
                           "postalCode": "83130", "city": "Ö", "email": "a@b.se", "bankgiro": "123" } }),
        )
        .await;
    assert_eq!((error_code(&bad_seller), error_rule(&bad_seller)), ("VALIDATION", "VatNumber"));
    tour::consortium(&server).await;
    let before_runs = event_count(server.app().db()).await;
    assert_eq!(before_runs, before + 1);

    let bad_month = tour::issue_invoices(&server, "2024-13", None).await;
    assert_eq!((error_code(&bad_month), error_field(&bad_month)), ("VALIDATION", "month"));
    let not_over = tour::issue_invoices(&server, "2199-01", None).await;
    assert_eq!((error_code(&not_over), error_rule(&not_over)), ("VALIDATION", "MonthNotOver"));
    let mut no_postal_code = tour::ostersund_input();
    no_postal_code["contractReference"] = json!("RA-2024-AME-02");
    no_postal_code["buyer"]["address"]["postalCode"] = json!("8318");
    let incomplete = server
        .graphql(
            "mutation($a: RegisterAgreementInput!) { registerAgreement(input: $a) { id } }",
            json!({ "a": no_postal_code }),
        )
        .await;
    assert_eq!((error_code(&incomplete), error_rule(&incomplete)), ("VALIDATION", "BuyerAddressIncomplete"));
    let unknown_agreement = tour::issue_invoices(&server, "2024-11", Some("no-such-agreement")).await;
    assert_eq!(error_code(&unknown_agreement), "NOT_FOUND");
    let unknown = server
        .graphql("mutation { registerPayment(invoiceId: \"no-such-invoice\", amountOre: 100, paidOn: \"2026-11-01\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let member_runs = server
        .graphql_as(
            Some(&server.token(Role::Member, Some(&member), None)),
            "mutation { issueInvoices(month: \"2024-11\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&member_runs), "FORBIDDEN");
    assert_eq!(event_count(server.app().db()).await, before_runs, "a refused request stores nothing");

    let invoice = issued(&tour::issue_invoices(&server, "2024-11", None).await);
    let id = invoice[0]["id"].as_str().unwrap_or_default();
    let after_run = event_count(server.app().db()).await;
    for (amount, paid_on, code) in
        [(-5, "2026-11-20", "VALIDATION"), (0, "2026-11-20", "VALIDATION"), (100, "2026-13-01", "VALIDATION")]
    {
        let body = server
            .graphql(
                "mutation($i: ID!, $a: Int!, $d: String!) { registerPayment(invoiceId: $i, amountOre: $a, paidOn: $d) { id } }",
                json!({ "i": id, "a": amount, "d": paid_on }),
            )
            .await;
        assert_eq!(error_code(&body), code, "{body:#}");
    }
    let no_reason = server
        .graphql("mutation($i: ID!) { creditInvoice(invoiceId: $i, reason: \"  \") { id } }", json!({ "i": id }))
        .await;
    assert_eq!(error_code(&no_reason), "VALIDATION");
    assert_eq!(event_count(server.app().db()).await, after_run, "a refused request stores nothing");
    server.stop().await;
    test.remove().await;
}
both_stores!(bad_input_is_a_typed_error_that_stores_nothing);

async fn buyers_read_only_their_own_invoices_and_members_none(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let ostersund = tour::agreement(&server, tour::ostersund_input()).await;
    let krokom = tour::agreement(&server, tour::krokom_input()).await;
    tour::approved_november(&server, &ostersund, &member, "p-anna-7f3a").await;
    tour::approved_november(&server, &krokom, &member, "p-bo-19c2").await;
    let invoices = issued(&tour::issue_invoices(&server, "2024-11", None).await);
    assert_eq!(invoices.len(), 2);
    assert_valid(&invoices.iter().map(|i| i["ubl"].as_str().unwrap_or_default()).collect::<Vec<_>>());

    let list = "{ invoices { totalCount nodes { buyer { orgNumber } } } }";
    let own = server.graphql_as(Some(&server.token(Role::Buyer, None, Some("212000-2429"))), list, json!({})).await;
    assert_eq!(own["data"]["invoices"]["totalCount"], 1, "{own:#}");
    assert_eq!(own["data"]["invoices"]["nodes"][0]["buyer"]["orgNumber"], "212000-2429");
    let staff = server
        .ok("{ all: invoices { totalCount } k: invoices(buyer: \"212000-2429\") { totalCount } }", json!({}))
        .await;
    assert_eq!((staff["all"]["totalCount"].as_i64(), staff["k"]["totalCount"].as_i64()), (Some(2), Some(1)));
    let as_member = server.graphql_as(Some(&server.token(Role::Member, Some(&member), None)), list, json!({})).await;
    assert_eq!(error_code(&as_member), "FORBIDDEN");
    let other = invoices.iter().find(|i| i["buyer"]["orgNumber"] == "212000-2411").map(|i| i["id"].clone());
    let peek = server
        .graphql_as(
            Some(&server.token(Role::Buyer, None, Some("212000-2429"))),
            "query($i: ID!) { invoice(id: $i) { id } }",
            json!({ "i": other }),
        )
        .await;
    assert_eq!(peek["data"]["invoice"], Value::Null, "{peek:#}");
    server.stop().await;
    test.remove().await;
}
both_stores!(buyers_read_only_their_own_invoices_and_members_none);

async fn three_agreements_run_at_once_get_consecutive_distinct_numbers(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let member = tour::fyndet(&server).await;
    let mut agreements = Vec::new();
    for (i, participant) in ["p-anna-7f3a", "p-bo-19c2", "p-cia-88d1"].into_iter().enumerate() {
        let mut input = tour::ostersund_input();
        input["contractReference"] = json!(format!("RA-2024-AME-0{i}"));
        let agreement = tour::agreement(&server, input).await;
        tour::approved_november(&server, &agreement, &member, participant).await;
        agreements.push(agreement);
    }
    let answers = runs_at_once(&server, agreements.into_iter().map(Some).collect()).await;
    let mut numbers: Vec<u64> = answers.iter().flat_map(issued).map(|invoice| sequence(&invoice["number"])).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, vec![1, 2, 3]);
    server.stop().await;
    test.remove().await;
}
both_stores!(three_agreements_run_at_once_get_consecutive_distinct_numbers);

async fn sixteen_concurrent_runs_put_each_month_on_exactly_one_invoice(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let fyndet = tour::fyndet(&server).await;
    let other = tour::member(&server, "Cykelköket Östersund", "556002-1361", "ASF", "45").await;
    let ostersund = tour::agreement(&server, tour::ostersund_input()).await;
    let krokom = tour::agreement(&server, tour::krokom_input()).await;
    let mut reports = vec![
        tour::approved_november(&server, &ostersund, &fyndet, "p-anna-7f3a").await,
        tour::approved_november(&server, &ostersund, &other, "p-bo-19c2").await,
        tour::approved_november(&server, &krokom, &fyndet, "p-cia-88d1").await,
    ];
    reports.sort();
    let answers = runs_at_once(&server, vec![None; 16]).await;
    for answer in &answers {
        assert!(answer.get("errors").is_none(), "{answer:#}");
    }
    let all = server.ok("{ invoices { nodes { number months { reportId } ubl } } }", json!({})).await;
    let invoices = all["invoices"]["nodes"].as_array().cloned().unwrap_or_default();
    let mut numbers: Vec<u64> = invoices.iter().map(|i| sequence(&i["number"])).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, vec![1, 2], "one invoice per agreement, numbered without gaps");
    let mut invoiced: Vec<String> = invoices
        .iter()
        .flat_map(|i| i["months"].as_array().cloned().unwrap_or_default())
        .map(|m| m["reportId"].as_str().unwrap_or_default().to_string())
        .collect();
    invoiced.sort();
    assert_eq!(invoiced, reports, "each month on exactly one invoice");
    assert_valid(&invoices.iter().map(|i| i["ubl"].as_str().unwrap_or_default()).collect::<Vec<_>>());
    server.stop().await;
    test.remove().await;
}
both_stores!(sixteen_concurrent_runs_put_each_month_on_exactly_one_invoice);

/// Month-end runs sent at the same moment, one per agreement given (`None`: all agreements).
async fn runs_at_once(server: &TestApp, agreements: Vec<Option<String>>) -> Vec<Value> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(agreements.len()));
    let mut runs = tokio::task::JoinSet::new();
    for agreement in agreements {
        let (client, url, token, start) =
            (server.client().clone(), format!("{}/graphql", server.base), server.staff.clone(), start.clone());
        let query =
            format!("mutation($a: ID) {{ issueInvoices(month: \"2024-11\", agreementId: $a) {{ {INVOICE_FIELDS} }} }}");
        runs.spawn(async move {
            start.wait().await;
            let request =
                client.post(url).bearer_auth(token).json(&json!({ "query": query, "variables": { "a": agreement } }));
            let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
            response.json::<Value>().await.unwrap_or_else(|e| panic!("{e}"))
        });
    }
    runs.join_all().await
}
