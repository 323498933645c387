"""Who a request is: credentials besides dc-sim's own tokens (JWTs from an identity provider)."""
