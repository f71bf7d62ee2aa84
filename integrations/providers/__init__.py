"""One package per platform; IntegrationsConfig.ready imports each one's connector module,
which registers it with integrations.registry."""
