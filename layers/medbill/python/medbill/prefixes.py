"""S3 key prefixes in the data bucket. The one definition: infra/config.py re-exports these."""

ENCOUNTERS_PREFIX = "encounters/"  # clinics drop encounter files here
REJECTIONS_PREFIX = "rejections/"  # one JSON report per source file with bad records
OUTBOX_837_PREFIX = "outbox/837/"  # 837P files for the clearinghouse to pick up
ERA_PREFIX = "era/"  # clearinghouse drops 835 ERA files here
ACK_999_PREFIX = "acks/999/"  # 999 implementation acknowledgements
ACK_277CA_PREFIX = "acks/277ca/"  # 277CA claim acknowledgements
ERA_REPORTS_PREFIX = "era-reports/"  # posting report per ERA file (unmatched claims, problems)
