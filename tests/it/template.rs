//! `template.yaml` and the code agree: the ledger table AWS creates has the schema the code
//! writes and queries (`skypay::ledger::schema`), and every function crate is deployed.
//!
//! The YAML is read with `yaml-rust2`, which keeps a tagged scalar (`!Ref LedgerTable`) as its
//! plain text and ignores tags on sequences (`!If [...]`), so CloudFormation's short forms parse.

use std::collections::BTreeSet;

use skypay::ledger::schema::{BILLING_MODE, INDEXES, KEYS, STREAM_VIEW, TTL_ATTRIBUTE};
use yaml_rust2::{Yaml, YamlLoader};

fn repo_path(relative: &str) -> String {
    format!("{}/../{relative}", env!("CARGO_MANIFEST_DIR"))
}

fn template() -> Yaml {
    let path = repo_path("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "template.yaml holds one YAML document");
    docs.remove(0)
}

fn text<'a>(node: &'a Yaml, what: &str) -> &'a str {
    node.as_str()
        .unwrap_or_else(|| panic!("{what} should be a string, is {node:?}"))
}

/// The resources of one type, as (logical id, resource).
fn resources<'a>(template: &'a Yaml, kind: &str) -> Vec<(&'a str, &'a Yaml)> {
    let all = template["Resources"]
        .as_hash()
        .expect("template.yaml has Resources");
    all.iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (text(id, "a logical id"), r))
        .collect()
}

fn the_table(template: &Yaml) -> (&str, &Yaml) {
    let tables = resources(template, "AWS::DynamoDB::Table");
    assert_eq!(
        tables.len(),
        1,
        "one ledger table (SPEC section 8), found {:?}",
        tables.iter().map(|(id, _)| *id).collect::<Vec<_>>()
    );
    tables[0]
}

/// An index as (name, keys as (attribute, key type), projection type, attributes carried).
type IndexShape = (String, Vec<(String, String)>, String, BTreeSet<String>);

#[test]
fn the_table_has_the_schema_the_code_uses() {
    let template = template();
    let (id, table) = the_table(&template);
    let props = &table["Properties"];

    let key_schema: Vec<(&str, &str)> = props["KeySchema"]
        .as_vec()
        .unwrap_or_else(|| panic!("{id}: KeySchema is a list"))
        .iter()
        .map(|k| {
            (
                text(&k["AttributeName"], "AttributeName"),
                text(&k["KeyType"], "KeyType"),
            )
        })
        .collect();
    let expected_keys: Vec<(&str, &str)> = KEYS.iter().map(|(n, k, _)| (*n, *k)).collect();
    assert_eq!(key_schema, expected_keys, "{id}: KeySchema");

    // CloudFormation wants exactly the key attributes (of the table and its indexes) defined,
    // in any order.
    let definitions: BTreeSet<(&str, &str)> = props["AttributeDefinitions"]
        .as_vec()
        .unwrap_or_else(|| panic!("{id}: AttributeDefinitions is a list"))
        .iter()
        .map(|d| {
            (
                text(&d["AttributeName"], "AttributeName"),
                text(&d["AttributeType"], "AttributeType"),
            )
        })
        .collect();
    let mut expected_definitions: BTreeSet<(&str, &str)> =
        KEYS.iter().map(|(n, _, t)| (*n, *t)).collect();
    for index in INDEXES {
        expected_definitions.insert(index.hash);
        expected_definitions.extend(index.range);
    }
    assert_eq!(
        definitions, expected_definitions,
        "{id}: AttributeDefinitions"
    );

    // The indexes reconciliation reads (SPEC 13.6), exactly as shared/src/ledger/schema.rs
    // declares them: names, keys, the attributes they carry. No local index.
    assert!(props["LocalSecondaryIndexes"].is_badvalue(), "{id}: LSIs");
    let declared: Vec<IndexShape> = props["GlobalSecondaryIndexes"]
        .as_vec()
        .unwrap_or_else(|| panic!("{id}: GlobalSecondaryIndexes is a list"))
        .iter()
        .map(|index| {
            let keys = index["KeySchema"]
                .as_vec()
                .expect("KeySchema")
                .iter()
                .map(|k| {
                    (
                        text(&k["AttributeName"], "AttributeName").to_owned(),
                        text(&k["KeyType"], "KeyType").to_owned(),
                    )
                })
                .collect();
            let projection = &index["Projection"];
            let include = projection["NonKeyAttributes"]
                .as_vec()
                .map(|v| {
                    v.iter()
                        .map(|a| text(a, "NonKeyAttributes").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (
                text(&index["IndexName"], "IndexName").to_owned(),
                keys,
                text(&projection["ProjectionType"], "ProjectionType").to_owned(),
                include,
            )
        })
        .collect();
    let expected: Vec<IndexShape> = INDEXES
        .iter()
        .map(|index| {
            let mut keys = vec![(index.hash.0.to_owned(), "HASH".to_owned())];
            keys.extend(index.range.map(|r| (r.0.to_owned(), "RANGE".to_owned())));
            (
                index.name.to_owned(),
                keys,
                "INCLUDE".to_owned(),
                index.include.iter().map(|a| (*a).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(declared, expected, "{id}: GlobalSecondaryIndexes");

    let ttl = &props["TimeToLiveSpecification"];
    assert_eq!(
        ttl["AttributeName"].as_str(),
        Some(TTL_ATTRIBUTE),
        "{id}: TTL attribute"
    );
    assert_eq!(ttl["Enabled"].as_bool(), Some(true), "{id}: TTL enabled");

    assert_eq!(
        props["StreamSpecification"]["StreamViewType"].as_str(),
        Some(STREAM_VIEW),
        "{id}: stream view"
    );
    assert_eq!(
        props["BillingMode"].as_str(),
        Some(BILLING_MODE),
        "{id}: billing mode"
    );
}

/// SPEC section 11: point-in-time recovery and deletion protection; and the table outlives the
/// stack (a deleted or replaced stack keeps it).
#[test]
fn the_table_is_protected() {
    let template = template();
    let (id, table) = the_table(&template);
    let props = &table["Properties"];
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true),
        "{id}: point-in-time recovery"
    );
    assert_eq!(
        props["DeletionProtectionEnabled"].as_bool(),
        Some(true),
        "{id}: deletion protection"
    );
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"), "{id}");
    assert_eq!(
        table["UpdateReplacePolicy"].as_str(),
        Some("Retain"),
        "{id}"
    );
    // The table's name is CloudFormation's: the functions get it from the template.
    assert_eq!(
        template["Globals"]["Function"]["Environment"]["Variables"]["TABLE_NAME"].as_str(),
        Some(id),
        "every function's TABLE_NAME is `!Ref {id}`"
    );
}

/// Every crate under functions/ is deployed from its own directory, as its own binary, and the
/// template deploys nothing else.
#[test]
fn every_function_crate_is_deployed() {
    let template = template();
    let mut crates: Vec<String> = std::fs::read_dir(repo_path("functions"))
        .expect("functions/")
        .map(|e| e.expect("a directory entry"))
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();

    let mut deployed: Vec<String> = Vec::new();
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let code_uri = text(&function["Properties"]["CodeUri"], "CodeUri");
        let name = code_uri
            .strip_prefix("functions/")
            .unwrap_or_else(|| panic!("{id}: CodeUri {code_uri} is not under functions/"));
        assert_eq!(
            function["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}: BuildMethod"
        );
        assert_eq!(
            function["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(name),
            "{id}: BuildProperties.Binary is the crate's binary"
        );
        deployed.push(name.to_owned());
    }
    deployed.sort();
    assert_eq!(deployed, crates, "functions in template.yaml vs functions/");
}

/// The endpoint table (`skypay::protocol::action`) and the template agree: each endpoint is its
/// own function, built from `functions/{function}`, serving `POST /{name}` on SkyPay's API, and
/// nothing else is on that API.
#[test]
fn every_endpoint_is_one_function_on_skypays_api() {
    let template = template();
    let routes = routes(&template);
    let mut expected = Vec::new();
    for action in skypay::Action::ALL {
        let code_uri = format!("functions/{}", action.function());
        let functions: Vec<&str> = resources(&template, "AWS::Serverless::Function")
            .into_iter()
            .filter(|(_, f)| f["Properties"]["CodeUri"].as_str() == Some(code_uri.as_str()))
            .map(|(id, _)| id)
            .collect();
        let [id] = functions[..] else {
            panic!(
                "{}: {} functions built from {code_uri}",
                action.name(),
                functions.len()
            );
        };
        expected.push((
            id.to_owned(),
            "HttpApi".to_owned(),
            "POST".to_owned(),
            format!("/{}", action.name()),
        ));
    }
    let mut on_skypays_api: Vec<_> = routes.into_iter().filter(|r| r.1 == "HttpApi").collect();
    on_skypays_api.sort();
    expected.sort();
    assert_eq!(on_skypays_api, expected);
}

/// The `HttpApi` events of every function, as (function, API logical id, method, path).
fn routes(template: &Yaml) -> Vec<(String, String, String, String)> {
    let mut routes = Vec::new();
    for (id, function) in resources(template, "AWS::Serverless::Function") {
        let Some(events) = function["Properties"]["Events"].as_hash() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let props = &event["Properties"];
            routes.push((
                id.to_owned(),
                text(&props["ApiId"], "ApiId").to_owned(),
                text(&props["Method"], "Method").to_owned(),
                text(&props["Path"], "Path").to_owned(),
            ));
        }
    }
    routes
}

/// SPEC 13.5: partner-api sits on an HTTP API of its own whose only authorizer is IAM, every
/// route it has requires IAM, SkyPay's API never reaches it and has no /admin route, and the
/// stack offers a policy that invokes exactly that API.
#[test]
fn partner_api_is_iam_only_and_apart_from_skypays_api() {
    let template = template();
    let apis = resources(&template, "AWS::Serverless::HttpApi");
    let ids: BTreeSet<&str> = apis.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, BTreeSet::from(["HttpApi", "PartnerApi"]));
    let partner = &template["Resources"]["PartnerApi"]["Properties"];
    assert_eq!(
        partner["Auth"]["DefaultAuthorizer"].as_str(),
        Some("AWS_IAM"),
        "PartnerApi's default authorizer"
    );
    let skypay = &template["Resources"]["HttpApi"]["Properties"];
    assert!(
        skypay["Auth"].is_badvalue(),
        "SkyPay's API authenticates in the body; it has no authorizer to fall back on"
    );
    let routes = routes(&template);
    for (function, api, method, path) in &routes {
        let route = format!("{method} {path} -> {function} on {api}");
        if function == "PartnerApiFunction" {
            assert_eq!(api, "PartnerApi", "{route}");
            assert!(path.starts_with("/admin/"), "{route}");
        } else {
            assert_eq!(api, "HttpApi", "{route}");
            assert!(
                !path.starts_with("/admin"),
                "{route}: /admin is never on SkyPay's API"
            );
        }
        // A route on PartnerApi may not opt out of IAM.
        if api == "PartnerApi" {
            let events = template["Resources"][function.as_str()]["Properties"]["Events"]
                .as_hash()
                .unwrap();
            for (_, event) in events {
                assert!(
                    event["Properties"]["Auth"].is_badvalue(),
                    "{route}: a route-level Auth would override IAM"
                );
            }
        }
    }
    assert!(
        routes.iter().any(|(f, ..)| f == "PartnerApiFunction"),
        "partner-api has its routes"
    );
    let skypay_paths: BTreeSet<&str> = routes
        .iter()
        .filter(|(_, api, ..)| api == "HttpApi")
        .map(|(.., path)| path.as_str())
        .collect();
    let expected: BTreeSet<String> = skypay::Action::ALL
        .iter()
        .map(|a| format!("/{}", a.name()))
        .collect();
    assert_eq!(
        skypay_paths,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        "SkyPay's API has exactly the six SkyPay routes"
    );
    // The loan system's policy: execute-api:Invoke on PartnerApi, nothing else.
    let policy = &template["Resources"]["PartnerApiInvokePolicy"]["Properties"]["PolicyDocument"];
    let statements = policy["Statement"].as_vec().expect("statements");
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Action"].as_str(), Some("execute-api:Invoke"));
    let resource = text(&statements[0]["Resource"], "Resource");
    assert!(resource.contains("${PartnerApi}/*"), "{resource}");
    for output in ["PartnerApiUrl", "PartnerApiInvokePolicyArn"] {
        assert!(
            !template["Outputs"][output].is_badvalue(),
            "output {output}"
        );
    }
}

/// ledger-events reads the table's stream with partial batch responses, bisection and an
/// on-failure queue (SPEC 13.5).
#[test]
fn ledger_events_reads_the_stream_safely() {
    let template = template();
    let mapping = &template["Resources"]["LedgerEventsSource"]["Properties"];
    assert_eq!(
        mapping["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
    assert_eq!(mapping["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert!(!mapping["DestinationConfig"]["OnFailure"]["Destination"].is_badvalue());
    assert!(!template["Resources"]["LedgerEventBus"].is_badvalue());
}

/// SPEC 13.6: payout-reconcile runs on two schedules (the payout run at `ReconcileRate`, the
/// daily run after midnight Manila), one run at a time, for at most as long as a run holds the
/// ledger's gate; a failed payout run is not retried by the scheduler (SkyPay's limits: the
/// next run tries again).
#[test]
fn payout_reconcile_runs_on_its_schedules_within_its_gate() {
    let template = template();
    let function = &template["Resources"]["PayoutReconcileFunction"]["Properties"];
    assert_eq!(
        function["Timeout"].as_i64(),
        i64::try_from(skypay::outbound::reconcile::RUN_LIMIT.as_secs()).ok(),
        "the function's timeout is the gate's hold"
    );
    assert_eq!(function["ReservedConcurrentExecutions"].as_i64(), Some(1));
    let events = &function["Events"];
    let schedule = |name: &str| {
        let event = &events[name];
        assert_eq!(event["Type"].as_str(), Some("ScheduleV2"), "{name}");
        let input: serde_json::Value =
            serde_json::from_str(text(&event["Properties"]["Input"], "Input")).unwrap();
        (event["Properties"].clone(), input)
    };
    let (payouts, input) = schedule("Payouts");
    assert_eq!(input, serde_json::json!({"run": "payouts"}));
    assert_eq!(
        payouts["ScheduleExpression"].as_str(),
        Some("ReconcileRate")
    );
    assert_eq!(
        payouts["RetryPolicy"]["MaximumRetryAttempts"].as_i64(),
        Some(0)
    );
    assert_eq!(
        template["Parameters"]["ReconcileRate"]["Default"].as_str(),
        Some("rate(30 minutes)")
    );
    let (daily, input) = schedule("Daily");
    assert_eq!(input, serde_json::json!({"run": "daily"}));
    assert_eq!(
        daily["ScheduleExpressionTimezone"].as_str(),
        Some("Asia/Manila")
    );
    // The alarms read the metrics the runs' log lines carry (shared/src/metrics.rs).
    for (alarm, metric) in [
        ("LowBalanceAlarm", "SkyPayBalance"),
        (
            "ReconciliationDifferencesAlarm",
            "ReconciliationDifferences",
        ),
    ] {
        let props = &template["Resources"][alarm]["Properties"];
        assert_eq!(
            props["Namespace"].as_str(),
            Some(skypay::metrics::NAMESPACE),
            "{alarm}"
        );
        assert_eq!(props["MetricName"].as_str(), Some(metric), "{alarm}");
        assert_eq!(
            props["Dimensions"][0]["Name"].as_str(),
            Some(skypay::metrics::DIMENSION)
        );
        assert_eq!(
            props["Dimensions"][0]["Value"].as_str(),
            Some(skypay::outbound::reconcile::SERVICE)
        );
    }
    assert_eq!(
        template["Resources"]["LowBalanceAlarm"]["Properties"]["Threshold"].as_str(),
        Some("LowBalanceThreshold")
    );
}

/// What `!Sub` does to the dashboard's body, for reading it: every `${Name}` becomes
/// `SUB:Name` (inside a JSON string), and `${LowBalanceThreshold}`, written bare as a number,
/// becomes its default. Returns the body and the names it referred to.
fn substituted(body: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut names = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${...}") + start;
        let name = &rest[start + 2..end];
        if name == "LowBalanceThreshold" {
            out.push_str("500000");
        } else {
            out.push_str(&format!("SUB:{name}"));
        }
        names.push(name.to_owned());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    (out, names)
}

/// The dashboard (issue 12): valid JSON once substituted, referring only to what the template
/// declares; one row per SkyPay endpoint with Lambda's invocations, errors, throttles,
/// concurrency, p50 and p99 duration and the response-code mix from the calls' log lines;
/// then the queues, open pushes, balance, reconciliation, -1009s, anomalies, and every alarm.
#[test]
fn the_dashboard_has_a_row_per_endpoint_and_shows_every_alarm() {
    let template = template();
    let dashboards = resources(&template, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard");
    let body = text(
        &dashboards[0].1["Properties"]["DashboardBody"],
        "DashboardBody",
    );
    let (json_text, names) = substituted(body);
    let declared = |name: &str| {
        let id = name.split('.').next().unwrap_or(name);
        id.starts_with("AWS::")
            || !template["Resources"][id].is_badvalue()
            || !template["Parameters"][id].is_badvalue()
    };
    for name in &names {
        assert!(
            declared(name),
            "the dashboard refers to {name}, which the template lacks"
        );
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&json_text).expect("the dashboard body is JSON");
    let widgets = dashboard["widgets"].as_array().expect("widgets");
    let widget_text: Vec<String> = widgets.iter().map(|w| w.to_string()).collect();
    let with = |needles: &[&str]| {
        widget_text
            .iter()
            .filter(|w| needles.iter().all(|n| w.contains(n)))
            .count()
    };
    for action in skypay::Action::ALL {
        let name = action.name();
        let function = format!("SUB:{}{}Function", name[..1].to_uppercase(), &name[1..]);
        assert!(declared(&function[4..]), "{function}");
        for metrics in [
            &["\"Invocations\"", "\"Errors\"", "\"Throttles\""][..],
            &["\"ConcurrentExecutions\""],
            &["\"Duration\"", "\"p50\"", "\"p99\""],
        ] {
            let mut needles = vec![function.as_str()];
            needles.extend_from_slice(metrics);
            assert_eq!(with(&needles), 1, "{name}: no widget with {needles:?}");
        }
        let codes = format!(r#"MetricName=\"calls\" action=\"{name}\""#);
        assert_eq!(
            with(&["SkyPayGateway,action,responseCode", &codes]),
            1,
            "{name}: no response-code mix"
        );
    }
    for needles in [
        &[
            "SUB:PayoutQueue.QueueName",
            "SUB:PayoutDeadLetterQueue.QueueName",
        ][..],
        &["\"OpenPushedPayouts\""],
        &["\"SkyPayBalance\"", "LowBalanceThreshold"],
        &["\"ReconciliationDifferences\""],
        &["\"ledgerFailures\"", "\"api\"", skypay::metrics::CALL_API],
        &["\"anomalies\"", "ledger-events"],
    ] {
        assert_eq!(with(needles), 1, "no widget with {needles:?}");
    }
    let alarms: BTreeSet<String> = resources(&template, "AWS::CloudWatch::Alarm")
        .iter()
        .map(|(id, _)| format!("SUB:{id}.Arn"))
        .collect();
    assert!(alarms.len() >= 17, "{alarms:?}");
    let shown: BTreeSet<String> = widgets
        .iter()
        .filter(|w| w["type"] == "alarm")
        .flat_map(|w| {
            w["properties"]["alarms"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    assert_eq!(shown, alarms, "the alarm widget lists every alarm");
}

/// The two alarms on the calls' own metrics: the -1009 rate (failures over calls, both over
/// SkyPay's whole API) and the anomalies ledger-events counts, both to the alarm topic.
#[test]
fn the_ledger_failure_rate_and_anomalies_are_alarmed() {
    let template = template();
    let rate = &template["Resources"]["LedgerFailureRateAlarm"]["Properties"];
    let metrics = rate["Metrics"].as_vec().expect("metric math");
    let stat = |id: &str| {
        metrics
            .iter()
            .find(|m| m["Id"].as_str() == Some(id))
            .map(|m| &m["MetricStat"]["Metric"])
            .unwrap_or_else(|| panic!("no {id}"))
    };
    for (id, metric) in [("failures", "ledgerFailures"), ("calls", "calls")] {
        assert_eq!(
            stat(id)["Namespace"].as_str(),
            Some(skypay::metrics::NAMESPACE)
        );
        assert_eq!(stat(id)["MetricName"].as_str(), Some(metric));
        assert_eq!(stat(id)["Dimensions"][0]["Name"].as_str(), Some("api"));
        assert_eq!(
            stat(id)["Dimensions"][0]["Value"].as_str(),
            Some(skypay::metrics::CALL_API)
        );
        assert!(
            skypay::metrics::CALL_METRICS
                .iter()
                .any(|(name, _)| *name == metric),
            "{metric} is not a metric the calls' line carries"
        );
    }
    assert!(metrics.iter().any(|m| {
        m["Expression"]
            .as_str()
            .is_some_and(|e| e.contains("failures / calls"))
    }));
    // The anomalies alarm adds the three places that count them: ledger-events (a payout both
    // paid and closed), the call lines (a pushed payout asked at a counter, SPEC 14.2) and
    // payout-reconcile (a payout SkyPay reported on and no longer lists, SPEC 14.3).
    let anomalies = &template["Resources"]["PayoutAnomaliesAlarm"]["Properties"];
    let counted: BTreeSet<(String, String)> = anomalies["Metrics"]
        .as_vec()
        .expect("metric math")
        .iter()
        .filter(|m| !m["MetricStat"].is_badvalue())
        .map(|m| {
            let metric = &m["MetricStat"]["Metric"];
            assert_eq!(metric["MetricName"].as_str(), Some("anomalies"));
            let dimension = &metric["Dimensions"][0];
            (
                text(&dimension["Name"], "a dimension").to_owned(),
                text(&dimension["Value"], "a dimension").to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("Service", ledger_events::SERVICE),
        ("api", skypay::metrics::CALL_API),
        ("Service", skypay::outbound::reconcile::SERVICE),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(counted, expected);
    for metric in ["anomalies", "authFailures"] {
        assert!(
            skypay::metrics::CALL_METRICS
                .iter()
                .any(|(name, _)| *name == metric),
            "{metric} is not a metric the calls' line carries"
        );
    }
    let auth = &template["Resources"]["AuthFailuresAlarm"]["Properties"];
    assert!(auth["Metrics"].as_vec().unwrap().iter().any(|m| {
        m["Expression"]
            .as_str()
            .is_some_and(|e| e.contains("failures / calls"))
    }));
    let held = &template["Resources"]["PushesHeldAlarm"]["Properties"];
    assert_eq!(held["MetricName"].as_str(), Some("PushesHeld"));
    let invalid = &template["Resources"]["InvalidInstructionsAlarm"]["Properties"];
    assert_eq!(invalid["MetricName"].as_str(), Some("InvalidInstructions"));
    assert_eq!(
        invalid["Dimensions"][0]["Value"].as_str(),
        Some(skypay::outbound::push::SERVICE)
    );
    for alarm in [rate, anomalies, auth, held, invalid] {
        assert_eq!(
            text(&alarm["AlarmActions"][0], "AlarmActions"),
            "AlarmTopic"
        );
    }
}

/// SPEC 14.4 and 14.5: only named callers move money, and no key is readable from
/// configuration.
#[test]
fn only_named_principals_move_money_and_read_the_keys() {
    let template = template();
    let resource = |id: &str| -> &Yaml {
        let r = &template["Resources"][id];
        assert!(!r.is_badvalue(), "template.yaml lacks {id}");
        &r["Properties"]
    };
    // The payout queue: every principal but partner-api and PayoutProducerArns is denied.
    let queue_policy = resource("PayoutQueuePolicy");
    assert_eq!(text(&queue_policy["Queues"][0], "Queues"), "PayoutQueue");
    let deny = &queue_policy["PolicyDocument"]["Statement"][0];
    assert_eq!(deny["Effect"].as_str(), Some("Deny"));
    assert_eq!(deny["Action"].as_str(), Some("sqs:SendMessage"));
    let principals = format!(
        "{:?}",
        deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    );
    for needle in [
        "PartnerApiFunctionRole.Arn",
        "PayoutProducerArns",
        "HasPayoutProducers",
    ] {
        assert!(principals.contains(needle), "{needle}: {principals}");
    }
    // The ledger's bus: only ledger-events puts events on it.
    let bus_policy = resource("LedgerEventBusPolicy");
    let statement = &bus_policy["Statement"];
    assert_eq!(statement["Effect"].as_str(), Some("Deny"));
    assert_eq!(statement["Action"].as_str(), Some("events:PutEvents"));
    assert_eq!(
        statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].as_str(),
        Some("LedgerEventsFunctionRole.Arn")
    );
    // partner-api checks its caller against the parameter.
    let partner_env = &resource("PartnerApiFunction")["Environment"]["Variables"];
    assert!(
        !partner_env[skypay::aws::lambda::Callers::VARIABLE].is_badvalue(),
        "partner-api has no {}",
        skypay::aws::lambda::Callers::VARIABLE
    );
    // Production SkyPay needs AllowedSourceCidrs, unless on purpose.
    let rule = &template["Rules"]["ProductionSkyPayNeedsSourceCidrs"];
    let rule_text = format!("{rule:?}");
    for needle in [
        "api.skypay.ph",
        "AllowedSourceCidrs",
        "AllowAnySkyPaySource",
    ] {
        assert!(rule_text.contains(needle), "{needle}: {rule_text}");
    }
    // https only: every SKYPAY_API_URL is built from the host parameter.
    let functions = resources(&template, "AWS::Serverless::Function");
    for (id, function) in &functions {
        let url = &function["Properties"]["Environment"]["Variables"]["SKYPAY_API_URL"];
        if let Some(url) = url.as_str() {
            assert!(url.starts_with("https://${SkyPayApiHost}/"), "{id}: {url}");
        }
    }
    // The keys: under the customer managed key, which every function's role may only decrypt
    // with, and the account may administer but not use.
    assert_eq!(
        template["Globals"]["Function"]["KmsKeyArn"].as_str(),
        Some("FunctionEnvironmentKey.Arn")
    );
    let key = resource("FunctionEnvironmentKey");
    let statements = key["KeyPolicy"]["Statement"].as_vec().expect("statements");
    let admin = statements
        .iter()
        .find(|s| s["Condition"].is_badvalue())
        .expect("the account's statement");
    for action in admin["Action"].as_vec().unwrap() {
        let action = text(action, "an action");
        assert!(
            ![
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:*",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*"
            ]
            .contains(&action),
            "the account may {action}"
        );
    }
    let decrypters: BTreeSet<String> = statements
        .iter()
        .find(|s| s["Sid"].as_str() == Some("EachFunctionReadsItsEnvironment"))
        .expect("the functions' statement")["Condition"]["ArnEquals"]["aws:PrincipalArn"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|r| text(r, "a role").to_owned())
        .collect();
    let roles: BTreeSet<String> = functions
        .iter()
        .map(|(id, _)| format!("{id}Role.Arn"))
        .collect();
    assert_eq!(decrypters, roles, "every function's role, and no other");
    // ledger-events gets no SkyPay key.
    let events_env = &resource("LedgerEventsFunction")["Environment"]["Variables"];
    for name in ["SKYPAY_AUTH_KEYS", "SKYPAY_ENCRYPTION_KEY"] {
        assert_eq!(events_env[name].as_str(), Some("AWS::NoValue"), "{name}");
    }
}
