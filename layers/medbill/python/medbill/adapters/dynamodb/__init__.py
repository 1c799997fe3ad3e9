"""The DynamoDB adapter: claims, ledgers, ERAs and work items in the single table."""
