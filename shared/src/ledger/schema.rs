//! The ledger table's schema: the one source of truth for the code that creates the table
//! locally and for `template.yaml` (a test checks that they agree).
//!
//! One table, string keys `pk`/`sk`, on-demand billing, TTL on `ttl`, streams with new and old
//! images. Every read SkyPay's calls cause is by key; reconciliation (SPEC 13.6) reads two
//! sparse global secondary indexes, [`OPEN_PUSHES`] and [`DAILY`]: an item is in one only
//! while it carries the index's key attribute.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

use super::LedgerError;
use aws_sdk_dynamodb::types::TableStatus;
use std::time::Duration;

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
/// Epoch seconds after which DynamoDB may delete the item (SPEC section 8).
pub const TTL_ATTRIBUTE: &str = "ttl";
pub const STREAM_VIEW: &str = "NEW_AND_OLD_IMAGES";
pub const BILLING_MODE: &str = "PAY_PER_REQUEST";

/// The key schema as (attribute, key type, attribute type), in order.
pub const KEYS: [(&str, &str, &str); 2] = [(PARTITION_KEY, "HASH", "S"), (SORT_KEY, "RANGE", "S")];

/// A global secondary index: its name, key attributes (name, DynamoDB type) and the attributes
/// it carries besides the keys (`INCLUDE` projection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub hash: (&'static str, &'static str),
    pub range: Option<(&'static str, &'static str)>,
    pub include: &'static [&'static str],
}

/// The pushed payouts that are not final, oldest push first: `openPush` exists from a pushed
/// payout's registration until it is paid, cancelled, failed or rejected.
pub const OPEN_PUSHES: Index = Index {
    name: "OpenPushes",
    hash: ("openPush", "S"),
    range: Some(("lastPushAt", "N")),
    include: &["controlNumber", "queueStatus", "uploadedAt"],
};

/// A Manila day's payments and receipts: `dailyKey` is `PAID#<day>` on a paid payout and
/// `COLLECTED#<day>` on a receipt.
pub const DAILY: Index = Index {
    name: "Daily",
    hash: ("dailyKey", "S"),
    range: None,
    include: &[
        "controlNumber",
        "contractNumber",
        "receiptNumber",
        "amount",
        "payTime",
        "collectedTime",
        "queueStatus",
    ],
};

pub const INDEXES: [Index; 2] = [OPEN_PUSHES, DAILY];

impl Index {
    fn keys(&self) -> impl Iterator<Item = ((&'static str, &'static str), &'static str)> {
        std::iter::once((self.hash, "HASH")).chain(self.range.map(|r| (r, "RANGE")))
    }

    fn key_schema(&self) -> Result<Vec<KeySchemaElement>, LedgerError> {
        self.keys()
            .map(|((name, _), key_type)| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(KeyType::from(key_type))
                    .build()
                    .map_err(|e| LedgerError::build("KeySchemaElement", &e))
            })
            .collect()
    }

    fn projection(&self) -> Projection {
        Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(self.include.iter().map(|a| (*a).to_owned()).collect()))
            .build()
    }
}

/// Every attribute a key of the table or of an index uses, with its type, once.
fn attribute_definitions() -> Result<Vec<AttributeDefinition>, LedgerError> {
    let mut seen: Vec<(&str, &str)> = KEYS.iter().map(|(n, _, t)| (*n, *t)).collect();
    for index in INDEXES {
        for ((name, attr_type), _) in index.keys() {
            if !seen.iter().any(|(n, _)| *n == name) {
                seen.push((name, attr_type));
            }
        }
    }
    seen.into_iter()
        .map(|(name, attr_type)| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(attr_type))
                .build()
                .map_err(|e| LedgerError::build("AttributeDefinition", &e))
        })
        .collect()
}

/// Whether a table created locally records a stream.
///
/// `template.yaml` always turns the stream on (the loan system follows it). The embedded
/// emulator finds the next stream sequence number with a scan of every record so far, which
/// makes each write slower as the table grows; the local server and the tests, where nobody
/// reads the stream, create the table without it. Nothing the gateway does depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    On,
    Off,
}

/// Creates the table if it does not exist, and turns TTL on. Safe to call at every start.
pub async fn ensure_table(client: &Client, table: &str, stream: Stream) -> Result<(), LedgerError> {
    let exists = match client.describe_table().table_name(table).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => return Err(LedgerError::dynamo("DescribeTable", &e)),
    };
    if !exists {
        let mut create = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::from(BILLING_MODE));
        if stream == Stream::On {
            create = create.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(STREAM_VIEW))
                    .build()
                    .map_err(|e| LedgerError::build("StreamSpecification", &e))?,
            );
        }
        for (name, key_type, _) in KEYS {
            create = create.key_schema(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(KeyType::from(key_type))
                    .build()
                    .map_err(|e| LedgerError::build("KeySchemaElement", &e))?,
            );
        }
        create = create.set_attribute_definitions(Some(attribute_definitions()?));
        for index in INDEXES {
            create = create.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .set_key_schema(Some(index.key_schema()?))
                    .projection(index.projection())
                    .build()
                    .map_err(|e| LedgerError::build("GlobalSecondaryIndex", &e))?,
            );
        }
        match create.send().await {
            Ok(_) => {}
            // Another process created it first.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(LedgerError::dynamo("CreateTable", &e)),
        }
        wait_until_active(client, table).await?;
    } else {
        add_missing_indexes(client, table).await?;
    }
    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(|e| LedgerError::build("TimeToLiveSpecification", &e))?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(()),
        // "TimeToLive is already enabled": DynamoDB refuses to set it twice.
        Err(e)
            if e.as_service_error()
                .and_then(|s| s.meta().message())
                .is_some_and(|m| m.to_ascii_lowercase().contains("already enabled")) =>
        {
            Ok(())
        }
        Err(e) => Err(LedgerError::dynamo("UpdateTimeToLive", &e)),
    }
}

/// The item that marks a table as a skypay ledger, written when the local server creates it:
/// `skypay-local` refuses to adopt a data file without it (an empty or foreign file would
/// otherwise pass for an empty ledger, and acknowledged cash be taken again).
pub const MARK_PK: &str = "LEDGER";
pub const MARK_SK: &str = "MARK";
/// The ledger format the mark names.
pub const MARK_FORMAT: &str = "skypay-ledger/1";

fn mark_key() -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    std::collections::HashMap::from([
        (
            PARTITION_KEY.to_owned(),
            AttributeValue::S(MARK_PK.to_owned()),
        ),
        (SORT_KEY.to_owned(), AttributeValue::S(MARK_SK.to_owned())),
    ])
}

/// Whether `table` exists and carries the ledger mark (one strongly consistent read).
pub async fn is_marked(client: &Client, table: &str) -> Result<bool, LedgerError> {
    let found = client
        .get_item()
        .table_name(table)
        .set_key(Some(mark_key()))
        .consistent_read(true)
        .send()
        .await;
    match found {
        Ok(out) => Ok(out.item().is_some_and(|item| {
            matches!(item.get("format"), Some(aws_sdk_dynamodb::types::AttributeValue::S(f)) if f == MARK_FORMAT)
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(LedgerError::dynamo("GetItem", &e)),
    }
}

/// Writes the mark (idempotent: an existing mark is kept as it is).
pub async fn mark(client: &Client, table: &str, now: &str) -> Result<(), LedgerError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut item = mark_key();
    item.insert(
        "kind".to_owned(),
        AttributeValue::S("ledgerMark".to_owned()),
    );
    item.insert(
        "format".to_owned(),
        AttributeValue::S(MARK_FORMAT.to_owned()),
    );
    item.insert("createdAt".to_owned(), AttributeValue::S(now.to_owned()));
    let result = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(LedgerError::dynamo("PutItem", &e)),
    }
}

/// A write that proves the ledger takes writes again (the local server's `/healthz`, at most
/// every few seconds and only while the last write had failed): the mark's `probedAt`.
pub async fn probe_write(client: &Client, table: &str, now: &str) -> Result<(), LedgerError> {
    client
        .update_item()
        .table_name(table)
        .set_key(Some(mark_key()))
        .update_expression("SET probedAt = :now")
        .expression_attribute_values(
            ":now",
            aws_sdk_dynamodb::types::AttributeValue::S(now.to_owned()),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| LedgerError::dynamo("UpdateItem", &e))
}

/// A table made before an index existed (a local ledger file) gets it, one index per
/// `UpdateTable` as DynamoDB requires; existing items are indexed as DynamoDB backfills.
async fn add_missing_indexes(client: &Client, table: &str) -> Result<(), LedgerError> {
    for index in INDEXES {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("DescribeTable", &e))?;
        let present = described
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .any(|i| i.index_name() == Some(index.name));
        if present {
            continue;
        }
        let create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(index.name)
            .set_key_schema(Some(index.key_schema()?))
            .projection(index.projection())
            .build()
            .map_err(|e| LedgerError::build("CreateGlobalSecondaryIndexAction", &e))?;
        client
            .update_table()
            .table_name(table)
            .set_attribute_definitions(Some(attribute_definitions()?))
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder().create(create).build(),
            )
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("UpdateTable", &e))?;
        wait_until_active(client, table).await?;
    }
    Ok(())
}

/// Real DynamoDB creates tables and indexes asynchronously; emulators are ACTIVE at once.
async fn wait_until_active(client: &Client, table: &str) -> Result<(), LedgerError> {
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("DescribeTable", &e))?;
        let table_active =
            described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active);
        let indexes_active = described
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active));
        if table_active && indexes_active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(LedgerError::Dynamo {
        operation: "DescribeTable",
        message: format!("the table {table} did not become ACTIVE within a minute"),
    })
}
