"""The local stack: real Kafka, Elasticsearch and Airflow on loopback, started without Docker."""
