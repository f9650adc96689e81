#!/usr/bin/env bash
# test_xds_sds.sh over incremental xDS (DeltaAggregatedResources): the secrets subscribed and
# unsubscribed by name in delta requests, the same checks.
XDS_SDS_OPTIONS='api_type = "DELTA_GRPC";' exec "$(dirname "$0")/test_xds_sds.sh"
