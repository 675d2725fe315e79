#!/usr/bin/env python3
"""Tutorial 3, publish/subscribe: an exclusive server-named queue bound to a fanout exchange.

usage: receive_logs.py URL EXCHANGE COUNT TIMEOUT
"""
import sys

import pika

from common import Bounded, delivery, emit

url, exchange, count, timeout = sys.argv[1:5]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange=exchange, exchange_type='fanout')
result = channel.queue_declare(queue='', exclusive=True)
queue_name = result.method.queue
channel.queue_bind(exchange=exchange, queue=queue_name)
bounded = Bounded(connection, channel, count, timeout)


def callback(ch, method, properties, body):
    emit('message', **delivery(method, properties, body))
    bounded.tick()


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
emit('ready', queue=queue_name)
channel.start_consuming()
bounded.done()
connection.close()
