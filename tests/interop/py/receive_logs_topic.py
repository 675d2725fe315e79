#!/usr/bin/env python3
"""Tutorial 5, topics: an exclusive queue bound to a topic exchange once per binding key.

usage: receive_logs_topic.py URL EXCHANGE COUNT TIMEOUT BINDING_KEY [BINDING_KEY ...]
"""
import sys

import pika

from common import Bounded, delivery, emit

url, exchange, count, timeout = sys.argv[1:5]
binding_keys = sys.argv[5:]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange=exchange, exchange_type='topic')
result = channel.queue_declare(queue='', exclusive=True)
queue_name = result.method.queue
for binding_key in binding_keys:
    channel.queue_bind(exchange=exchange, queue=queue_name, routing_key=binding_key)
bounded = Bounded(connection, channel, count, timeout)


def callback(ch, method, properties, body):
    emit('message', **delivery(method, properties, body))
    bounded.tick()


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
emit('ready', queue=queue_name, bindings=binding_keys)
channel.start_consuming()
bounded.done()
connection.close()
