//! The embedded emulator's stream records, as Lambda hands them to a function: the ledger-events
//! tests map real DynamoDB stream record JSON, from the same writes production makes.

use serde_json::{Value, json};

/// Every record of `table`'s stream so far, in order, each as the record of a Lambda DynamoDB
/// event (the stream record's JSON, with `eventSourceARN`).
pub fn records(db: &dynoxide::Database, table: &str) -> Vec<Value> {
    use dynoxide::actions::{describe_stream, get_records, get_shard_iterator, list_streams};
    let streams = db
        .list_streams(list_streams::ListStreamsRequest {
            table_name: Some(table.to_owned()),
            ..Default::default()
        })
        .expect("ListStreams");
    let mut out = Vec::new();
    for stream in streams.streams {
        let described = db
            .describe_stream(describe_stream::DescribeStreamRequest {
                stream_arn: stream.stream_arn.clone(),
                ..Default::default()
            })
            .expect("DescribeStream");
        for shard in described.stream_description.shards {
            let mut iterator = db
                .get_shard_iterator(get_shard_iterator::GetShardIteratorRequest {
                    stream_arn: stream.stream_arn.clone(),
                    shard_id: shard.shard_id.clone(),
                    shard_iterator_type: "TRIM_HORIZON".to_owned(),
                    sequence_number: None,
                })
                .expect("GetShardIterator")
                .shard_iterator;
            // Bounded: a page per call, and a stream of a test holds a few hundred records.
            for _ in 0..1000 {
                let Some(it) = iterator.take() else { break };
                let page = db
                    .get_records(get_records::GetRecordsRequest {
                        shard_iterator: it,
                        limit: Some(1000),
                    })
                    .expect("GetRecords");
                if page.records.is_empty() {
                    break;
                }
                for record in &page.records {
                    let mut value = serde_json::to_value(record).expect("a record");
                    value["eventSourceARN"] = json!(stream.stream_arn);
                    out.push(value);
                }
                iterator = page.next_shard_iterator;
            }
        }
    }
    out
}

/// A Lambda DynamoDB stream event of these records.
pub fn event(records: &[Value]) -> Value {
    json!({ "Records": records })
}
