"""The HTTP server: the application factory, the /wechat webhook and /healthz."""
