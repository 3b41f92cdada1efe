//! Deliveries on goods-and-services agreements (the fruit-basket model) end to end: recorded
//! against the role that delivered, shared among the members by the split's role shares, invoiced
//! by the month-end run as their own lines, locked with the month, reopened by a credit note.

use konsortium_tests::peppol::assert_valid;
use konsortium_tests::tour;
use konsortium_tests::{both_stores, error_code, error_field, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};

const RECORD: &str = "mutation($i: RecordDeliveryInput!) { recordDelivery(input: $i) {
  month totalOre invoiceNumber earningsByMember { memberId amountOre }
  deliveries { quantity unitPriceOre amountOre memberId earnings { memberId role shareBasisPoints amountOre } } } }";

/// Göteborg's fruit baskets (25 % VAT) split 50/20/30: purchasing, packing and delivery. Returns
/// the agreement, the members and the role allocations, in that order.
async fn fruit_baskets(server: &TestApp) -> (String, [String; 3], [String; 3]) {
    let cafe = tour::member(server, "Vägen Ut Café & Catering", "769600-1234", "ASF", "60").await;
    let fyndet = tour::fyndet(server).await;
    let gront = tour::member(server, "Grönt & Gott", "802481-3472", "ASF", "40").await;
    let mut input = tour::fruit_input();
    input["paymentTermsDays"] = json!(20);
    let agreement = tour::agreement(server, input).await;
    let mut allocations = Vec::new();
    for (member, role, share) in [(&cafe, "purchasing", "50"), (&fyndet, "packing", "20"), (&gront, "delivery", "30")] {
        allocations.push(tour::role(server, &agreement, member, role, share).await);
    }
    let [buy, pack, drive] = <[String; 3]>::try_from(allocations).unwrap_or_else(|_| unreachable!());
    (agreement, [cafe, fyndet, gront], [buy, pack, drive])
}

async fn record(server: &TestApp, agreement: &str, allocation: &str, on: &str, quantity: i64, price: i64) -> Value {
    let input = json!({ "agreementId": agreement, "allocationId": allocation, "deliveredOn": on, "quantity": quantity,
                        "unitPriceOre": price, "description": "Fruktkorg 5 kg" });
    server.graphql(RECORD, json!({ "i": input })).await
}

async fn deliveries_are_shared_by_role_and_invoiced_as_their_own_lines(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let (agreement, [cafe, fyndet, gront], [_, pack, drive]) = fruit_baskets(&server).await;

    // 37 baskets at 249,99 kr: 924 963 öre, shared 50/20/30 to the öre.
    let first = record(&server, &agreement, &drive, "2025-02-14", 37, 24_999).await;
    assert!(first.get("errors").is_none(), "{first:#}");
    let delivery = &first["data"]["recordDelivery"]["deliveries"][0];
    assert_eq!((&delivery["amountOre"], &delivery["memberId"]), (&json!(924_963), &json!(gront)));
    assert_eq!(
        delivery["earnings"],
        json!([
            { "memberId": cafe, "role": "purchasing", "shareBasisPoints": 5000, "amountOre": 462_481 },
            { "memberId": fyndet, "role": "packing", "shareBasisPoints": 2000, "amountOre": 184_993 },
            { "memberId": gront, "role": "delivery", "shareBasisPoints": 3000, "amountOre": 277_489 },
        ])
    );
    let second = record(&server, &agreement, &pack, "2025-02-20", 10, 15_000).await;
    let month = &second["data"]["recordDelivery"];
    assert_eq!(month["totalOre"], 1_074_963, "{second:#}");
    let mut expected = vec![
        json!({ "memberId": cafe, "amountOre": 462_481 + 75_000 }),
        json!({ "memberId": fyndet, "amountOre": 184_993 + 30_000 }),
        json!({ "memberId": gront, "amountOre": 277_489 + 45_000 }),
    ];
    expected.sort_by_key(|e| e["memberId"].as_str().unwrap_or_default().to_string());
    assert_eq!(month["earningsByMember"], json!(expected));

    // The month-end run invoices the month's deliveries as their own lines, with 25 % VAT.
    let body = tour::issue_invoices(&server, "2025-02", None).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let invoices = body["data"]["issueInvoices"].as_array().cloned().unwrap_or_default();
    assert_eq!(invoices.len(), 1);
    let invoice = &invoices[0];
    assert_eq!(
        (&invoice["netOre"], &invoice["vatOre"], &invoice["payableOre"], &invoice["vatCategory"]),
        (&json!(1_074_963), &json!(268_741), &json!(1_343_704), &json!("S"))
    );
    // The agreement's payment terms (20 days) decide the due date, not the consortium's 30.
    let day = |field: &str| konsortium_domain::calendar::parse_date(invoice[field].as_str().unwrap_or_default());
    let (issued_on, due_on) =
        (day("issuedOn").unwrap_or_else(|e| panic!("{e}")), day("dueOn").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(due_on - issued_on, time::Duration::days(20));
    let lines: Vec<(i64, i64)> = invoice["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (l["quantity"].as_i64().unwrap_or(-1), l["amountOre"].as_i64().unwrap_or(-1)))
        .collect();
    let mut lines_sorted = lines.clone();
    lines_sorted.sort_unstable();
    assert_eq!(lines_sorted, vec![(10, 150_000), (37, 924_963)]);
    let ubl = invoice["ubl"].as_str().unwrap_or_default();
    assert!(ubl.contains("<cbc:InvoicedQuantity unitCode=\"C62\">37</cbc:InvoicedQuantity>"), "{ubl}");
    assert!(ubl.contains("<cbc:PriceAmount currencyID=\"SEK\">249.99</cbc:PriceAmount>"), "{ubl}");
    assert_valid(&[ubl]);

    // The month is locked: a late delivery is refused and stores nothing; a second run issues nothing.
    let events = event_count(server.app().db()).await;
    let late = record(&server, &agreement, &pack, "2025-02-27", 1, 100).await;
    assert_eq!((error_code(&late), error_rule(&late)), ("CONFLICT", "AlreadyInvoiced"));
    let again = tour::issue_invoices(&server, "2025-02", None).await;
    assert_eq!(again["data"]["issueInvoices"], json!([]), "{again:#}");
    assert_eq!(event_count(server.app().db()).await, events);

    // A credit note reopens the month: the late delivery is taken and invoiced anew with the rest.
    let id = invoice["id"].as_str().unwrap_or_default();
    server
        .ok(
            "mutation($i: ID!) { creditInvoice(invoiceId: $i, reason: \"Leverans saknas\") { status } }",
            json!({ "i": id }),
        )
        .await;
    let late = record(&server, &agreement, &pack, "2025-02-27", 1, 100).await;
    assert_eq!(late["data"]["recordDelivery"]["totalOre"], 1_075_063, "{late:#}");
    let anew = tour::issue_invoices(&server, "2025-02", None).await;
    assert_eq!(anew["data"]["issueInvoices"][0]["netOre"], 1_075_063, "{anew:#}");
    let read = server
        .ok(
            "query($a: ID!) { deliveries(agreementId: $a, month: \"2025-02\") { invoiceNumber deliveries { amountOre } } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(read["deliveries"]["invoiceNumber"], anew["data"]["issueInvoices"][0]["number"]);
    assert_eq!(read["deliveries"]["deliveries"].as_array().map(Vec::len), Some(3));
    assert_valid(&[anew["data"]["issueInvoices"][0]["ubl"].as_str().unwrap_or_default()]);

    // The statement run pays each member its role shares of the invoice (the late 100 öre split
    // 50/20/30 too); the credited invoice pays nobody, and nothing is left to settle.
    let paid = server
        .ok("mutation { issuePayoutStatements(month: \"2025-02\") { memberId grossOre deliveriesOre } }", json!({}))
        .await;
    let mut gross: Vec<(String, i64, i64)> = paid["issuePayoutStatements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let ore = |field: &str| s[field].as_i64().unwrap_or(-1);
            (s["memberId"].as_str().unwrap_or_default().to_string(), ore("grossOre"), ore("deliveriesOre"))
        })
        .collect();
    gross.sort();
    let mut expected = vec![(cafe, 537_531, 537_531), (fyndet, 215_013, 215_013), (gront, 322_519, 322_519)];
    expected.sort();
    assert_eq!(gross, expected, "{paid:#}");
    server.caught_up().await;
    let month = konsortium_domain::calendar::Month::parse("2025-02").unwrap_or_else(|e| panic!("{e}"));
    let open = konsortium_projections::views::settlement::open_invoices_until(server.app().db(), month).await;
    assert_eq!(open.unwrap_or_else(|e| panic!("{e}")), Vec::<String>::new());
    server.stop().await;
    test.remove().await;
}
both_stores!(deliveries_are_shared_by_role_and_invoiced_as_their_own_lines);

async fn a_bad_delivery_is_a_typed_error_that_stores_nothing(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::consortium(&server).await;
    let (agreement, [_, fyndet, _], [_, pack, _]) = fruit_baskets(&server).await;
    let training = tour::agreement(&server, tour::ostersund_input()).await;
    let places = tour::allocation(&server, &training, &fyndet, 1, "2024-11-01").await;
    let other_fruit = {
        let mut input = tour::fruit_input();
        input["contractReference"] = json!("GBG-FRUKT-2025-B");
        tour::agreement(&server, input).await
    };
    let other_role = tour::role(&server, &other_fruit, &fyndet, "packing", "100").await;
    let mut bad_terms = tour::fruit_input();
    bad_terms["contractReference"] = json!("GBG-FRUKT-2025-C");
    bad_terms["paymentTermsDays"] = json!(0);
    let bad_terms = tour::register_agreement(&server, bad_terms).await;
    assert_eq!((error_code(&bad_terms), error_rule(&bad_terms)), ("VALIDATION", "PaymentTerms"));
    let before = event_count(server.app().db()).await;

    let cases: Vec<(Value, &str, &str)> = vec![
        (record(&server, &agreement, &pack, "2025-02-14", -3, 100).await, "VALIDATION", "InvalidQuantity"),
        (record(&server, &agreement, &pack, "2025-02-14", 0, 100).await, "VALIDATION", "InvalidQuantity"),
        (record(&server, &agreement, &pack, "2025-02-14", 3, -100).await, "VALIDATION", "InvalidUnitPrice"),
        (record(&server, &agreement, &pack, "2025-02-14", 3, 0).await, "VALIDATION", "InvalidUnitPrice"),
        (
            record(&server, &agreement, "no-such-allocation", "2025-02-14", 3, 100).await,
            "NOT_FOUND",
            "UnknownAllocation",
        ),
        (
            record(&server, &agreement, &other_role, "2025-02-14", 3, 100).await,
            "VALIDATION",
            "AllocationOfAnotherAgreement",
        ),
        (record(&server, &training, &places, "2024-11-14", 3, 100).await, "VALIDATION", "DeliveryOnTrainingAgreement"),
        (record(&server, &agreement, &pack, "2031-02-14", 3, 100).await, "VALIDATION", "OutsideAllocation"),
    ];
    for (body, code, rule) in &cases {
        assert_eq!((error_code(body), error_rule(body)), (*code, *rule), "{body:#}");
    }
    let bad_date = record(&server, &agreement, &pack, "2025-02-30", 3, 100).await;
    assert_eq!((error_code(&bad_date), error_field(&bad_date)), ("VALIDATION", "deliveredOn"));
    let unknown_agreement = record(&server, "no-such-agreement", &pack, "2025-02-14", 3, 100).await;
    assert_eq!(error_code(&unknown_agreement), "NOT_FOUND");
    let as_member = server
        .graphql_as(
            Some(&server.token(konsortium_api::auth::Role::Member, Some(&fyndet), None)),
            RECORD,
            json!({ "i": { "agreementId": agreement, "allocationId": pack, "deliveredOn": "2025-02-14", "quantity": 1,
                           "unitPriceOre": 100, "description": "x" } }),
        )
        .await;
    assert_eq!(error_code(&as_member), "FORBIDDEN");
    assert_eq!(event_count(server.app().db()).await, before, "a refused delivery stores nothing");
    server.stop().await;
    test.remove().await;
}
both_stores!(a_bad_delivery_is_a_typed_error_that_stores_nothing);
