#!/usr/bin/env python3
"""Tutorial 1, "Hello World!" consumer (auto-ack).

usage: receive.py URL QUEUE COUNT TIMEOUT
"""
import sys

import pika

from common import Bounded, delivery, emit

url, queue, count, timeout = sys.argv[1:5]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue=queue)
bounded = Bounded(connection, channel, count, timeout)


def callback(ch, method, properties, body):
    emit('message', **delivery(method, properties, body))
    bounded.tick()


channel.basic_consume(queue=queue, on_message_callback=callback, auto_ack=True)
emit('ready', queue=queue)
channel.start_consuming()
bounded.done()
connection.close()
