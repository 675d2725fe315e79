#!/usr/bin/env python3
"""kombu (py-amqp transport) logging in with AMQPLAIN: publishes two messages with headers
through a SimpleQueue, reads the first with basic.get (get_nowait) and the second through a
consumer (blocking get), then deletes the queue and its exchange. Finally tries an AMQPLAIN login
with a wrong password, which must be refused.

usage: kombu_roundtrip.py URL QUEUE
"""
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from kombu import Connection

from common import emit

url, name = sys.argv[1:3]
HEADERS = {
    'x-str': 'text',
    'x-int': 42,
    'x-neg': -7,
    'x-big': 2 ** 40,
    'x-bool': True,
    'x-float': 1.5,
    'x-list': [1, 'two', False],
    'x-table': {'nested': 'yes', 'n': 3},
}


def report(how, message):
    emit('message', how=how, payload=message.payload, headers=message.headers,
         content_type=message.content_type, redelivered=message.delivery_info['redelivered'])
    message.ack()


with Connection(url, login_method='AMQPLAIN', connect_timeout=5) as conn:
    conn.connect()
    amqp_conn = conn.connection
    emit('connected', mechanism=amqp_conn.authentication[0].mechanism.decode(),
         server_mechanisms=[m.decode() for m in amqp_conn.mechanisms],
         product=str(amqp_conn.server_properties.get('product')))
    queue = conn.SimpleQueue(name)
    queue.put({'hello': 'kombu', 'n': 1}, headers=HEADERS, serializer='json')
    queue.put({'hello': 'kombu', 'n': 2}, headers=HEADERS, serializer='json')

    deadline = time.monotonic() + 5
    while True:
        try:
            report('basic.get', queue.get_nowait())
            break
        except queue.Empty:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    report('basic.consume', queue.get(block=True, timeout=5))

    queue.close()  # cancels the consumer, so deleting the queue does not cancel it under us
    emit('deleted', message_count=queue.queue.delete())
    queue.queue.exchange.delete()

parts = urlsplit(url)
bad_url = urlunsplit(parts._replace(netloc='guest:wrong-password@%s:%s' % (parts.hostname,
                                                                            parts.port)))
try:
    with Connection(bad_url, login_method='AMQPLAIN', connect_timeout=5) as bad:
        bad.connect()
    emit('bad_login', error=None)
except Exception as e:  # noqa: BLE001 - the test wants whatever was raised
    emit('bad_login', error=type(e).__name__, message=str(e))
