/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_PB_JSON_H
#define HF_XDS_PB_JSON_H

/*
 * A protobuf-c message as JSON, the way Envoy's admin prints resources
 * (protobuf's JSON mapping with the proto field names kept, as Envoy's
 * config_dump does): 64-bit integers as strings, enums by name, bytes in
 * base64, Duration as "1.500s", Timestamp in RFC 3339, wrappers as their
 * value, Struct/Value/ListValue as JSON, maps as objects, and an Any as its
 * message with "@type" when the type is one this build knows (else its
 * bytes in base64 under "value").
 */
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON object for @p m; NULL when out of memory. */
json_t *hf_pb_json(const ProtobufCMessage *m);

/* The same with "@type": "type.googleapis.com/<full name>" first (a resource in a dump). */
json_t *hf_pb_json_typed(const ProtobufCMessage *m);

/* base64 (RFC 4648 section 4) of @p n bytes as a new JSON string. */
json_t *hf_json_base64(const uint8_t *p, size_t n);

#endif
