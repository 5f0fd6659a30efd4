#ifndef CQRS_CLIBRDKAFKA_SHIM_H
#define CQRS_CLIBRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// Produces one message through the variadic rd_kafka_producev(), which Swift cannot call.
/// The payload and key are copied (RD_KAFKA_MSG_F_COPY). On success librdkafka owns `headers`
/// (which may be NULL); on failure the caller still owns and must destroy them.
/// `partition` is RD_KAFKA_PARTITION_UA (-1) to let the configured partitioner choose.
/// `opaque` is handed back in the delivery report as rkmessage->_private.
static inline rd_kafka_resp_err_t cqrs_produce(rd_kafka_t *rk,
                                               const char *topic,
                                               int32_t partition,
                                               const void *key,
                                               size_t key_len,
                                               const void *value,
                                               size_t value_len,
                                               rd_kafka_headers_t *headers,
                                               void *opaque) {
        if (headers) {
                return rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                    RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        }
        return rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

#endif
