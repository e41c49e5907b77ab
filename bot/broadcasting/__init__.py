"""Delivery of notices (群发) through WeChat's mass send, in the scheduler process."""
