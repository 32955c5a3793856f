"""The notifier: reads new audit events (the outbox) after commit and turns them into emails and webhook
deliveries, each a row of its own with attempts and retries. Nothing below diagnostics imports it."""
