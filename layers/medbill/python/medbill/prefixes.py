"""S3 key prefixes in the data bucket. The one definition: infra.config re-exports these."""

ENCOUNTERS_PREFIX = "encounters/"  # clinics drop encounter files here
REJECTIONS_PREFIX = "rejections/"  # one JSON report per source file with bad records
OUTBOX_270_PREFIX = "outbox/270/"  # 270 eligibility batches (workflow/eligibility_files.py)
OUTBOX_837_PREFIX = "outbox/837/"  # 837P files for the clearinghouse to pick up
OUTBOX_276_PREFIX = "outbox/276/"  # 276 claim status inquiries (workflow/claim_status.py)
# Every outbox the clearinghouse exchange sends from (S3Outbox), in this order. One tuple: each new
# kind of file we send (270 batches, ...) is one more entry here.
OUTBOX_PREFIXES = (OUTBOX_837_PREFIX, OUTBOX_276_PREFIX, OUTBOX_270_PREFIX)
ERA_PREFIX = "era/"  # clearinghouse drops 835 ERA files here
ACKS_PREFIX = "acks/"  # every acknowledgement below it notifies the acks queue (functions/acks)
ACK_999_PREFIX = "acks/999/"  # 999 implementation acknowledgements
ACK_277CA_PREFIX = "acks/277ca/"  # 277CA claim acknowledgements
ERA_REPORTS_PREFIX = "era-reports/"  # posting report per ERA file (unmatched claims, problems)
# A big ERA file's posting messages, in chunks, while its fan-out runs (billing/era_fanout.py).
ERA_WORK_PREFIX = "era-work/"
# Clearinghouse exchange (workflow/clearinghouse.py): answers other than 999/277CA/835, by content.
STATUS_277_PREFIX = "status/277/"  # 277 claim status responses (005010X212)
ELIGIBILITY_271_PREFIX = "eligibility/271/"  # 271 eligibility responses from batch 270s (005010X279A1)
# Batch eligibility (docs/eligibility.md): clinics drop tomorrow's appointments; the batch ledger
# keeps each file's reserved control number, each 270's manifest (what it asked, by trace: PHI, same
# bucket as encounters) and the files done; each 271 read gets a report (counts and codes).
APPOINTMENTS_PREFIX = "appointments/"
ELIGIBILITY_BATCH_LEDGER_PREFIX = "eligibility/batches/"
ELIGIBILITY_REPORTS_PREFIX = "eligibility/reports/"
CLEARINGHOUSE_QUARANTINE_PREFIX = "quarantine/clearinghouse/"  # files we could not classify, each with a report
EXCHANGE_LEDGER_PREFIX = "exchange-ledger/"  # one record per file sent or fetched (written once)
# Clinic profiles (docs/ehr-intake.md): config/clinics/<clinic_id>.json, read by intake and the API.
CLINIC_PROFILES_PREFIX = "config/clinics/"
# FHIR Bundles posted to the staff API (POST /fhir/Bundle), kept like encounter files: the claims'
# source key. Not under encounters/: intake is not notified of them (the API bills them itself).
FHIR_API_PREFIX = "fhir/bundles/"
