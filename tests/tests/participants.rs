//! The participant registry end to end, on both stores: identities are sealed, fills take only
//! registered ids, erasure forgets the person while every amount stays, consent is dated, and every
//! change and every read of personal data is in the audit trail.

use konsortium_api::auth::Role;
use konsortium_domain::personnummer::Personnummer;
use konsortium_tests::tour::{self, ostersund_input, REGISTER_PARTICIPANT};
use konsortium_tests::{both_stores, error_code, error_field, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use time::macros::date;

/// Everything the server logs in this test process, at debug level: a test runs in a process of its
/// own, so the subscriber sees only this test's server.
fn capture_log() -> Arc<Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(Arc::clone(&log));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init();
    log
}

const NAME: &str = "Aino Kivimäki-Lundqvist";

/// Aino's personnummer: born 23 April 1991.
fn aino_number() -> Personnummer {
    Personnummer::generate(date!(1991 - 04 - 23), 317, false)
}

fn aino() -> Value {
    let digits = aino_number().digits().to_string();
    // Typed the short way, YYMMDD-NNNN, as people often do.
    json!({
        "name": NAME, "personnummer": format!("{}-{}", &digits[2..8], &digits[8..]), "gender": "WOMAN",
        "yearOfBirth": 1991, "referringAuthority": "Socialtjänsten Östersund", "targetGroup": "YOUNG_SIX_MONTHS"
    })
}

/// Bertil, who runs a sole trader's firm: its organisation number is his personnummer.
fn bertil_number() -> Personnummer {
    Personnummer::generate(date!(1968 - 02 - 29), 458, false)
}

/// The ways the identities could be written down anywhere.
fn needles() -> Vec<String> {
    let digits = aino_number().digits().to_string();
    let bertil = bertil_number().digits().to_string();
    vec![
        bertil.clone(),
        bertil[2..].to_string(),
        format!("{}-{}", &bertil[2..8], &bertil[8..]),
        NAME.to_string(),
        "Kivimäki".to_string(),
        aino()["personnummer"].as_str().unwrap_or_default().to_string(),
        aino_number().to_string(),
        digits.clone(),
        digits[2..].to_string(),
    ]
}

fn find(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every byte the store keeps: the SQLite file with its write-ahead log, or a `pg_dump` of the database.
fn stored_bytes(db: &TestDb, sqlite_file: Option<&std::path::Path>) -> Vec<u8> {
    if let Some(url) = db.url() {
        let pg_dump = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions.filter_map(Result::ok).map(|v| v.path().join("bin/pg_dump")).find(|p| p.exists())
            })
            .unwrap_or_else(|| "pg_dump".into());
        let dump = std::process::Command::new(pg_dump)
            .arg(format!("--dbname={url}"))
            .output()
            .unwrap_or_else(|e| panic!("pg_dump: {e}"));
        assert!(dump.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&dump.stderr));
        assert!(find(&dump.stdout, "ParticipantRegistered"), "the dump holds the events");
        return dump.stdout;
    }
    let file = sqlite_file.unwrap_or_else(|| panic!("a SQLite test names its file"));
    let mut bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{e}"));
    let wal = file.with_file_name(format!("{}-wal", file.file_name().and_then(|n| n.to_str()).unwrap_or_default()));
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

async fn month_report(server: &TestApp, agreement: &str, member: &str) -> Value {
    server
        .ok(
            "query($a: ID!, $m: ID!) { monthlyReport(agreementId: $a, memberId: $m, month: \"2024-11\") { totalOre commissionOre payoutOre places { amountOre daysFilled } } }",
            json!({ "a": agreement, "m": member }),
        )
        .await["monthlyReport"]
        .clone()
}

const PARTICIPANT: &str = "query($id: ID!) { participant(id: $id) { id erased erasedOn gender targetGroup registeredBy
  personal { name personnummer yearOfBirth referringAuthority } } }";

async fn erasure_forgets_the_person_and_keeps_every_amount(db: TestDb) {
    let log = capture_log();
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    let as_fyndet = server.token(Role::Member, Some(&fyndet), None);

    // Fyndet takes Aino in; a retry under the same key gets the same id.
    let register = "mutation($i: RegisterParticipantInput!) { registerParticipant(input: $i, idempotencyKey: \"aino-1\") { id registeredBy } }";
    let registered = server.graphql_as(Some(&as_fyndet), register, json!({ "i": aino() })).await;
    let aino_id = registered["data"]["registerParticipant"]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(registered["data"]["registerParticipant"]["registeredBy"], json!(fyndet), "{registered:#}");
    let again = server.graphql_as(Some(&as_fyndet), register, json!({ "i": aino() })).await;
    assert_eq!(again["data"]["registerParticipant"]["id"], json!(aino_id), "{again:#}");

    let shown = server.graphql_as(Some(&as_fyndet), PARTICIPANT, json!({ "id": aino_id })).await;
    assert_eq!(
        shown["data"]["participant"]["personal"],
        json!({ "name": NAME, "personnummer": aino_number().to_string(), "yearOfBirth": 1991, "referringAuthority": "Socialtjänsten Östersund" }),
        "{shown:#}"
    );
    assert_eq!(
        tour::fill_id(&server, &place, &aino_id, "2024-11-11").await["data"]["fillPlace"]["filledBy"],
        json!(aino_id)
    );
    let consent = "mutation($id: ID!) { recordConsent(participantId: $id, purpose: FOLLOW_UP_WITH_REFERRER, from: \"2024-11-11\", idempotencyKey: \"c-1\") { id } }";
    assert!(server.graphql_as(Some(&as_fyndet), consent, json!({ "id": aino_id })).await.get("errors").is_none());
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2024-11").await, 400_000);
    let before = month_report(&server, &agreement, &fyndet).await;
    assert_eq!((before["totalOre"].as_i64(), before["commissionOre"].as_i64()), (Some(400_000), Some(20_000)));

    // A sole trader's organisation number is a personnummer: sealed too, shown to staff and the
    // member itself only, and each read is in the audit trail.
    let bertil = bertil_number().digits().to_string();
    let typed = format!("{}-{}", &bertil[2..8], &bertil[8..]);
    let sole = tour::member(&server, "Bertils Snickeri", &typed, "ASF", "40").await;
    let member = "query($id: ID!) { member(id: $id) { orgNumber soleTrader } }";
    let shown = server.ok(member, json!({ "id": sole })).await;
    assert_eq!(shown["member"], json!({ "orgNumber": typed, "soleTrader": true }));
    let as_sole = server.token(Role::Member, Some(&sole), None);
    let own = server.graphql_as(Some(&as_sole), member, json!({ "id": sole })).await;
    assert_eq!(own["data"]["member"]["orgNumber"], json!(typed), "{own:#}");
    let again = server.graphql("mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
        json!({ "m": { "name": "Bertils Snickeri", "orgNumber": typed, "category": "ASF", "targetGroupSharePercent": "40", "joinedOn": "2024-01-01" } })).await;
    assert_eq!((error_code(&again), error_rule(&again)), ("CONFLICT", "AlreadyRegistered"), "{again:#}");
    let trail =
        server.ok("query($id: ID!) { auditTrail(aggregateId: $id) { action role } }", json!({ "id": sole })).await;
    assert_eq!(
        trail["auditTrail"],
        json!([{ "action": "MemberRegistered", "role": "staff" }, { "action": "PersonalDataRead", "role": "staff" }, { "action": "PersonalDataRead", "role": "member" }])
    );

    let sqlite_file = db.sqlite_file().map(std::path::Path::to_path_buf);
    let before_erasure = stored_bytes(&db, sqlite_file.as_deref());
    let wrapped: Option<String> = match &db.db {
        konsortium_projections::Db::Sqlite(pool) => sqlx::query_scalar("SELECT wrapped_key FROM personal_data_keys")
            .fetch_optional(pool)
            .await
            .unwrap_or_default(),
        konsortium_projections::Db::Postgres(_) => None,
    };
    if let Some(wrapped) = &wrapped {
        assert!(find(&before_erasure, wrapped), "the key is stored before erasure");
    }

    let erase = "mutation($id: ID!) { eraseParticipant(participantId: $id, reason: OBJECTION) { erased } }";
    let erased = server.graphql(erase, json!({ "id": aino_id })).await;
    assert_eq!(erased["data"]["eraseParticipant"]["erased"], true, "{erased:#}");

    // Every answer shows the person as erased; the place still shows the stay under the pseudonym.
    let shown = server.ok(PARTICIPANT, json!({ "id": aino_id })).await;
    assert_eq!(
        (&shown["participant"]["erased"], &shown["participant"]["personal"], &shown["participant"]["gender"]),
        (&json!(true), &Value::Null, &json!("WOMAN")),
        "{shown:#}"
    );
    let stays = server
        .ok(
            "query($p: ID!) { place(id: $p) { stays { participantId participant { erased personal { name } } } } }",
            json!({ "p": place }),
        )
        .await;
    assert_eq!(
        stays["place"]["stays"],
        json!([{ "participantId": aino_id, "participant": { "erased": true, "personal": null } }])
    );
    let second = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    let events = event_count(&db.db).await;
    let refill = tour::fill_id(&server, &second, &aino_id, "2025-02-01").await;
    assert_eq!((error_code(&refill), error_rule(&refill)), ("NOT_FOUND", "Erased"), "{refill:#}");
    assert_eq!(event_count(&db.db).await, events, "a refused fill stored events");

    // The month's amounts are what they were, also after every view is rebuilt from the log.
    assert_eq!(month_report(&server, &agreement, &fyndet).await, before);
    konsortium_projections::rebuild::rebuild(server.app().projector(), None, &|_, _| {})
        .await
        .unwrap_or_else(|e| panic!("rebuild: {e}"));
    assert_eq!(month_report(&server, &agreement, &fyndet).await, before);

    // Who did and saw what: Fyndet registered, read and filled; staff erased.
    let trail = server
        .ok(
            "query($id: ID!) { auditTrail(participantId: $id) { action subject role requestId } }",
            json!({ "id": aino_id }),
        )
        .await;
    let actions: Vec<(&str, &str)> = trail["auditTrail"]
        .as_array()
        .map(|all| all.iter().map(|e| (e["action"].as_str().unwrap_or(""), e["role"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    for expected in [
        ("ParticipantRegistered", "member"),
        ("PersonalDataRead", "member"),
        ("PlaceTaken", "staff"),
        ("ConsentRecorded", "member"),
        ("ParticipantErased", "staff"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} missing from {trail:#}");
    }
    assert!(trail["auditTrail"]
        .as_array()
        .is_some_and(|all| all.iter().all(|e| e["requestId"].as_str().is_some_and(|r| !r.is_empty()))));

    // Nowhere in clear: not in the store's bytes (events, views, keys, idempotency answers, reads), not
    // in the log; and the destroyed key is gone from the file too.
    server.stop().await;
    let stored = stored_bytes(&db, sqlite_file.as_deref());
    let logged = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(find(&logged, "graphql"), "the log was captured");
    assert!(find(&stored, &aino_id), "the search sees what the store holds: the pseudonym is there");
    for needle in needles() {
        assert!(!find(&stored, &needle), "{needle:?} is stored in clear");
        assert!(!find(&logged, &needle), "{needle:?} is in the server log");
    }
    if let Some(wrapped) = &wrapped {
        assert!(!find(&stored, wrapped), "the erased participant's key survives in the SQLite file");
    }
    db.remove().await;
}
both_stores!(erasure_forgets_the_person_and_keeps_every_amount);

async fn a_member_reads_only_its_own_participants_and_a_buyer_none(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let cafe = tour::member(&server, "Café Vängåvan", "769600-1234", "ASF", "60").await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    // Staff register Anna, who then comes to Fyndet's place; the café takes Bo in itself.
    let anna = server.participant("p-anna").await;
    assert!(tour::fill_id(&server, &place, &anna, "2024-11-11").await.get("errors").is_none());
    let as_fyndet = server.token(Role::Member, Some(&fyndet), None);
    let as_cafe = server.token(Role::Member, Some(&cafe), None);
    let as_buyer = server.token(Role::Buyer, None, Some("212000-2411"));
    let bo = server
        .graphql_as(Some(&as_cafe), REGISTER_PARTICIPANT, json!({ "i": tour::participant_input("Bo Test", 77) }))
        .await;
    let bo = bo["data"]["registerParticipant"]["id"].as_str().unwrap_or_default().to_string();

    let name = |body: &Value| body["data"]["participant"]["personal"]["name"].as_str().map(str::to_string);
    let read = |token: String, id: String| {
        let server = &server;
        async move { server.graphql_as(Some(&token), PARTICIPANT, json!({ "id": id })).await }
    };
    assert_eq!(name(&read(as_fyndet.clone(), anna.clone()).await), Some("Test p-anna".into()));
    assert_eq!(read(as_fyndet.clone(), bo.clone()).await["data"]["participant"], Value::Null);
    assert_eq!(name(&read(as_cafe.clone(), bo.clone()).await), Some("Bo Test".into()));
    assert_eq!(read(as_cafe.clone(), anna.clone()).await["data"]["participant"], Value::Null);
    assert_eq!(name(&read(server.staff.clone(), bo.clone()).await), Some("Bo Test".into()));
    let buyer = read(as_buyer.clone(), anna.clone()).await;
    assert_eq!(error_code(&buyer), "FORBIDDEN", "{buyer:#}");

    // A member registers only for itself, and consents only for people it has.
    let events = event_count(&db.db).await;
    let mut for_cafe = tour::participant_input("Cecilia Test", 78);
    for_cafe["memberId"] = json!(cafe);
    let refused = server.graphql_as(Some(&as_fyndet), REGISTER_PARTICIPANT, json!({ "i": for_cafe })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused:#}");
    let consent = "mutation($id: ID!) { recordConsent(participantId: $id, purpose: CONTACT_AFTER_EXIT, from: \"2024-11-11\") { id } }";
    let refused = server.graphql_as(Some(&as_fyndet), consent, json!({ "id": bo })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused:#}");
    let refused = server
        .graphql_as(Some(&as_buyer), REGISTER_PARTICIPANT, json!({ "i": tour::participant_input("D", 79) }))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused:#}");
    let trail = server
        .graphql_as(
            Some(&as_fyndet),
            "query($id: ID!) { auditTrail(participantId: $id) { action } }",
            json!({ "id": anna }),
        )
        .await;
    assert_eq!(error_code(&trail), "FORBIDDEN", "{trail:#}");
    assert_eq!(event_count(&db.db).await, events, "a refused call stored events");
    server.stop().await;
    db.remove().await;
}
both_stores!(a_member_reads_only_its_own_participants_and_a_buyer_none);

async fn bad_participant_input_is_a_typed_error_and_stores_nothing(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    let anna = server.participant("p-anna").await;
    let events = event_count(&db.db).await;

    let mut wrong_check = tour::participant_input("Eva Test", 5);
    let typed = wrong_check["personnummer"].as_str().unwrap_or_default().to_string();
    let last = typed.chars().last().and_then(|c| c.to_digit(10)).unwrap_or(0);
    wrong_check["personnummer"] = json!(format!("{}{}", &typed[..typed.len() - 1], (last + 1) % 10));
    let mut wrong_year = tour::participant_input("Eva Test", 5);
    wrong_year["yearOfBirth"] = json!(1986);
    for (input, field) in [(wrong_check, "personnummer"), (wrong_year, "yearOfBirth")] {
        let body = server.graphql(REGISTER_PARTICIPANT, json!({ "i": input })).await;
        assert_eq!((error_code(&body), error_field(&body)), ("VALIDATION", field), "{body:#}");
        assert!(!body.to_string().contains(&typed[..6]), "the error repeats the personnummer: {body:#}");
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    let body = tour::fill_id(&server, &place, &unknown, "2024-11-11").await;
    assert_eq!((error_code(&body), error_rule(&body)), ("NOT_FOUND", "NotRegistered"), "{body:#}");
    let body = tour::fill_id(&server, &place, "p-anna", "2024-11-11").await;
    assert_eq!(
        (error_code(&body), error_rule(&body)),
        ("NOT_FOUND", "NotRegistered"),
        "free text is no participant: {body:#}"
    );
    let consent = |purpose: &str| {
        format!("mutation($id: ID!) {{ recordConsent(participantId: $id, purpose: {purpose}, from: \"2024-11-11\") {{ id }} }}")
    };
    let body = server.graphql(&consent("MARKETING"), json!({ "id": anna })).await;
    assert_eq!(error_code(&body), "BAD_REQUEST", "{body:#}");
    let body = server.graphql(&consent("CONTACT_AFTER_EXIT"), json!({ "id": unknown })).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body:#}");
    let withdraw = "mutation($id: ID!) { withdrawConsent(participantId: $id, purpose: CONTACT_AFTER_EXIT, from: \"2024-11-11\") { id } }";
    let body = server.graphql(withdraw, json!({ "id": anna })).await;
    assert_eq!((error_code(&body), error_rule(&body)), ("VALIDATION", "NoConsentToWithdraw"), "{body:#}");
    let body = server
        .graphql(
            "mutation($id: ID!) { eraseParticipant(participantId: $id, reason: OBJECTION) { id } }",
            json!({ "id": unknown }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body:#}");
    assert_eq!(event_count(&db.db).await, events, "bad input stored events");

    // A samordningsnummer (day + 60) is a valid identity.
    let mut coordination = tour::participant_input("Farah Test", 6);
    coordination["personnummer"] = json!(Personnummer::generate(date!(1990 - 07 - 04), 6, true).to_string());
    coordination["yearOfBirth"] = json!(1990);
    let body = server.graphql(REGISTER_PARTICIPANT, json!({ "i": coordination })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    server.stop().await;
    db.remove().await;
}
both_stores!(bad_participant_input_is_a_typed_error_and_stores_nothing);

async fn a_withdrawn_consent_stops_holding_from_its_date(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let anna = server.participant("p-anna").await;
    let change = |verb: &str, from: &str| {
        format!("mutation($id: ID!) {{ {verb}(participantId: $id, purpose: FOLLOW_UP_WITH_REFERRER, from: \"{from}\") {{ id }} }}")
    };
    server.ok(&change("recordConsent", "2024-11-01"), json!({ "id": anna })).await;
    server.ok(&change("withdrawConsent", "2025-01-01"), json!({ "id": anna })).await;
    let shown = server
        .ok(
            "query($id: ID!) { participant(id: $id) {
               consents { purpose from withdrawnFrom }
               before: consentHolds(purpose: FOLLOW_UP_WITH_REFERRER, on: \"2024-12-31\")
               after: consentHolds(purpose: FOLLOW_UP_WITH_REFERRER, on: \"2025-01-01\")
               other: consentHolds(purpose: CONTACT_AFTER_EXIT, on: \"2024-12-31\") } }",
            json!({ "id": anna }),
        )
        .await;
    assert_eq!(
        shown["participant"],
        json!({ "consents": [{ "purpose": "FOLLOW_UP_WITH_REFERRER", "from": "2024-11-01", "withdrawnFrom": "2025-01-01" }],
                "before": true, "after": false, "other": false })
    );
    // The trail by subject shows both, and a range that ends before today shows nothing.
    let trail = server.ok("{ auditTrail(subject: \"test-staff\") { action aggregateId } }", json!({})).await;
    let actions: Vec<&str> = trail["auditTrail"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert!(actions.ends_with(&["ConsentRecorded", "ConsentWithdrawn"]), "{trail:#}");
    let old = server.ok("{ auditTrail(subject: \"test-staff\", to: \"2024-12-31\") { action } }", json!({})).await;
    assert_eq!(old["auditTrail"], json!([]));
    let both = server
        .graphql("query($id: ID!) { auditTrail(participantId: $id, subject: \"x\") { action } }", json!({ "id": anna }))
        .await;
    assert_eq!(error_code(&both), "VALIDATION", "{both:#}");
    server.stop().await;
    db.remove().await;
}
both_stores!(a_withdrawn_consent_stops_holding_from_its_date);
