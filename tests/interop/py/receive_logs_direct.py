#!/usr/bin/env python3
"""Tutorial 4, routing: an exclusive queue bound to a direct exchange once per severity.

usage: receive_logs_direct.py URL EXCHANGE COUNT TIMEOUT SEVERITY [SEVERITY ...]
"""
import sys

import pika

from common import Bounded, delivery, emit

url, exchange, count, timeout = sys.argv[1:5]
severities = sys.argv[5:]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange=exchange, exchange_type='direct')
result = channel.queue_declare(queue='', exclusive=True)
queue_name = result.method.queue
for severity in severities:
    channel.queue_bind(exchange=exchange, queue=queue_name, routing_key=severity)
bounded = Bounded(connection, channel, count, timeout)


def callback(ch, method, properties, body):
    emit('message', **delivery(method, properties, body))
    bounded.tick()


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
emit('ready', queue=queue_name, bindings=severities)
channel.start_consuming()
bounded.done()
connection.close()
