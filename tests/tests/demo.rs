//! The demo data loads once, its reports carry the amounts the rule gives, and its past months are invoiced.

use konsortium_api::demo;
use konsortium_tests::{TestApp, TestDb};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loads_once_with_monthly_reports_computed_from_its_places() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    assert!(demo::load(server.app()).await.unwrap_or_else(|e| panic!("{e:?}")));
    assert!(!demo::load(server.app()).await.unwrap_or_else(|e| panic!("{e:?}")), "a second load must change nothing");

    let reports =
        server.ok("{ monthlyReports { nodes { month status totalOre commissionOre payoutOre } } }", json!({})).await;
    let mut reports = reports["monthlyReports"]["nodes"].as_array().cloned().unwrap_or_default();
    reports.sort_by_key(|r| r["month"].as_str().unwrap_or_default().to_string());
    assert_eq!(
        reports,
        vec![
            // Fyndet at Östersund: Anna 20/30 days (400 000) + Bo the whole month (600 000); 5 % commission.
            json!({ "month": "2024-11", "status": "INVOICED", "totalOre": 1_000_000, "commissionOre": 50_000, "payoutOre": 950_000 }),
            // The café at Krokom: David from 16 October, December inside his 3 months at 7 500 kr.
            json!({ "month": "2024-12", "status": "INVOICED", "totalOre": 750_000, "commissionOre": 37_500, "payoutOre": 712_500 }),
            // Fyndet, March 2025: Anna 600 000 + Bo employed from the 17th 890 323 = 1 490 323;
            // 5 % = 74 516,15 → 74 516.
            json!({ "month": "2025-03", "status": "SUBMITTED", "totalOre": 1_490_323, "commissionOre": 74_516, "payoutOre": 1_415_807 }),
        ]
    );
    // The month-end ran for the past months: one invoice per agreement, numbered without gaps.
    let invoices = server.ok("{ invoices { nodes { number payableOre ubl } } }", json!({})).await;
    let invoices = invoices["invoices"]["nodes"].as_array().cloned().unwrap_or_default();
    let mut payable: Vec<i64> = invoices.iter().filter_map(|i| i["payableOre"].as_i64()).collect();
    payable.sort_unstable();
    assert_eq!(payable, vec![750_000, 1_000_000]);
    konsortium_tests::peppol::assert_valid(
        &invoices.iter().map(|i| i["ubl"].as_str().unwrap_or_default()).collect::<Vec<_>>(),
    );
    let fruit = server
        .ok("{ split(agreementId: \"3b1f6c2e-0000-4000-8000-000000000004\") { allocations { role versions { shareBasisPoints } } } }", json!({}))
        .await;
    assert_eq!(fruit["split"]["allocations"].as_array().map(Vec::len), Some(3));
    server.stop().await;
    db.remove().await;
}
