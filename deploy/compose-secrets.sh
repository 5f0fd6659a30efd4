#!/usr/bin/env bash
# Writes the compose stack's secrets into deploy/secrets/ (kept out of git), where
# docker-compose.yml's `secrets:` read them:
#   - a random password for the PostgreSQL admin and for every service role;
#   - a random SCRAM password for every Kafka principal of deploy/kafka/acls.txt (the services and
#     the tools: kafka_<principal, '-' as '_'>_password);
#   - the brokers' admin (super user, SASL/PLAIN): its password, the brokers' JAAS file with it
#     (kafka_server_jaas) and the client properties the Kafka CLI uses with it (kafka_admin_client).
# Existing files are kept, so running it again changes nothing; delete a file to rotate that
# password (and recreate the postgres volume, or ALTER ROLE by hand: the PostgreSQL init script runs
# only on an empty data directory; kafka-setup sets the SCRAM passwords again on every start, the
# brokers read kafka_server_jaas when they start).
#
# The folder is private to you (0700); the files are 0644 because compose bind-mounts them
# into the containers as they are, and the services run as a non-root user there.
# SECRETS_DIR writes elsewhere (the deployment tests use it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${SECRETS_DIR:-$here/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"

write() { # name, content
    if [ ! -s "$dir/$1" ]; then
        (umask 022 && printf '%s' "$2" >"$dir/$1")
        echo "compose-secrets: wrote $dir/$1"
    fi
}
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

for name in postgres order_service payment_service inventory_service notification_service saga_orchestrator; do
    write "${name}_password" "$(random)"
done

principals=$(sed -e 's/#.*//' "$here/kafka/acls.txt" | awk 'NF { print $1 }' | sort -u)
[ -n "$principals" ] || { echo "compose-secrets: deploy/kafka/acls.txt lists no principals" >&2; exit 1; }
for principal in $principals; do
    write "kafka_${principal//-/_}_password" "$(random)"
done

write kafka_admin_password "$(random)"
admin=$(<"$dir/kafka_admin_password")
write kafka_server_jaas "KafkaServer {
    org.apache.kafka.common.security.plain.PlainLoginModule required
        username=\"admin\" password=\"$admin\" user_admin=\"$admin\";
    org.apache.kafka.common.security.scram.ScramLoginModule required;
};
"
write kafka_admin_client "security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$admin\";
"
