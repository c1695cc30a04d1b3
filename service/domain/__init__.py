"""The service's domain: job life cycle, typed records, the training configuration, errors."""
