"""Shared bits for the tutorial scripts: JSON-lines output and bounded consuming.

Every script prints one JSON object per line on stdout, each with an "event" field, so the Deno
test can follow along. Consumers print {"event": "ready"} once basic_consume has returned (their
queue is declared, bound and consuming) and {"event": "done"} when they stop.
"""
import json


def emit(event, **fields):
    print(json.dumps(dict(event=event, **fields)), flush=True)


def delivery(method, properties, body, **extra):
    """The fields of one delivery worth reporting."""
    return dict(
        body=body.decode('utf-8'),
        routing_key=method.routing_key,
        exchange=method.exchange,
        redelivered=method.redelivered,
        delivery_mode=properties.delivery_mode,
        **extra,
    )


class Bounded:
    """Makes channel.start_consuming() return after `count` deliveries (0 = unlimited) or
    after `timeout` seconds, whichever comes first."""

    def __init__(self, connection, channel, count, timeout):
        self.channel = channel
        self.count = int(count)
        self.received = 0
        self.timed_out = False
        connection.call_later(float(timeout), self._on_timeout)

    def _on_timeout(self):
        self.timed_out = True
        self.channel.stop_consuming()

    def tick(self):
        self.received += 1
        if self.count and self.received >= self.count:
            self.channel.stop_consuming()

    def done(self):
        emit('done', received=self.received, timed_out=self.timed_out)
