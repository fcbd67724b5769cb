"""The database bootstrap function's package (shipped to AWS Lambda as it is: `handler.py`, `rds-ca-roots.pem`)."""
