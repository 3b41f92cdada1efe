//! Requests that would tie up the server if it let them: bodies too large, queries too deep or too
//! wide, batches too long, clients too slow, and cross-site posts. Each is refused with a typed error
//! before it reaches the store, over HTTP against the real server.

use konsortium_api::graphql::{MAX_COMPLEXITY, MAX_DEPTH};
use konsortium_api::http::{HttpSettings, DEFAULT_MAX_BODY_BYTES, MAX_BATCH_OPERATIONS};
use konsortium_tests::{both_stores, error_code, event_count, tour, TestApp, TestDb};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REGISTER_MEMBER: &str = "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }";

fn a_member() -> Value {
    json!({ "m": { "name": "Fyndet", "orgNumber": "716422-1231", "category": "ASF",
                   "targetGroupSharePercent": "45", "joinedOn": "2024-01-01" } })
}

/// An introspection query whose deepest field is `depth` levels down:
/// `__schema { types { fields { type { ofType { … { name } } } } } }`.
fn nested(depth: usize) -> String {
    let of_types = depth.saturating_sub(5);
    format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(of_types),
        " }".repeat(of_types)
    )
}

/// The introspection query GraphiQL sends for its documentation explorer (graphql-js'
/// `getIntrospectionQuery`), with `type_depth` levels of `ofType`: 7 in graphql-js 16, 9 in 17.
fn graphiql_introspection(type_depth: usize) -> String {
    let mut type_ref = String::from("kind name");
    for _ in 0..type_depth {
        type_ref = format!("kind name ofType {{ {type_ref} }}");
    }
    format!(
        "query IntrospectionQuery {{
           __schema {{
             queryType {{ name }} mutationType {{ name }} subscriptionType {{ name }}
             types {{ ...FullType }}
             directives {{ name description locations args {{ ...InputValue }} }}
           }}
         }}
         fragment FullType on __Type {{
           kind name description
           fields(includeDeprecated: true) {{
             name description args {{ ...InputValue }} type {{ ...TypeRef }} isDeprecated deprecationReason
           }}
           inputFields {{ ...InputValue }}
           interfaces {{ ...TypeRef }}
           enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
           possibleTypes {{ ...TypeRef }}
         }}
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }}
         fragment TypeRef on __Type {{ {type_ref} }}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_nested_deeper_than_the_limit_is_too_complex_while_graphiqls_introspection_passes() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    for depth in [MAX_DEPTH + 1, MAX_DEPTH + 25] {
        let body = server.graphql(&nested(depth), json!({})).await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{depth} levels: {body:#}");
        assert!(body.get("data").is_none_or(Value::is_null), "{body:#}");
    }
    let body = server.graphql(&nested(MAX_DEPTH), json!({})).await;
    assert!(body.get("errors").is_none(), "{MAX_DEPTH} levels are allowed: {body:#}");

    // Fragments are counted as if written out: spreading them cannot hide depth.
    let spread = format!(
        "query {{ __schema {{ types {{ ...Deep }} }} }} fragment Deep on __Type {{ fields {{ type {{ {}name{} }} }} }}",
        "ofType { ".repeat(MAX_DEPTH - 4),
        " }".repeat(MAX_DEPTH - 4)
    );
    let body = server.graphql(&spread, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body:#}");

    for type_depth in [7, 9] {
        let body = server.graphql(&graphiql_introspection(type_depth), json!({})).await;
        assert!(body.get("errors").is_none(), "GraphiQL's introspection ({type_depth} ofType) is refused: {body:#}");
        assert!(body["data"]["__schema"]["types"].as_array().is_some_and(|t| !t.is_empty()), "{body:#}");
    }
    server.stop().await;
    db.remove().await;
}

async fn fifteen_hundred_lists_of_members_in_one_request_are_refused_before_any_runs(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    tour::fyndet(&server).await;
    let aliases: String = (0..1_500).map(|i| format!("m{i}: members {{ nodes {{ id name }} }} ")).collect();
    let body = server.graphql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body:#}");
    assert!(body.get("data").is_none_or(Value::is_null), "nothing of it ran: {body:#}");

    // The limit counts fields, whatever they are: each `tN: __type(name: "Member") { name }` costs 2
    // (and, unlike `members`, asks nothing of the database, which other tests share).
    let aliases = |n: usize| (0..n).map(|i| format!("t{i}: __type(name: \"Member\") {{ name }} ")).collect::<String>();
    let data = server.ok(&format!("{{ {} }}", aliases(MAX_COMPLEXITY / 2)), json!({})).await;
    assert_eq!(data["t0"]["name"], "Member", "{data:#}");
    let body = server.graphql(&format!("{{ {} }}", aliases(MAX_COMPLEXITY / 2 + 1)), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body:#}");
    assert!(server.ok("{ members { nodes { id } } }", json!({})).await["members"]["nodes"]
        .as_array()
        .is_some_and(|m| m.len() == 1));
    server.stop().await;
    db.remove().await;
}
both_stores!(fifteen_hundred_lists_of_members_in_one_request_are_refused_before_any_runs);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_more_than_ten_operations_is_refused() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let batch = |n: usize| Value::Array(vec![json!({ "query": "{ members { nodes { id } } }" }); n]).to_string();
    let (status, body) = server.post_raw("/graphql", "application/json", batch(MAX_BATCH_OPERATIONS)).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body.as_array().map(Vec::len), Some(MAX_BATCH_OPERATIONS), "{body:#}");
    let (status, body) = server.post_raw("/graphql", "application/json", batch(MAX_BATCH_OPERATIONS + 1)).await;
    assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"), "{body:#}");
    server.stop().await;
    db.remove().await;
}

/// A GraphQL request padded with spaces to exactly `size` bytes.
fn padded_request(size: usize) -> Vec<u8> {
    let mut body = json!({ "query": "{ members { nodes { id } } }" }).to_string().into_bytes();
    body.resize(size, b' ');
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_one_mebibyte_is_refused_with_or_without_its_length_declared() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let (status, body) = server.post_raw("/graphql", "application/json", padded_request(DEFAULT_MAX_BODY_BYTES)).await;
    assert_eq!(status, 200, "exactly the limit is accepted: {body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");

    // A declared length over the limit is refused at once, before a byte of the body arrives. (The
    // body is not sent: the server closes without reading it, and a client still writing it can see
    // the connection reset before it reads the answer.)
    for path in ["/graphql", "/healthz"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            DEFAULT_MAX_BODY_BYTES + 1
        );
        let (status, body) = raw_exchange(server.addr(), &head, Vec::new()).await;
        assert_eq!((status, error_code(&body)), (413, "PAYLOAD_TOO_LARGE"), "{path}: {body:#}");
    }

    // Without a Content-Length the body is read only up to the limit, then refused. One piece past the
    // limit is sent, and no more, so the server has read all it was sent when it answers.
    let head =
        "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let piece = vec![b' '; 64 * 1024];
    let chunk = [format!("{:x}\r\n", piece.len()).into_bytes(), piece, b"\r\n".to_vec()].concat();
    let chunks = vec![chunk; DEFAULT_MAX_BODY_BYTES / (64 * 1024) + 1];
    let (status, body) = raw_exchange(server.addr(), head, chunks).await;
    assert_eq!((status, error_code(&body)), (413, "PAYLOAD_TOO_LARGE"), "{body:#}");

    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
    server.stop().await;
    db.remove().await;
}

async fn a_cross_site_form_post_runs_no_mutation(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let request = json!({ "query": REGISTER_MEMBER, "variables": a_member() }).to_string();
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "",
    ] {
        let (status, body) = server.post_raw("/graphql", content_type, request.clone()).await;
        assert_eq!((status, error_code(&body)), (415, "UNSUPPORTED_MEDIA_TYPE"), "{content_type:?}: {body:#}");
    }
    let response = server
        .client()
        .post(format!("{}/graphql", server.base))
        .body(request.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    assert_eq!(response.status().as_u16(), 415, "no Content-Type at all");
    assert_eq!(event_count(&db.db).await, 0, "a refused post stored events");

    let (status, body) = server.post_raw("/graphql", "Application/JSON; charset=utf-8", request).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(event_count(&db.db).await > 0);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_cross_site_form_post_runs_no_mutation);

/// A CORS preflight for a JSON POST from `origin`; returns the `Access-Control-Allow-Origin` it got.
async fn preflight(server: &TestApp, origin: &str) -> Option<String> {
    let response = server
        .client()
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", server.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    allowed_origin(response.headers())
}

fn allowed_origin(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap_or("<not text>").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_closed_unless_an_origin_is_listed() {
    let db = TestDb::sqlite().await;
    let server = TestApp::spawn(db.db.clone()).await;
    assert_eq!(preflight(&server, "https://evil.example").await, None);
    let response = server
        .client()
        .post(format!("{}/graphql", server.base))
        .header("origin", "https://evil.example")
        .json(&json!({ "query": "{ members { nodes { id } } }" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    assert_eq!(allowed_origin(response.headers()), None);
    server.stop().await;

    let settings = HttpSettings { cors_origins: vec!["https://konsortium.example".into()], ..HttpSettings::default() };
    // Stopping a server closes its pool: the second one opens its own.
    let server = TestApp::spawn_with(db.reopen().await, settings).await;
    assert_eq!(preflight(&server, "https://konsortium.example").await.as_deref(), Some("https://konsortium.example"));
    assert_eq!(preflight(&server, "https://evil.example").await, None);
    // A refusal carries the header too, so the allowed page can read why.
    let response = server
        .client()
        .post(format!("{}/graphql", server.base))
        .header("origin", "https://konsortium.example")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(allowed_origin(response.headers()).as_deref(), Some("https://konsortium.example"));
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_mid_request_is_answered_timeout() {
    let db = TestDb::sqlite().await;
    let settings = HttpSettings { request_timeout: Duration::from_millis(500), ..HttpSettings::default() };
    let server = TestApp::spawn_with(db.db.clone(), settings).await;
    let head = "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let (status, body) = raw_exchange(server.addr(), head, vec![b"{\"query\":".to_vec()]).await;
    assert_eq!((status, error_code(&body)), (503, "TIMEOUT"), "{body:#}");
    assert!(server.graphql("{ members { nodes { id } } }", json!({})).await.get("errors").is_none());
    server.stop().await;
    db.remove().await;
}

/// Speaks HTTP/1.1 over a raw socket: sends `head`, then `pieces` of body, never finishing a body that
/// is longer, and reads the answer meanwhile (the server may answer before it has read everything).
/// Returns the status and the body as JSON (or null).
async fn raw_exchange(addr: SocketAddr, head: &str, pieces: Vec<Vec<u8>>) -> (u16, Value) {
    let stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("cannot connect: {e}"));
    let (mut reader, mut writer) = stream.into_split();
    let head = head.to_string();
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        for piece in pieces {
            if writer.write_all(&piece).await.is_err() {
                break;
            }
        }
        // Keep the connection open, body unfinished, until the answer has been read.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(writer);
    });
    let mut received = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    while !answer_complete(&received) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, reader.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
    sending.abort();
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Whether `received` holds a whole response: its head and as many body bytes as it declares.
fn answer_complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    length.is_some_and(|length| body.len() >= length)
}

async fn fifteen_hundred_one_row_lists_are_refused_and_many_small_queries_wait_their_turn(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    tour::fyndet(&server).await;
    let lists: String = (0..1_500).map(|i| format!("m{i}: members(first: 1) {{ nodes {{ id }} }} ")).collect();
    let body = server.graphql(&format!("{{ {lists} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body:#}");
    // Two hundred single-row look-ups fit the cost, run a few at a time, and all answer.
    let member = server.ok("{ members { nodes { id } } }", json!({})).await["members"]["nodes"][0]["id"].clone();
    let lookups: String = (0..200).map(|i| format!("m{i}: member(id: $id) {{ id }} ")).collect();
    let data = server.ok(&format!("query($id: ID!) {{ {lookups} }}"), json!({ "id": member })).await;
    assert_eq!(data["m199"]["id"], member);
    server.stop().await;
    db.remove().await;
}
both_stores!(fifteen_hundred_one_row_lists_are_refused_and_many_small_queries_wait_their_turn);
