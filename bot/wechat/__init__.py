"""WeChat itself: the webhook protocol, the API client, and outbound delivery of the outbox."""
