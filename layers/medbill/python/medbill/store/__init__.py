"""Data access: the DynamoDB repository and the S3 artifact store (the only boto3 users with gateways/)."""
