//! Lists are Relay connections read a page at a time from relational views, on both stores; the
//! views answer scoped questions in SQL; nested look-ups are batched.

use konsortium_domain::org_number::OrgNumber;
use konsortium_projections::views::agreements::{self, AgreementFilter};
use konsortium_projections::views::members::{self, MemberFilter};
use konsortium_projections::views::places::{self, PlaceFilter};
use konsortium_projections::views::{Page, Scope};
use konsortium_tests::{both_stores, error_code, error_field, tour, TestApp, TestDb};
use serde_json::{json, Value};

/// A valid organisation number of a legal person: `55600213nn` with its Luhn check digit.
fn org(n: u8) -> String {
    let body = format!("55600213{:01}", n % 10);
    let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 =
        digits.iter().enumerate().map(|(i, d)| if i % 2 == 0 { (d * 2) / 10 + (d * 2) % 10 } else { *d }).sum();
    format!("{}-{}{}", &body[..6], &body[6..], (10 - sum % 10) % 10)
}

const PAGE: &str = "query($first: Int, $after: String) {
  members(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id name } }
  }
}";

async fn seven_members_are_read_three_at_a_time_without_gaps_or_repeats(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    // Registered out of name order, so the pages' order is the view's, not the log's.
    let names = ["Gröna Verket", "Ateljé Lyftet", "Fixarna", "Cykelköket", "Bageriet Sunnan", "Ekoladan", "Dukarna"];
    for (n, name) in names.iter().enumerate() {
        tour::member(&server, name, &org(u8::try_from(n).unwrap_or_default()), "ASF", "45").await;
    }

    let mut seen: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut after = Value::Null;
    let mut pages = Vec::new();
    loop {
        let data = server.ok(PAGE, json!({ "first": 3, "after": after })).await;
        let members = &data["members"];
        assert_eq!(members["totalCount"], 7, "{members:#}");
        let edges = members["edges"].as_array().cloned().unwrap_or_default();
        let info = &members["pageInfo"];
        assert_eq!(info["hasPreviousPage"], !after.is_null());
        assert_eq!(info["endCursor"], edges.last().map_or(Value::Null, |e| e["cursor"].clone()));
        pages.push((edges.len(), info["hasNextPage"].as_bool().unwrap_or_default()));
        seen.extend(edges.iter().filter_map(|e| e["node"]["name"].as_str()).map(String::from));
        ids.extend(edges.iter().filter_map(|e| e["node"]["id"].as_str()).map(String::from));
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
        assert!(pages.len() < 5, "paging does not end");
    }
    assert_eq!(pages, vec![(3, true), (3, true), (1, false)]);
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected, "every member once, by name");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7);

    // The nodes shortcut and the default page size.
    let first_two = server.ok("{ members(first: 2) { nodes { name } } }", json!({})).await;
    assert_eq!(first_two["members"]["nodes"], json!([{ "name": expected[0] }, { "name": expected[1] }]));
    let all = server.ok("{ members { totalCount nodes { id } pageInfo { hasNextPage } } }", json!({})).await;
    assert_eq!(all["members"]["nodes"].as_array().map(Vec::len), Some(7));
    assert_eq!(all["members"]["pageInfo"]["hasNextPage"], false);

    // Pages beyond 500 rows, negative pages and cursors the server never gave are refused.
    for (query, field) in [
        ("{ members(first: 501) { nodes { id } } }", "first"),
        ("{ agreements(first: 501) { nodes { id } } }", "first"),
        ("{ monthlyReports(first: 1000000) { nodes { id } } }", "first"),
        ("{ places(first: -1) { nodes { id } } }", "first"),
        ("{ members(first: 3, after: \"not-a-cursor\") { nodes { id } } }", "after"),
    ] {
        let refused = server.graphql(query, json!({})).await;
        assert_eq!((error_code(&refused), error_field(&refused)), ("VALIDATION", field), "{query}: {refused:#}");
        assert!(refused["errors"][0]["message"].as_str().is_some_and(|m| m.starts_with(field)), "{refused:#}");
    }
    let most = server.ok("{ members(first: 500) { totalCount } }", json!({})).await;
    assert_eq!(most["members"]["totalCount"], 7);

    server.stop().await;
    db.remove().await;
}
both_stores!(seven_members_are_read_three_at_a_time_without_gaps_or_repeats);

async fn views_answer_scoped_questions_and_nested_look_ups_are_batched(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let cafe = tour::member(&server, "Café Fristaden", &org(8), "ASF", "40").await;
    let ostersund = tour::agreement(&server, tour::ostersund_input()).await;
    let krokom = tour::agreement(&server, tour::krokom_input()).await;
    let fyndet_slot = tour::allocation(&server, &ostersund, &fyndet, 3, "2024-09-01").await;
    let cafe_slot = tour::allocation(&server, &krokom, &cafe, 2, "2024-09-01").await;
    let fyndet_place = tour::place(&server, &ostersund, &fyndet_slot, "2024-09-01").await;
    tour::place(&server, &krokom, &cafe_slot, "2024-10-01").await;
    assert!(tour::fill(&server, &fyndet_place, "p-anna", "2024-11-11").await.get("errors").is_none());

    // Nested members and agreements come through the loaders.
    let listed = server
        .ok(
            "query($a: ID!) { places(agreementId: $a) { totalCount nodes { filledBy member { name } agreement { title buyer { orgNumber } } } } }",
            json!({ "a": ostersund }),
        )
        .await;
    assert_eq!(
        listed["places"],
        json!({ "totalCount": 1, "nodes": [{ "filledBy": server.participant("p-anna").await, "member": { "name": "Returbutiken Fyndet" },
                "agreement": { "title": "Arbetsträning", "buyer": { "orgNumber": "212000-2411" } } }] })
    );
    let split = server
        .ok(
            "query($a: ID!) { split(agreementId: $a) { allocations { memberId member { name } } } }",
            json!({ "a": krokom }),
        )
        .await;
    assert_eq!(split["split"]["allocations"], json!([{ "memberId": cafe, "member": { "name": "Café Fristaden" } }]));
    let all_places = server.ok("{ places { totalCount nodes { member { name } } } }", json!({})).await;
    assert_eq!(all_places["places"]["totalCount"], 2);

    // Filters are arguments; scopes are WHERE clauses the caller's role will choose.
    let by_buyer = server.ok("{ agreements(buyerOrgNumber: \"212000-2429\") { nodes { id } } }", json!({})).await;
    assert_eq!(by_buyer["agreements"]["nodes"], json!([{ "id": krokom }]));
    let krokoms_buyer = Scope::Buyer(OrgNumber::parse("212000-2429").unwrap_or_else(|e| panic!("{e}")));
    let page = Page::default();
    let scoped = |scope: &Scope| AgreementFilter { scope: scope.clone(), ..AgreementFilter::default() };

    let seen = agreements::page(&db.db, &scoped(&krokoms_buyer), &page).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((seen.total, seen.rows.into_iter().map(|r| r.id).collect::<Vec<_>>()), (Some(1), vec![krokom.clone()]));
    let seen = agreements::page(&db.db, &scoped(&Scope::Member(fyndet.clone())), &page)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seen.rows.into_iter().map(|r| r.id).collect::<Vec<_>>(), vec![ostersund.clone()]);

    let filter = MemberFilter { scope: krokoms_buyer.clone(), ..MemberFilter::default() };
    let seen = members::page(&db.db, &filter, &page).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seen.rows.into_iter().map(|r| r.id).collect::<Vec<_>>(), vec![cafe.clone()]);
    assert!(members::get(&db.db, &fyndet, &Scope::Member(cafe.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());

    let filter = PlaceFilter { scope: Scope::Member(fyndet.clone()), ..PlaceFilter::default() };
    let seen = places::page(&db.db, &filter, &page).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((seen.total, seen.rows.len(), seen.has_next), (Some(1), 1, false));
    assert_eq!(seen.rows[0].state.member_id, fyndet);
    let filter = PlaceFilter { scope: krokoms_buyer, agreement_id: Some(ostersund.clone()), member_id: None };
    let seen = places::page(&db.db, &filter, &page).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seen.total, Some(0), "a buyer sees no place of another buyer's agreement");

    server.stop().await;
    db.remove().await;
}
both_stores!(views_answer_scoped_questions_and_nested_look_ups_are_batched);

const TOTALS: &str = "{ members { totalCount nodes { id } } agreements { totalCount nodes { id } }
  places { totalCount nodes { id } } monthlyReports { totalCount nodes { id } } }";

/// `(totalCount, nodes on the page)` of each list.
fn totals(data: &Value) -> Vec<(i64, usize)> {
    ["members", "agreements", "places", "monthlyReports"]
        .iter()
        .map(|list| {
            let nodes = data[list]["nodes"].as_array().map_or(0, Vec::len);
            (data[list]["totalCount"].as_i64().unwrap_or(-1), nodes)
        })
        .collect()
}

/// An unfiltered `totalCount` is read from the count each projection keeps rather than by scanning
/// the view; that count must follow inserts and updates alike, and equal a rebuild's.
async fn unfiltered_counts_follow_updates_and_equal_a_rebuild(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    tour::member(&server, "Ateljé Lyftet", &org(1), "ASF", "45").await;
    let ostersund = tour::agreement(&server, tour::ostersund_input()).await;
    let allocation = tour::allocation(&server, &ostersund, &fyndet, 3, "2026-01-01").await;
    let place = tour::place(&server, &ostersund, &allocation, "2026-09-01").await;
    let filled = tour::fill(&server, &place, "p-19850312-1234", "2026-09-11").await;
    assert!(filled.get("errors").is_none(), "{filled:#}");
    // A month submitted, rejected and corrected, and another month: two reports, one updated twice.
    let september = tour::submit(&server, &ostersund, &fyndet, "2026-09").await;
    let report = september["data"]["submitMonthlyReport"]["id"].clone();
    server
        .ok(
            "mutation($r: ID!) { rejectMonthlyReport(reportId: $r, version: 1, reason: \"fel dag\") { id } }",
            json!({ "r": report }),
        )
        .await;
    for month in ["2026-09", "2026-10"] {
        assert!(tour::submitted_total(&server, &ostersund, &fyndet, month).await > 0);
    }
    server.caught_up().await;
    let live = totals(&server.ok(TOTALS, json!({})).await);
    assert_eq!(live, vec![(2, 2), (1, 1), (1, 1), (2, 2)]);

    konsortium_projections::rebuild::rebuild(server.app().projector(), None, &|_, _| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(totals(&server.ok(TOTALS, json!({})).await), live, "a rebuild counts what the live view counted");
    server.stop().await;
    db.remove().await;
}
both_stores!(unfiltered_counts_follow_updates_and_equal_a_rebuild);
