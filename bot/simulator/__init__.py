"""A WeChat simulator: a stand-in for WeChat's API and a pusher that sends to the webhook."""
