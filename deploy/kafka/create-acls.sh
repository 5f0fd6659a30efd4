#!/usr/bin/env bash
# Grants the Kafka access plan on the compose stack's secured cluster (SASL/SCRAM, KRaft's
# StandardAuthorizer, no access without an ACL). Run by `kafka-setup` after create-topics.sh;
# safe to run again at any time.
#
#   - a SCRAM-SHA-512 user for every principal of the ACL list, with the password of its secret
#     file SECRETS_DIR/kafka_<principal, '-' as '_'>_password (deploy/compose-secrets.sh writes them);
#   - every line of the ACL list (deploy/kafka/acls.txt: "principal operation resource-type
#     pattern-type name", rendered from Shared/Contracts/KafkaAccessPlan.swift) as an ALLOW ACL.
#
# It only adds: a grant removed from the plan stays on a running cluster until removed by hand
# (kafka-acls.sh --remove ...) or the cluster's volumes are recreated.
#
# Settings (environment): BOOTSTRAP_SERVERS (kafka-1:9092,kafka-2:9092,kafka-3:9092), ACLS_FILE
# (/opt/cqrs/acls.txt), KAFKA_BIN (/opt/kafka/bin), COMMAND_CONFIG (the admin's client properties,
# required), SECRETS_DIR (/run/secrets), SCRAM_ITERATIONS (8192).
# DRY_RUN=1 prints the kafka-configs/kafka-acls commands instead of running them, with each password
# replaced by the name of its file (the deployment tests check the plan against the list with it).
set -euo pipefail

BOOTSTRAP_SERVERS=${BOOTSTRAP_SERVERS:-kafka-1:9092,kafka-2:9092,kafka-3:9092}
ACLS_FILE=${ACLS_FILE:-/opt/cqrs/acls.txt}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
SCRAM_ITERATIONS=${SCRAM_ITERATIONS:-8192}
DRY_RUN=${DRY_RUN:-0}

log() { echo "create-acls: $*" >&2; }

[ -n "${COMMAND_CONFIG:-}" ] || { log "COMMAND_CONFIG (the admin's client properties) is not set"; exit 1; }
[ -r "$ACLS_FILE" ] || { log "cannot read the ACL list $ACLS_FILE"; exit 1; }

principals=()
bindings=()
line_number=0
while IFS= read -r line || [ -n "$line" ]; do
    line_number=$((line_number + 1))
    line=${line%%#*}
    read -r principal operation resource pattern name extra <<<"$line" || true
    [ -z "${principal:-}" ] && continue
    if [ -n "${extra:-}" ] || [ -z "${name:-}" ] || ! [[ "$operation" =~ ^(READ|WRITE)$ ]] \
        || ! [[ "$resource" =~ ^(topic|group)$ ]] || ! [[ "$pattern" =~ ^(literal|prefixed)$ ]]; then
        log "$ACLS_FILE:$line_number: expected 'principal READ|WRITE topic|group literal|prefixed name', got '$line'"
        exit 1
    fi
    case " ${principals[*]:-} " in *" $principal "*) ;; *) principals+=("$principal") ;; esac
    bindings+=("$principal $operation $resource $pattern $name")
done <"$ACLS_FILE"
[ ${#bindings[@]} -gt 0 ] || { log "$ACLS_FILE lists no ACLs"; exit 1; }

for principal in "${principals[@]}"; do
    file="$SECRETS_DIR/kafka_${principal//-/_}_password"
    if [ "$DRY_RUN" = 1 ]; then
        password="<$file>"
    else
        [ -s "$file" ] || { log "no password for $principal: $file is missing or empty"; exit 1; }
        password=$(<"$file")
    fi
    command=("$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" --command-config "$COMMAND_CONFIG"
        --alter --entity-type users --entity-name "$principal"
        --add-config "SCRAM-SHA-512=[iterations=$SCRAM_ITERATIONS,password=$password]")
    if [ "$DRY_RUN" = 1 ]; then echo "${command[*]}"; else "${command[@]}" >/dev/null; log "SCRAM user $principal"; fi
done

for binding in "${bindings[@]}"; do
    read -r principal operation resource pattern name <<<"$binding"
    command=("$KAFKA_BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" --command-config "$COMMAND_CONFIG"
        --add --allow-principal "User:$principal" --operation "$operation" "--$resource" "$name"
        --resource-pattern-type "$pattern")
    if [ "$DRY_RUN" = 1 ]; then echo "${command[*]}"; else "${command[@]}" >/dev/null; fi
done
if [ "$DRY_RUN" = 1 ]; then
    log "planned ${#principals[@]} users and ${#bindings[@]} ACLs"
else
    log "${#principals[@]} users and ${#bindings[@]} ACLs are in place"
fi
