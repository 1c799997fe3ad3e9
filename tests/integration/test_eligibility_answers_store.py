"""Eligibility answers kept for a day in DynamoDB (ELIGANSWER#<hash> / DAY#<date>), on moto."""

from __future__ import annotations

from datetime import date

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.eligibility import EligibilityResult
from medbill.workflow import eligibility_cache


def test_an_answer_is_kept_for_its_day_under_a_hashed_key(aws: LocalResources) -> None:
    repo = wiring.repository()
    key = eligibility_cache.answer_key("PAYERA01", "ACM100200301", date(2026, 11, 18))
    record = eligibility_cache.to_record(EligibilityResult(False, "coverage_inactive", plan="SILVER"))
    assert repo.cached_eligibility(key, "2026-11-17") is None
    repo.cache_eligibility(key, "2026-11-17", record)
    assert repo.cached_eligibility(key, "2026-11-17") == record
    assert repo.cached_eligibility(key, "2026-11-18") is None
    item = repo._client.get_item(
        TableName=repo.table_name, Key={"pk": {"S": f"ELIGANSWER#{key}"}, "sk": {"S": "DAY#2026-11-17"}}
    )["Item"]
    assert item["expires_at"] == {"N": "1795046400"}  # 2026-11-19T00:00Z
    assert "ACM100200301" not in str(item)
