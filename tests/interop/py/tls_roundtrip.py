#!/usr/bin/env python3
"""A publish and consume round trip over AMQPS, the way pika's TLS example connects.

usage: tls_roundtrip.py PORT CAFILE|- QUEUE [CERTFILE KEYFILE]

CAFILE "-" trusts only the system's CAs (so a test CA's server certificate is refused);
CERTFILE/KEYFILE present a client certificate. Prints {"event": "received", ...} after the round
trip, or {"event": "failed", "error": ...} (exit 1) when connecting or the round trip fails.
"""
import ssl
import sys

import pika

from common import emit

port, cafile, queue = sys.argv[1:4]
certfile, keyfile = (sys.argv[4:6] + [None, None])[:2]

context = ssl.create_default_context(cafile=None if cafile == '-' else cafile)
if certfile:
    context.load_cert_chain(certfile, keyfile)

params = pika.ConnectionParameters(
    host='127.0.0.1',
    port=int(port),
    credentials=pika.PlainCredentials('guest', 'guest'),
    ssl_options=pika.SSLOptions(context, '127.0.0.1'),
    connection_attempts=1,
    socket_timeout=5,
    blocked_connection_timeout=5,
)
try:
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.queue_declare(queue=queue, auto_delete=True)
    channel.basic_publish(exchange='', routing_key=queue, body='over tls')
    for method, properties, body in channel.consume(queue, inactivity_timeout=5):
        if method is None:
            raise RuntimeError('no delivery within 5 s')
        channel.basic_ack(method.delivery_tag)
        emit('received', body=body.decode('utf-8'), queue=queue)
        break
    channel.cancel()
    connection.close()
except Exception as err:  # noqa: BLE001 (any failure is the test's answer)
    emit('failed', error='%s: %s' % (type(err).__name__, err))
    sys.exit(1)
