#!/usr/bin/env bash
# Creates every topic of the topic list on a real Kafka cluster, and makes the configuration of
# topics that already exist converge. Run once per `docker compose up` by the `kafka-setup`
# service (the services start only after it exits 0); safe to run again at any time.
#
#   - partitions from the list (deploy/topics.txt, the same list the development broker uses);
#     an existing topic with another partition count is an error, never silently accepted:
#     co-partitioning (orders.events with sagas.replies, ...) depends on the counts;
#   - replication factor REPLICATION_FACTOR (3) and min.insync.replicas MIN_INSYNC_REPLICAS (2):
#     with acks=all a write survives the loss of one broker, and producers stop (rather than
#     losing data) when two are gone;
#   - retention: *.events topics are the source of truth and are kept forever (retention.ms=-1);
#     command and reply topics expire after COMMAND_RETENTION_MS (7 days), dead-letter topics
#     (*.dlq) after DLQ_RETENTION_MS (14 days: time to inspect and re-drive).
#
# Settings (environment): BOOTSTRAP_SERVERS (kafka-1:9092,kafka-2:9092,kafka-3:9092), TOPICS_FILE
# (/opt/cqrs/topics.txt), KAFKA_BIN (/opt/kafka/bin), REPLICATION_FACTOR, MIN_INSYNC_REPLICAS,
# COMMAND_RETENTION_MS, DLQ_RETENTION_MS, WAIT_SECONDS (180: how long to wait for the brokers).
# COMMAND_CONFIG: a client properties file for the Kafka CLI (the admin's SASL settings on the
# compose stack's secured brokers); unset: none.
# DRY_RUN=1 prints the kafka-topics/kafka-configs commands instead of running them (the
# deployment tests use it to check the plan against the topic list without a broker).
set -euo pipefail

BOOTSTRAP_SERVERS=${BOOTSTRAP_SERVERS:-kafka-1:9092,kafka-2:9092,kafka-3:9092}
TOPICS_FILE=${TOPICS_FILE:-/opt/cqrs/topics.txt}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
REPLICATION_FACTOR=${REPLICATION_FACTOR:-3}
MIN_INSYNC_REPLICAS=${MIN_INSYNC_REPLICAS:-2}
COMMAND_RETENTION_MS=${COMMAND_RETENTION_MS:-604800000}
DLQ_RETENTION_MS=${DLQ_RETENTION_MS:-1209600000}
WAIT_SECONDS=${WAIT_SECONDS:-180}
DRY_RUN=${DRY_RUN:-0}
admin=()
if [ -n "${COMMAND_CONFIG:-}" ]; then admin=(--command-config "$COMMAND_CONFIG"); fi

log() { echo "create-topics: $*" >&2; }

run() {
    if [ "$DRY_RUN" = 1 ]; then
        echo "$*"
    else
        "$@"
    fi
}

retention_for() {
    case "$1" in
        *.dlq) echo "$DLQ_RETENTION_MS" ;;
        *.events) echo "-1" ;;
        *) echo "$COMMAND_RETENTION_MS" ;;
    esac
}

[ -r "$TOPICS_FILE" ] || { log "cannot read the topic list $TOPICS_FILE"; exit 1; }

# The list: one "name partitions" pair per line; '#' starts a comment.
names=()
counts=()
line_number=0
while IFS= read -r line || [ -n "$line" ]; do
    line_number=$((line_number + 1))
    line=${line%%#*}
    read -r name partitions extra <<<"$line" || true
    [ -z "${name:-}" ] && continue
    if [ -n "${extra:-}" ] || ! [[ "${partitions:-}" =~ ^[1-9][0-9]*$ ]]; then
        log "$TOPICS_FILE:$line_number: expected 'name partitions', got '$line'"
        exit 1
    fi
    names+=("$name")
    counts+=("$partitions")
done <"$TOPICS_FILE"
[ ${#names[@]} -gt 0 ] || { log "$TOPICS_FILE lists no topics"; exit 1; }

if [ "$DRY_RUN" != 1 ]; then
    log "waiting for the brokers ($BOOTSTRAP_SERVERS)..."
    deadline=$((SECONDS + WAIT_SECONDS))
    # Every broker must be registered, or a replication factor of 3 cannot be placed.
    until brokers=$("$KAFKA_BIN/kafka-broker-api-versions.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" "${admin[@]}" 2>/dev/null \
        | grep -c '(id: [0-9]*') && [ "$brokers" -ge "$REPLICATION_FACTOR" ]; do
        if [ $SECONDS -ge $deadline ]; then
            log "fewer than $REPLICATION_FACTOR brokers answered within ${WAIT_SECONDS}s"
            exit 1
        fi
        sleep 3
    done
    log "$brokers brokers are up"
fi

for i in "${!names[@]}"; do
    name=${names[$i]}
    partitions=${counts[$i]}
    retention=$(retention_for "$name")
    run "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" "${admin[@]}" --create --if-not-exists \
        --topic "$name" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" \
        --config "min.insync.replicas=$MIN_INSYNC_REPLICAS" --config "retention.ms=$retention"
    # A topic that existed before keeps its old settings under --if-not-exists: set them again.
    run "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" "${admin[@]}" --entity-type topics \
        --entity-name "$name" --alter --add-config "min.insync.replicas=$MIN_INSYNC_REPLICAS,retention.ms=$retention"
    if [ "$DRY_RUN" != 1 ]; then
        actual=$("$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" "${admin[@]}" --describe --topic "$name" \
            | grep -o 'PartitionCount: *[0-9]*' | grep -o '[0-9]*$' | head -n 1)
        if [ "$actual" != "$partitions" ]; then
            log "topic $name has ${actual:-no} partitions, the list says $partitions; fix the cluster or the list"
            exit 1
        fi
        log "$name: $partitions partitions, replication factor $REPLICATION_FACTOR, retention.ms=$retention"
    fi
done
if [ "$DRY_RUN" = 1 ]; then log "planned ${#names[@]} topics"; else log "all ${#names[@]} topics are in place"; fi
