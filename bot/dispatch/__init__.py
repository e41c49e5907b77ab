"""From an inbound message to its reply: the dispatcher and the message parser it uses."""
