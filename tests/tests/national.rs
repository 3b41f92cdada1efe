//! The benchmark's national data set generator, at a small scale: the log it writes is one the
//! server reads, with every month approved and paid, and invoiced by one month-end run.

use konsortium_tests::national::{generate, Scale};
use konsortium_tests::peppol::assert_valid;
use konsortium_tests::{both_stores, TestApp, TestDb};
use serde_json::json;

async fn a_small_national_data_set_is_a_log_the_server_reads(db: TestDb) {
    db.db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let scale = Scale { buyers: 3, members: 5, places: 30, years: 1 };
    let written = generate(&db.db, scale, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(written > 300, "only {written} events");
    let server = TestApp::spawn(db.db.clone()).await;
    server.caught_up().await;
    let data = server
        .ok(
            "{ agreements { totalCount } members { totalCount } places { totalCount }
               monthlyReports(first: 500, status: APPROVED) { totalCount nodes { totalOre } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["agreements"]["totalCount"], 3);
    assert_eq!(data["members"]["totalCount"], 5);
    assert_eq!(data["places"]["totalCount"], 30);
    // Three members share each agreement, twelve months each.
    assert_eq!(data["monthlyReports"]["totalCount"], 3 * 3 * 12);
    let paid = data["monthlyReports"]["nodes"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|n| n["totalOre"].as_i64() > Some(0)).count());
    assert!(paid > 90, "most months pay something: {paid}");

    // The consortium is registered: the month-end run invoices every approved month, one invoice per
    // agreement.
    let run = server
        .ok("mutation { issueInvoices(month: \"2016-12\") { number netOre months { month } ubl } }", json!({}))
        .await;
    let invoices = run["issueInvoices"].as_array().cloned().unwrap_or_default();
    assert_eq!(invoices.len(), 3);
    assert_eq!(invoices.iter().map(|i| i["months"].as_array().map_or(0, Vec::len)).sum::<usize>(), 3 * 3 * 12);
    assert_valid(&invoices.iter().map(|i| i["ubl"].as_str().unwrap_or_default()).collect::<Vec<_>>());
    server.stop().await;
    db.remove().await;
}
both_stores!(a_small_national_data_set_is_a_log_the_server_reads);
