"""Outside parties: automation platforms, the tenant's upstream product, channels."""
