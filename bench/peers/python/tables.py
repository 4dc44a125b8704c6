"""Creates the Powertools idempotency table (partition key `id`, TTL `expiration`) in a
DynamoDB-compatible endpoint, for bench/run.sh. Usage: tables.py ENDPOINT TABLE"""

import sys

import boto3


def main() -> None:
    endpoint, table = sys.argv[1], sys.argv[2]
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except client.exceptions.ResourceInUseException:
        pass
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    try:
        client.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
    except client.exceptions.ClientError:
        pass  # an emulator without TTL: expiry does not matter for a benchmark run


if __name__ == "__main__":
    main()
