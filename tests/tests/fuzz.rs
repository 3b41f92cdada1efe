//! Every query and mutation of `api/schema.graphql`, called with arguments generated from their types
//! (proptest) out of a corpus of hostile strings, numbers and dates, and with broken documents, against
//! the real server as a process on both stores, as staff, member, buyer and nobody. Whatever comes in:
//!
//! - every request gets an HTTP answer with a JSON body (no dropped connection),
//! - no answer carries the code `INTERNAL` and the server's log has no panic,
//! - a refused mutation stores no event (the log is counted before and after each one),
//! - a mutation that succeeded with an idempotency key, sent again, gets the same answer and stores
//!   nothing,
//! - the server's memory (VmRSS) stays within a bound of what it held before the cases.
//!
//! The schema is read with async-graphql's own parser, so a new field is fuzzed the day it is added.
//! Cases are drawn from proptest strategies but not shrunk: each case changes the server's state, so
//! a shrunk case would not replay the same; a failure prints the case and the seed instead, and
//! `KONSORTIUM_FUZZ_SEED=N` draws the same cases again. `KONSORTIUM_FUZZ_CASES=N` (default 1 000 per
//! store) sets the number of cases: the long form runs thousands.

use async_graphql_parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use konsortium_api::auth::{principal, Keys, Role};
use konsortium_tests::process::Node;
use konsortium_tests::{both_stores, error_code, error_field, error_rule, event_count, tour, TestApp, TestDb};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::Duration;

const SECRET: &str = "fuzz-secret-fuzz-secret-fuzz-secret-0123";
const DEFAULT_CASES: usize = 1_000;
/// How much the server may grow over the cases: far above what caching the views can take, far
/// below what keeping every 10 kB request would.
const RSS_GROWTH_BOUND_KB: u64 = 256 * 1024;

/// The parts of the schema a caller can send: root fields, their arguments and what they return.
struct Schema {
    queries: Vec<Field>,
    mutations: Vec<Field>,
    enums: HashMap<String, Vec<String>>,
    inputs: HashMap<String, Vec<(String, Type)>>,
    objects: HashMap<String, Vec<Field>>,
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    args: Vec<(String, Type)>,
    ty: Type,
}

impl Schema {
    fn read() -> Schema {
        let sdl = include_str!("../../api/schema.graphql");
        let document = async_graphql_parser::parse_schema(sdl).unwrap_or_else(|e| panic!("schema.graphql: {e}"));
        let mut schema = Schema {
            queries: vec![],
            mutations: vec![],
            enums: HashMap::new(),
            inputs: HashMap::new(),
            objects: HashMap::new(),
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else { continue };
            let definition = definition.node;
            let name = definition.name.node.to_string();
            match definition.kind {
                TypeKind::Enum(e) => {
                    schema.enums.insert(name, e.values.iter().map(|v| v.node.value.node.to_string()).collect());
                }
                TypeKind::InputObject(input) => {
                    let fields = input.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()));
                    schema.inputs.insert(name, fields.collect());
                }
                TypeKind::Object(object) => {
                    let fields: Vec<Field> = object
                        .fields
                        .iter()
                        .map(|f| Field {
                            name: f.node.name.node.to_string(),
                            args: f
                                .node
                                .arguments
                                .iter()
                                .map(|a| (a.node.name.node.to_string(), a.node.ty.node.clone()))
                                .collect(),
                            ty: f.node.ty.node.clone(),
                        })
                        .collect();
                    match name.as_str() {
                        "Query" => schema.queries = fields,
                        "Mutation" => schema.mutations = fields,
                        _ => {
                            schema.objects.insert(name, fields);
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(schema.queries.len() > 20 && schema.mutations.len() > 40, "the schema lost its roots");
        schema
    }

    /// What to ask of a value of `ty`: its scalar fields, and those of the objects below it down to
    /// `depth`; fields that need arguments are left out.
    fn selection(&self, ty: &Type, depth: usize) -> String {
        let name = named(ty);
        let Some(fields) = self.objects.get(name) else { return String::new() };
        let mut picked = vec!["__typename".to_string()];
        for field in fields.iter().filter(|f| f.args.iter().all(|(_, t)| t.nullable)) {
            let inner = named(&field.ty);
            if !self.objects.contains_key(inner) {
                picked.push(field.name.clone());
            } else if depth > 0 {
                picked.push(format!("{} {}", field.name, self.selection(&field.ty, depth - 1)));
            }
        }
        format!("{{ {} }}", picked.join(" "))
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Ids of the world the cases act on, and the callers they act as.
struct World {
    ids: Vec<String>,
    tokens: Vec<(&'static str, Option<String>)>,
}

/// Text no input path should trip over.
fn hostile_strings() -> Vec<String> {
    let mut corpus: Vec<String> = [
        "",
        " ",
        "\t",
        "\n",
        "\0",
        "a\0b",
        "\u{7}",
        "\u{1b}[31mred",
        "\u{202e}evil\u{202c}",
        "\u{200f}\u{200e}",
        "\u{feff}",
        "\u{fffd}",
        "👩‍👩‍👧‍👦",
        "Å",
        "ÅÄÖåäö",
        "ﬀ",
        "𝕏",
        "e\u{301}",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "-0",
        "0x10",
        "1e309",
        "1,5",
        "12,5",
        "100",
        "30",
        "-1",
        "0",
        "NULL",
        "null",
        "undefined",
        "true",
        "'; DROP TABLE events; --",
        "\" OR 1=1 --",
        "' OR '1'='1",
        "%00",
        "%27",
        "\\",
        "\\\\\\",
        "$1",
        "?",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "../../etc/passwd",
        "2026-02-30",
        "2026-02-29",
        "2024-02-29",
        "0000-00-00",
        "99999-01-01",
        "2026-13",
        "2026-00",
        "2026-1",
        "2026-13-01",
        "2024-11-31",
        "1899-12-31",
        "2201-01-01",
        "9999-12-31",
        "-2024-01-01",
        "2024-11",
        "2024-11-11",
        "2024-09-01",
        "2025-02",
        "2024-11-11T00:00:00Z",
        "11/11/2024",
        "20241111",
        "2024-W45",
        "716422-1231",
        "716422-1232",
        "556002-1361",
        "212000-2411",
        "850312-1231",
        "850372-1231",
        "19850312-1231",
        "0000000000",
        "SE769600100201",
        "SE00",
        "5050-1055",
        "SE4550000000058398257466",
        "p-anna",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    corpus.push("x".repeat(10_000));
    corpus.push("å".repeat(5_000));
    corpus.push("\u{202e}".repeat(2_000));
    corpus.push(format!("{}a", " ".repeat(300)));
    corpus
}

fn hostile_ints() -> Vec<Value> {
    let mut corpus: Vec<Value> = [
        0i64,
        1,
        -1,
        2,
        13,
        31,
        100,
        365,
        366,
        500,
        501,
        600_000,
        100_000,
        100_001,
        100_000_000,
        100_000_001,
        i64::from(i32::MAX),
        i64::from(i32::MIN),
        i64::from(i32::MAX) + 1,
        1 << 53,
        i64::MAX,
        i64::MIN,
        1_000_000_000_000,
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    corpus.extend([json!(1.5), json!(-0.0), json!(1e30), json!("7"), json!(true)]);
    corpus
}

fn text(strings: Vec<String>) -> BoxedStrategy<Value> {
    prop::sample::select(strings).prop_map(Value::String).boxed()
}

/// A scalar argument or input field: mostly hostile, with values that pass validation mixed in so
/// the calls reach the rules behind it. The name steers a `String` towards dates, months or numbers.
fn scalar(name: &str, scalar: &str, world: &World) -> BoxedStrategy<Value> {
    let hostile = text(hostile_strings());
    let random = "\\PC{0,40}".prop_map(Value::String).boxed();
    match scalar {
        "Int" => prop_oneof![
            4 => prop::sample::select(hostile_ints()),
            5 => (0i64..30).prop_map(Value::from),
            1 => any::<i64>().prop_map(Value::from),
        ]
        .boxed(),
        "Float" => prop_oneof![any::<f64>().prop_map(|f| json!(f)), prop::sample::select(hostile_ints())].boxed(),
        "Boolean" => prop_oneof![any::<bool>().prop_map(Value::Bool), Just(json!("yes")), Just(json!(0))].boxed(),
        "ID" => prop_oneof![3 => text(world.ids.clone()), 1 => hostile, 1 => random].boxed(),
        _ => {
            let lower = name.to_lowercase();
            let calendar = ["date", "on", "from", "to", "month", "day", "asof", "end", "start"];
            if calendar.iter().any(|c| lower.ends_with(c) || lower.starts_with(c)) {
                let days: Vec<String> = [
                    "2024-09-01",
                    "2024-11-01",
                    "2024-11-11",
                    "2024-11-30",
                    "2024-12-01",
                    "2025-01-01",
                    "2025-02-14",
                    "2024-11",
                    "2024-12",
                    "2025-02",
                    "2024-09",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                prop_oneof![2 => text(days), 2 => hostile, 1 => random].boxed()
            } else if lower.ends_with("percent") || lower.ends_with("share") {
                prop_oneof![text(vec!["5".into(), "30".into(), "12,5".into(), "100".into()]), hostile].boxed()
            } else {
                prop_oneof![3 => hostile, 1 => random, 1 => text(world.ids.clone())].boxed()
            }
        }
    }
}

/// A value for `ty`; `None` leaves a nullable argument out.
fn value(schema: &Schema, world: &World, name: &str, ty: &Type, depth: usize) -> BoxedStrategy<Option<Value>> {
    let inner: BoxedStrategy<Value> = match &ty.base {
        BaseType::List(item) => {
            let item = item.as_ref().clone();
            let element = value(schema, world, name, &Type { base: item.base, nullable: false }, depth + 1);
            prop::collection::vec(element, 0..3).prop_map(|v| Value::Array(v.into_iter().flatten().collect())).boxed()
        }
        BaseType::Named(type_name) => {
            if let Some(values) = schema.enums.get(type_name.as_str()) {
                let mut values: Vec<String> = values.clone();
                values.push("NOT_A_VALUE".into());
                text(values)
            } else if let Some(fields) = schema.inputs.get(type_name.as_str()).filter(|_| depth < 4) {
                let fields: Vec<BoxedStrategy<(String, Option<Value>)>> = fields
                    .iter()
                    .map(|(field, ty)| {
                        let field_name = field.clone();
                        value(schema, world, field, ty, depth + 1).prop_map(move |v| (field_name.clone(), v)).boxed()
                    })
                    .collect();
                fields
                    .prop_map(|fields| {
                        Value::Object(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect::<Map<_, _>>())
                    })
                    .boxed()
            } else {
                scalar(name, type_name.as_str(), world)
            }
        }
    };
    if ty.nullable {
        prop_oneof![1 => Just(None::<Value>), 1 => Just(Some(Value::Null)), 4 => inner.prop_map(Some)].boxed()
    } else {
        prop_oneof![1 => Just(Some(Value::Null)), 40 => inner.prop_map(Some)].boxed()
    }
}

/// One request to send.
#[derive(Clone, Debug)]
enum Case {
    /// A root field with generated arguments, as variables or written into the document.
    Call {
        mutation: bool,
        field: String,
        args: Vec<(String, Type, Option<Value>)>,
        inline: bool,
        caller: usize,
        selection: String,
    },
    /// A document broken on purpose, sent as the body's `query` (or a body that is not a request).
    Broken { body: String, content_type: &'static str },
}

fn calls(schema: &Schema, world: &World, mutation: bool) -> Vec<BoxedStrategy<Case>> {
    let roots = if mutation { &schema.mutations } else { &schema.queries };
    roots
        .iter()
        .map(|field| {
            let args: Vec<BoxedStrategy<(String, Type, Option<Value>)>> = field
                .args
                .iter()
                .map(|(name, ty)| {
                    let (name, ty) = (name.clone(), ty.clone());
                    value(schema, world, &name, &ty, 0).prop_map(move |v| (name.clone(), ty.clone(), v)).boxed()
                })
                .collect();
            let (name, selection, callers) = (field.name.clone(), schema.selection(&field.ty, 2), world.tokens.len());
            (args, prop::bool::weighted(0.25), prop_oneof![6 => Just(0usize), 3 => 1..callers])
                .prop_map(move |(args, inline, caller)| Case::Call {
                    mutation,
                    field: name.clone(),
                    args,
                    inline,
                    caller,
                    selection: selection.clone(),
                })
                .boxed()
        })
        .collect()
}

/// Documents and bodies no parser should choke on.
fn broken() -> BoxedStrategy<Case> {
    let deep = format!("{{{}}}", "members { nodes { ".repeat(300));
    let aliases: String = (0..2_000).map(|i| format!("a{i}: __typename ")).collect();
    let fixed: Vec<String> = vec![
        String::new(),
        "{".repeat(10_000),
        deep,
        format!("{{ {aliases} }}"),
        "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }".into(),
        "{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }".into(),
        "{ members(first: 99999999999999999999999) { totalCount } }".into(),
        "{ members(first: -1) { totalCount } }".into(),
        "{ members(first: 500) { nodes { id } } agreements(first: 500) { nodes { id } } places(first: 500) { nodes { id } } }".into(),
        "mutation { registerMember }".into(),
        "subscription { x }".into(),
        "query A { __typename } query A { __typename }".into(),
        "{ member(id: \"\\uD800\") { id } }".into(),
        "{ member(id: \"\u{0}\") { id } }".into(),
        "query($x: Int = \"s\") { members(first: $x) { totalCount } }".into(),
        "{ __typename @skip(if: true) @include(if: false) }".into(),
        "{ ...on Mutation { __typename } }".into(),
        "#".repeat(50_000),
    ];
    let documents = prop::sample::select(fixed).prop_map(|query| Case::Broken {
        body: json!({ "query": query }).to_string(),
        content_type: "application/json",
    });
    let bodies: Vec<(String, &'static str)> = vec![
        ("".into(), "application/json"),
        ("[]".into(), "application/json"),
        ("null".into(), "application/json"),
        ("\"{ __typename }\"".into(), "application/json"),
        ("{\"query\": 5}".into(), "application/json"),
        ("{\"query\": \"{ __typename }\", \"variables\": \"x\"}".into(), "application/json"),
        ("{\"query\": \"{ __typename }\", \"operationName\": \"Nope\"}".into(), "application/json"),
        ("{\"query\": \"{ __typename }\"".into(), "application/json"),
        (format!("[{}]", vec!["{\"query\": \"{ __typename }\"}"; 1_000].join(",")), "application/json"),
        ("{\"query\": \"{ __typename }\"}".into(), "text/plain"),
        ("query=%7B__typename%7D".into(), "application/x-www-form-urlencoded"),
        (format!("{{\"query\": \"{}\"}}", "x".repeat(3_000_000)), "application/json"),
        ("{\"query\": \"\u{0}\u{1}\u{2}\"}".into(), "application/json"),
    ];
    let raw = prop::sample::select(bodies).prop_map(|(body, content_type)| Case::Broken { body, content_type });
    // A valid-looking document cut or spliced at a random byte.
    let spliced = (
        "\\PC{0,20}",
        0usize..200,
        prop::sample::select(vec![
            "{ members { nodes { id name orgNumber } } }",
            "mutation { issueInvoices(month: \"2024-11\") { number } }",
            "query($m: String!) { reconciliation(month: $m) { differenceOre } }",
        ]),
    )
        .prop_map(|(junk, at, doc)| {
            let at = (0..=at.min(doc.len())).rev().find(|i| doc.is_char_boundary(*i)).unwrap_or(0);
            Case::Broken {
                body: json!({ "query": format!("{}{junk}{}", &doc[..at], &doc[at..]) }).to_string(),
                content_type: "application/json",
            }
        });
    prop_oneof![documents, raw, spliced].boxed()
}

/// A value written into a document: JSON strings are GraphQL strings, an enum is its bare name.
fn literal(value: &Value, ty: &Type, schema: &Schema) -> String {
    match (value, &ty.base) {
        (Value::Null, _) => "null".into(),
        (Value::String(s), BaseType::Named(name))
            if schema.enums.contains_key(name.as_str())
                && !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            s.clone()
        }
        (Value::Array(items), BaseType::List(item)) => {
            format!("[{}]", items.iter().map(|v| literal(v, item, schema)).collect::<Vec<_>>().join(", "))
        }
        (Value::Object(fields), BaseType::Named(name)) => {
            let types: HashMap<&str, &Type> =
                schema.inputs.get(name.as_str()).into_iter().flatten().map(|(n, t)| (n.as_str(), t)).collect();
            let written: Vec<String> = fields
                .iter()
                .map(|(k, v)| match types.get(k.as_str()) {
                    Some(t) => format!("{k}: {}", literal(v, t, schema)),
                    None => format!("{k}: {v}"),
                })
                .collect();
            format!("{{{}}}", written.join(", "))
        }
        (other, _) => other.to_string(),
    }
}

impl Case {
    /// Whether this is a call that sends an idempotency key.
    fn keyed(&self) -> bool {
        match self {
            Case::Call { args, .. } => args
                .iter()
                .any(|(name, _, value)| name == "idempotencyKey" && value.as_ref().is_some_and(|v| !v.is_null())),
            Case::Broken { .. } => false,
        }
    }

    fn body(&self, schema: &Schema) -> (String, &'static str) {
        match self {
            Case::Broken { body, content_type } => (body.clone(), content_type),
            Case::Call { mutation, field, args, inline, selection, .. } => {
                let keyword = if *mutation { "mutation" } else { "query" };
                let sent: Vec<&(String, Type, Option<Value>)> = args.iter().filter(|(_, _, v)| v.is_some()).collect();
                let query = if *inline {
                    let written: Vec<String> = sent
                        .iter()
                        .map(|(n, t, v)| format!("{n}: {}", literal(v.as_ref().unwrap_or(&Value::Null), t, schema)))
                        .collect();
                    let call = if written.is_empty() { String::new() } else { format!("({})", written.join(", ")) };
                    format!("{keyword} {{ {field}{call} {selection} }}")
                } else {
                    let declared: Vec<String> = sent.iter().map(|(n, t, _)| format!("${n}: {t}")).collect();
                    let passed: Vec<String> = sent.iter().map(|(n, _, _)| format!("{n}: ${n}")).collect();
                    let declared =
                        if declared.is_empty() { String::new() } else { format!("({})", declared.join(", ")) };
                    let call = if passed.is_empty() { String::new() } else { format!("({})", passed.join(", ")) };
                    format!("{keyword}{declared} {{ {field}{call} {selection} }}")
                };
                let variables: Map<String, Value> =
                    sent.iter().filter_map(|(n, _, v)| v.clone().map(|v| (n.clone(), v))).collect();
                let body =
                    if *inline { json!({ "query": query }) } else { json!({ "query": query, "variables": variables }) };
                (body.to_string(), "application/json")
            }
        }
    }
}

/// A request the server answered with a JSON body (or a breach found on the way).
struct Answer {
    status: u16,
    body: Value,
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    body: String,
    content_type: &str,
) -> Result<Answer, String> {
    let mut request = http.post(format!("{base}/graphql")).header("content-type", content_type).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| format!("no HTTP answer (dropped connection?): {e:?}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| format!("the body was cut off: {e}"))?;
    let body =
        serde_json::from_str(&text).map_err(|e| format!("status {status}, body is not JSON ({e}): {text:.300}"))?;
    Ok(Answer { status, body })
}

/// Sets up a world through the API: a consortium, a member, two agreements split, a filled place, an
/// approved and invoiced November. Returns its ids.
async fn world(http: &reqwest::Client, base: &str, staff: &str) -> Vec<String> {
    let ok = |query: &'static str, variables: Value| {
        let (http, base, staff) = (http.clone(), base.to_string(), staff.to_string());
        async move {
            let body = json!({ "query": query, "variables": variables }).to_string();
            let answer =
                send(&http, &base, Some(&staff), body, "application/json").await.unwrap_or_else(|e| panic!("{e}"));
            assert!(answer.body.get("errors").is_none(), "setting up: {:#}", answer.body);
            answer.body["data"].clone()
        }
    };
    let id = |data: &Value, field: &str| data[field]["id"].as_str().unwrap_or_default().to_string();
    ok(
        "mutation($i: RegisterConsortiumInput!) { registerConsortium(input: $i) { orgNumber } }",
        json!({ "i": tour::consortium_input() }),
    )
    .await;
    let member = ok(
        "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
        json!({ "m": { "name": "Returbutiken Fyndet", "orgNumber": "716422-1231", "category": "ASF", "targetGroupSharePercent": "45", "joinedOn": "2024-01-01" } }),
    )
    .await;
    let member = id(&member, "registerMember");
    let agreement =
        id(&ok(tour::REGISTER_AGREEMENT, json!({ "input": tour::ostersund_input() })).await, "registerAgreement");
    let fruit = id(&ok(tour::REGISTER_AGREEMENT, json!({ "input": tour::fruit_input() })).await, "registerAgreement");
    let allocation = ok(
        "mutation($i: AllocatePlacesInput!) { allocatePlaces(input: $i) { id } }",
        json!({ "i": { "agreementId": agreement, "memberId": member, "places": 3, "startDate": "2024-09-01" } }),
    )
    .await;
    let allocation = id(&allocation, "allocatePlaces");
    let role = ok(
        "mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { id } }",
        json!({ "i": { "agreementId": fruit, "memberId": member, "role": "packing", "sharePercent": "100", "startDate": "2025-01-01" } }),
    )
    .await;
    let role = id(&role, "allocateRole");
    let open =
        "mutation($a: ID!, $l: ID!) { openPlace(agreementId: $a, allocationId: $l, openedOn: \"2024-09-01\") { id } }";
    let place = id(&ok(open, json!({ "a": agreement, "l": allocation })).await, "openPlace");
    let empty = id(&ok(open, json!({ "a": agreement, "l": allocation })).await, "openPlace");
    let participant =
        ok(tour::REGISTER_PARTICIPANT, json!({ "i": tour::participant_input("Anna Andersson", 1) })).await;
    let participant = id(&participant, "registerParticipant");
    ok(tour::FILL, json!({ "p": place, "who": participant, "from": "2024-11-11" })).await;
    let report = ok(
        "mutation($i: MonthlyReportInput!) { submitMonthlyReport(input: $i) { id } }",
        json!({ "i": { "agreementId": agreement, "memberId": member, "month": "2024-11" } }),
    )
    .await;
    let report = id(&report, "submitMonthlyReport");
    ok("mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { status } }", json!({ "r": report })).await;
    let invoices = ok("mutation { issueInvoices(month: \"2024-11\") { id } }", json!({})).await;
    let invoice = invoices["issueInvoices"][0]["id"].as_str().unwrap_or_default().to_string();
    vec![member, agreement, fruit, allocation, role, place, empty, participant, report, invoice]
}

/// The server's resident memory in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Whether a mutation's answer is a refusal of the mutation itself (not a field below its result).
fn refused(body: &Value, field: &str) -> bool {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    !errors.is_empty()
        && body["data"][field].is_null()
        && errors.iter().any(|e| e["path"].as_array().is_none_or(|p| p.len() <= 1))
}

fn internal(body: &Value) -> bool {
    let errors = match body {
        Value::Array(batch) => batch.iter().flat_map(|b| b["errors"].as_array().cloned().unwrap_or_default()).collect(),
        _ => body["errors"].as_array().cloned().unwrap_or_default(),
    };
    errors.iter().any(|e| e["extensions"]["code"] == "INTERNAL")
}

async fn generated_calls_never_answer_internal_panic_or_store_a_refused_call(db: TestDb) {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("info").try_init();
    let dir = std::env::temp_dir().join(format!("konsortium-fuzz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let log = dir.join("server.log");
    let node = Node::start_logged(env!("CARGO_BIN_EXE_node"), &db.process_url(), SECRET, &log);
    let keys = Keys::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let mint = |role, member: Option<String>, buyer: Option<&str>| {
        let who = principal(format!("fuzz-{}", uuid::Uuid::new_v4().simple()), role, member, buyer)
            .unwrap_or_else(|e| panic!("{e}"));
        keys.mint(&who, Duration::from_secs(3_600)).unwrap_or_else(|e| panic!("{e}"))
    };
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_else(|e| panic!("{e}"));
    let staff = mint(Role::Staff, None, None);
    let ids = world(&http, &node.base, &staff).await;
    let mut bad_ids: Vec<String> = vec!["".into(), "0".into(), "not-an-id".into(), uuid::Uuid::new_v4().to_string()];
    bad_ids.push(format!("{}x", ids[1]));
    let world = World {
        ids: ids.iter().cloned().chain(bad_ids).collect(),
        tokens: vec![
            ("staff", Some(staff)),
            ("member", Some(mint(Role::Member, Some(ids[0].clone()), None))),
            ("buyer", Some(mint(Role::Buyer, None, Some("212000-2411")))),
            ("nobody", None),
            ("forged", Some(format!("{}x", mint(Role::Staff, None, None)))),
        ],
    };

    let schema = Schema::read();
    let mut every: Vec<BoxedStrategy<Case>> = calls(&schema, &world, true);
    every.extend(calls(&schema, &world, false));
    let strategy = prop_oneof![10 => Union::new(every), 1 => broken()];
    let cases = env_number("KONSORTIUM_FUZZ_CASES").unwrap_or(DEFAULT_CASES as u64);
    let seed = env_number("KONSORTIUM_FUZZ_SEED").unwrap_or_else(|| u64::from(uuid::Uuid::new_v4().as_fields().0));
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));

    let rss_before = rss_kb(node.pid());
    let mut breaches: Vec<String> = Vec::new();
    let (mut refusals, mut answered, mut retried) = (0usize, 0usize, 0usize);
    let mut codes: std::collections::BTreeMap<String, usize> = Default::default();
    let mut previous = String::new();
    for n in 0..cases {
        let case = strategy.new_tree(&mut runner).unwrap_or_else(|e| panic!("{e}")).current();
        let (body, content_type) = case.body(&schema);
        let (token, mutation) = match &case {
            Case::Call { caller, mutation, field, .. } => {
                (world.tokens[*caller].1.as_deref(), Some(field.clone()).filter(|_| *mutation))
            }
            Case::Broken { .. } => (world.tokens[0].1.as_deref(), None),
        };
        let events = match mutation {
            Some(_) => Some(event_count(&db.db).await),
            None => None,
        };
        let shown = format!(
            "case {n} (KONSORTIUM_FUZZ_SEED={seed}) as {}: {:.2000}",
            match &case {
                Case::Call { caller, .. } => world.tokens[*caller].0,
                Case::Broken { .. } => "staff",
            },
            body
        );
        match send(&http, &node.base, token, body.clone(), content_type).await {
            Err(breach) => breaches.push(format!("{breach}\n  {shown}\n  after {previous:.600}")),
            Ok(answer) => {
                answered += 1;
                let code = answer.body["errors"][0]["extensions"]["code"].as_str().unwrap_or(
                    match answer.body.get("errors") {
                        Some(_) => "no code",
                        None => "ok",
                    },
                );
                *codes.entry(code.to_string()).or_default() += 1;
                if internal(&answer.body) || answer.status >= 500 {
                    breaches.push(format!(
                        "INTERNAL (status {}): {:.1000}\n  {shown}",
                        answer.status,
                        answer.body.to_string()
                    ));
                }
                if let (Some(field), Some(before)) = (&mutation, events) {
                    if refused(&answer.body, field) {
                        refusals += 1;
                        let after = event_count(&db.db).await;
                        if after != before {
                            breaches.push(format!(
                                "{} events stored by a refused call: {:.1000}\n  {shown}",
                                after - before,
                                answer.body.to_string()
                            ));
                        }
                    } else if case.keyed() && answer.body.get("errors").is_none() {
                        // A retry with the key gets the first answer and stores nothing.
                        let stored = event_count(&db.db).await;
                        match send(&http, &node.base, token, body.clone(), content_type).await {
                            Ok(again) if again.body == answer.body && event_count(&db.db).await == stored => {
                                retried += 1
                            }
                            Ok(again) => breaches.push(format!(
                                "a retry with the key answered {:.600} after {:.600} (events {stored} → {})\n  {shown}",
                                again.body.to_string(),
                                answer.body.to_string(),
                                event_count(&db.db).await
                            )),
                            Err(breach) => breaches.push(format!("{breach}\n  the retry of {shown}")),
                        }
                    }
                }
            }
        }
        previous = body;
    }
    let rss_after = rss_kb(node.pid());
    drop(node);
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    if let Some(line) = log_text.lines().find(|l| l.contains("panicked")) {
        breaches.push(format!("the server panicked: {line}"));
    }
    tracing::info!(cases, answered, refusals, retried, rss_before, rss_after, ?codes, "fuzzed");
    assert!(breaches.is_empty(), "{} breaches over {cases} cases:\n{}", breaches.len(), breaches.join("\n\n"));
    assert!(refusals > cases as usize / 10, "too few refusals ({refusals}) for hostile input: the generator is off");
    assert!(
        rss_after <= rss_before + RSS_GROWTH_BOUND_KB,
        "the server grew from {rss_before} kB to {rss_after} kB over {cases} cases"
    );
    let _ = std::fs::remove_dir_all(&dir);
    db.remove().await;
}
both_stores!(generated_calls_never_answer_internal_panic_or_store_a_refused_call);

// What the fuzzer found, each kept as the case that shows it.

/// Found as a `creditInvoice` answered `TIMEOUT` after 30 s: a key reused with another body was
/// taken for a lost race and decided again 200 times, sleeping longer each time.
async fn a_key_reused_for_another_credit_note_is_refused_at_once(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    tour::consortium(&server).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    tour::approved_november(&server, &agreement, &fyndet, "p-anna").await;
    let issued = tour::issue_invoices(&server, "2024-11", None).await;
    let invoice = issued["data"]["issueInvoices"][0]["id"].clone();
    const CREDIT: &str =
        "mutation($i: ID!, $r: String!) { creditInvoice(invoiceId: $i, reason: $r, idempotencyKey: \"k-1\") { id } }";
    server.ok(CREDIT, json!({ "i": invoice, "r": "Fel antal dagar" })).await;
    let events = event_count(&db.db).await;
    let reused = server.graphql(CREDIT, json!({ "i": invoice, "r": "Fel pris" })).await;
    assert_eq!((error_code(&reused), error_rule(&reused)), ("CONFLICT", "IdempotencyKeyReused"), "{reused:#}");
    assert_eq!(event_count(&db.db).await, events);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_key_reused_for_another_credit_note_is_refused_at_once);

/// Found as a request failing with "connection closed before message completed" right after a
/// 3 MB body was refused: the 413 left the connection open with the body unread, and the client's
/// next request on it was lost. The refusal now closes the connection, which a client sees.
async fn the_request_after_an_oversized_body_is_answered(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let (client, url) = (reqwest::Client::new(), format!("{}/graphql", server.base));
    let oversized = json!({ "query": "x".repeat(3_000_000) }).to_string();
    for round in 0..50 {
        let refused = client
            .post(&url)
            .bearer_auth(&server.staff)
            .header("content-type", "application/json")
            .body(oversized.clone())
            .send()
            .await;
        // The server answers 413 as soon as the body passes the limit and closes the connection
        // rather than read megabytes it will throw away; a client still writing them may see that
        // close (a broken pipe) before it reads the answer. Either is a refusal; what must never
        // happen is that the NEXT request, on a fresh or reused connection, goes unanswered.
        match refused {
            Ok(refused) => assert_eq!(refused.status().as_u16(), 413, "round {round}"),
            Err(e) if e.is_request() => {}
            Err(e) => panic!("round {round}: the refusal failed otherwise: {e:?}"),
        }
        let next =
            client.post(&url).bearer_auth(&server.staff).json(&json!({ "query": "{ __typename }" })).send().await;
        let next = next.unwrap_or_else(|e| panic!("round {round}: the next request got no answer: {e:?}"));
        assert_eq!(next.status().as_u16(), 200, "round {round}");
    }
    server.stop().await;
    db.remove().await;
}
both_stores!(the_request_after_an_oversized_body_is_answered);

/// Found as `setPayoutTiming(idempotencyKey: "")` storing an event again on its retry: a blank key
/// was read as no key at all.
async fn a_blank_idempotency_key_is_refused_not_ignored(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let events = event_count(&db.db).await;
    for key in ["", " ", "\t"] {
        let body = server
            .graphql(
                "mutation($k: String) { setPayoutTiming(idempotencyKey: $k, timing: WHEN_PAID) { timing } }",
                json!({ "k": key }),
            )
            .await;
        assert_eq!((error_code(&body), error_field(&body)), ("VALIDATION", "idempotencyKey"), "{key:?}: {body:#}");
    }
    assert_eq!(event_count(&db.db).await, events);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_blank_idempotency_key_is_refused_not_ignored);
